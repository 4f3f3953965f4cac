"""What API tokens and signed-in sessions share: random secrets kept only as a digest, and a
"last used" time refreshed cheaply inside the request's own transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row
from sqlalchemy.orm import make_transient_to_detached

from app.errors import DATABASE_UNAVAILABLE
from app.extensions import db
from app.models import User
from app.services import read_ahead

SECRET_BYTES = 32  # 256 random bits
PENDING_TOUCH = "credential_touch_pending"


# A credential's lookup reads its player as plain columns, these first in its row, rather than
# as a User entity: the ORM's loading of an entity costs more than the rest of the lookup's
# work in the process (bench/README.md). user_from_row() makes the User of them.
USER_COLUMNS = tuple(User.__table__.columns)
USER_ATTRIBUTES = tuple(User.__mapper__.get_property_by_column(c).key for c in USER_COLUMNS)


def user_from_row(row: Row) -> User:
    """The player whose columns (USER_COLUMNS) lead a lookup's `row`, as the ORM would have
    loaded it: the session's own instance when it holds that player already, else a new one
    made persistent in the session as if just read (nothing of it is pending)."""
    values = dict(zip(USER_ATTRIBUTES, row, strict=False))
    identity = User.__mapper__.identity_key_from_primary_key((values["id"],))
    known = db.session.identity_map.get(identity)
    if known is not None:
        return known
    user = User(**values)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    # The secrets carry 256 random bits, so a fast digest is enough and lets us look one up
    # by index; a slow password hash would buy nothing.
    return hashlib.sha256(secret.encode()).hexdigest()


def is_stale(last_used_at: datetime | None, now: datetime, resolution_seconds: int) -> bool:
    """True when a last-used time is old enough to be worth a write."""
    return last_used_at is None or now - last_used_at >= timedelta(seconds=resolution_seconds)


def touch_in_request(statement, params: dict) -> None:
    """Run a last-used refresh on the request's connection; the request's unit of work commits
    it, or save_pending_touch() does at the end of a request that committed nothing."""
    db.session.connection().execute(statement, params)
    note_touch()


def look_up_and_touch(statement, reading_ahead, params: dict) -> Any:
    """Run a credential's lookup (`statement`: its user's columns first, then a `touched`
    flag), or for a completion request `reading_ahead`, the same lookup with the replay check
    read along (read_ahead.py); note a refresh it made and keep what it read ahead. The row,
    or None."""
    asked = read_ahead.asked()
    connection = db.session.connection()
    if asked is None:
        row = connection.execute(statement, params).first()
    else:
        row = connection.execute(reading_ahead, params | asked.params()).first()
    if row is None:
        return None
    if row.touched:
        note_touch()
    if asked is not None:
        read_ahead.keep(row[0], asked, row)  # users.id leads the row
    return row


def note_touch() -> None:
    """A refresh was written on the request's connection (run here or by the lookup itself)."""
    db.session.info[PENDING_TOUCH] = True


def stale_before(now: datetime, resolution_seconds: int) -> datetime:
    """The last-used times is_stale() calls stale at `now`: this one and all before it."""
    return now - timedelta(seconds=resolution_seconds)


def save_pending_touch() -> bool:
    """Commit a refresh still pending at the end of a request (best effort: a request whose
    unit of work failed drops it with everything else). False when the database failed to
    take it: the request's answer is already made and stands."""
    if not db.session.info.pop(PENDING_TOUCH, False) or not db.session().in_transaction():
        # None pending, or the request's unit of work already committed (or dropped) it.
        return True
    try:
        db.session.commit()
    except DATABASE_UNAVAILABLE as error:
        reason = getattr(error, "orig", None) or error
        current_app.logger.warning("last-seen refresh dropped, database unavailable: %s", reason)
        return False
    return True


def discard_pending_touch() -> None:
    """Forget a pending refresh: the request's unit of work failed, and it goes with it."""
    db.session.info.pop(PENDING_TOUCH, None)
