"""Creating players and checking their passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import User
from app.services import sessions

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
MIN_PASSWORD_LENGTH = 10


def password_hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"]
    )


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def password_problems(password: str, username: str, email: str) -> list[str]:
    """Why a password is too weak to accept (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(set(password)) < 4:
        problems.append("Use more than three different characters.")
    lowered = password.lower()
    if (username and username in lowered) or (email and lowered == email):
        problems.append("Do not use your user name or email address in your password.")
    if not is_storable(password):
        problems.append("Use printable characters only.")
    return problems


def validate_new_user(username: str, email: str, password: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if not USERNAME_PATTERN.match(username):
        fields["username"] = [
            "Use 3 to 32 letters, digits, dots, dashes or underscores, starting with a letter "
            "or digit."
        ]
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        fields["email"] = ["Enter a valid email address."]
    problems = password_problems(password or "", username, email)
    if problems:
        fields["password"] = problems
    return fields


def create_user(username: str, email: str, password: str, *, is_admin: bool = False) -> User:
    """Create a player (or an admin); raises ValidationFailed or Conflict(username/email taken)."""
    username, email = normalize_username(username), normalize_email(email)
    fields = validate_new_user(username, email, password)
    if fields:
        raise ValidationFailed("Some fields are not valid.", fields=fields)
    taken = db.session.execute(
        select(User.username, User.email).where(or_(User.username == username, User.email == email))
    ).first()
    if taken is not None:
        raise taken_conflict(username if taken.username == username else None)
    user = User(
        username=username,
        email=email,
        password_hash=password_hasher().hash(password),
        is_admin=is_admin,
        total_xp=0,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent registration took the name or address between our check and insert.
        db.session.rollback()
        raise taken_conflict(None) from None
    return user


def taken_conflict(username: str | None) -> Conflict:
    if username is not None:
        return Conflict(
            "That user name is taken.",
            code="username_taken",
            fields={"username": ["That user name is taken."]},
        )
    return Conflict(
        "That user name or email address is already registered.",
        code="account_exists",
        fields={"email": ["That user name or email address is already registered."]},
    )


def find_account(login: str) -> User | None:
    """The user whose name or email is `login` (either spelling is the same account)."""
    key = (login or "").strip().lower()
    if not key or not is_storable(key):
        return None
    return db.session.execute(
        select(User).where(or_(User.username == key, User.email == key))
    ).scalar_one_or_none()


def check_password(user: User | None, password: str) -> bool:
    """True when `password` is the user's; rehashes it when the cost settings changed."""
    hasher = password_hasher()
    if user is None or not is_storable(password or ""):
        # Spend the same effort as a real check so timing does not reveal which names exist.
        hasher.hash(password or "-")
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return True


def authenticate(login: str, password: str) -> User | None:
    """The user whose name or email is `login` when `password` matches it, else None."""
    user = find_account(login)
    return user if check_password(user, password) else None


def change_password(user_id: int, current_password: str, new_password: str) -> User:
    """Set a new password and end every session of the user in the same transaction.

    Raises ValidationFailed when the current password is wrong or the new one is too weak.
    """
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if not check_password(user, current_password):
        db.session.rollback()
        raise ValidationFailed(
            "The current password is not right.",
            code="wrong_password",
            fields={"current_password": ["That is not your current password."]},
        )
    problems = password_problems(new_password or "", user.username, user.email)
    if problems:
        db.session.rollback()
        raise ValidationFailed("Choose a stronger password.", fields={"new_password": problems})
    user.password_hash = password_hasher().hash(new_password)
    sessions.mark_all_ended(user.id)
    db.session.commit()
    return user


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def is_storable(text: str) -> bool:
    """False for text no database column could hold (NUL, unpaired surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def find_user(name_or_email: str) -> User:
    """The user with this name or email; raises NotFound."""
    user = find_account(name_or_email)
    if user is None:
        raise NotFound(f"No user named {name_or_email!r}.", code="user_not_found")
    return user
