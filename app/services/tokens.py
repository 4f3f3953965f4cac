"""Bearer API tokens: issued once in clear, stored as a digest, revocable."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import ApiToken, User
from app.models.types import utcnow
from app.services import read_ahead
from app.services.credentials import (
    USER_COLUMNS,
    digest,
    is_stale,
    look_up_and_touch,
    new_secret,
    stale_before,
    touch_in_request,
    user_from_row,
)

TOKEN_PREFIX = "cq_"
tokens = ApiToken.__table__
# The owner's columns (credentials.USER_COLUMNS), the token's id and its last use.
AUTHENTICATE = (
    select(*USER_COLUMNS, tokens.c.id.label("token_id"), tokens.c.last_used_at)
    .select_from(User.__table__.join(tokens, tokens.c.user_id == User.__table__.c.id))
    .where(tokens.c.token_hash == bindparam("digest"), tokens.c.revoked_at.is_(None))
)
TOUCH = (
    tokens.update().where(tokens.c.id == bindparam("b_id")).values(last_used_at=bindparam("b_now"))
)
# PostgreSQL finds the token's owner and refreshes a stale last_used_at in one statement.
TOUCHED_IF_STALE = (
    tokens.update()
    .where(
        tokens.c.token_hash == bindparam("digest"),
        tokens.c.revoked_at.is_(None),
        or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at <= bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("now"))
    .returning(tokens.c.id)
    .cte("touched")
)
AUTHENTICATE_AND_TOUCH = AUTHENTICATE.add_columns(
    exists(select(TOUCHED_IF_STALE.c.id)).label("touched")
).add_cte(TOUCHED_IF_STALE)
# The same, with a completion's replay check read along (read_ahead.py).
AUTHENTICATE_TOUCH_AND_READ_AHEAD = read_ahead.joined(AUTHENTICATE_AND_TOUCH)
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the clear token exists


def create_token(user: User, name: str = "default") -> IssuedToken:
    """Issue a new token for `user`; raises ValidationFailed for an empty or long name."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "The token needs a name.",
            fields={"name": [f"Use 1 to {MAX_NAME_LENGTH} characters."]},
        )
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret))
    db.session.add(token)
    db.session.commit()
    return IssuedToken(token=token, secret=secret)


def revoke_token(token_id: int, *, owner: User | None = None) -> ApiToken:
    """Revoke a token (by id; only among `owner`'s when given); raises NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound(f"No API token with id {token_id}.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    )


def user_for_token(secret: str) -> User | None:
    """The owner of an active token, or None.

    A stale last_used_at (older than TOKEN_LAST_USED_RESOLUTION_SECONDS) is updated inside the
    request's own transaction instead of a second one.
    """
    now = utcnow()
    resolution = current_app.config["TOKEN_LAST_USED_RESOLUTION_SECONDS"]
    if db.session.connection().dialect.name == "postgresql":
        cutoff = stale_before(now, resolution)
        params = {"digest": digest(secret), "now": now, "stale_before": cutoff}
        row = look_up_and_touch(AUTHENTICATE_AND_TOUCH, AUTHENTICATE_TOUCH_AND_READ_AHEAD, params)
        return None if row is None else user_from_row(row)
    row = db.session.connection().execute(AUTHENTICATE, {"digest": digest(secret)}).first()
    if row is None:
        return None
    if is_stale(row.last_used_at, now, resolution):
        touch_in_request(TOUCH, {"b_id": row.token_id, "b_now": now})
    return user_from_row(row)
