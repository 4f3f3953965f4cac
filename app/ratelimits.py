"""Keys that rate limits count by."""

from flask_login import current_user

from app.extensions import remote_address


def user_or_address() -> str:
    """The signed-in user's id, so one player's limit follows them across addresses."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{remote_address()}"
