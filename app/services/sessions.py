"""Signed-in sessions kept on the server: started at sign-in, checked on every request, ended
by signing out (here or everywhere), by a password change, or by their owner from the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, exists, select, update

from app.errors import NotFound
from app.extensions import db
from app.models import User, UserSession
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

USER_AGENT_LENGTH = 255
sessions = UserSession.__table__
# The user's columns (credentials.USER_COLUMNS), the session's id and its last sight.
LOOKUP = (
    select(*USER_COLUMNS, sessions.c.id.label("session_id"), sessions.c.last_seen_at)
    .select_from(User.__table__.join(sessions, sessions.c.user_id == User.__table__.c.id))
    .where(
        sessions.c.secret_hash == bindparam("digest"),
        sessions.c.ended_at.is_(None),
        sessions.c.expires_at > bindparam("now"),
    )
)
# A remembered session lasts a fixed time from sign-in; any other one is extended while used.
TOUCH = (
    sessions.update()
    .where(sessions.c.id == bindparam("b_id"))
    .values(
        last_seen_at=bindparam("b_now"),
        expires_at=case(
            (sessions.c.remember, sessions.c.expires_at), else_=bindparam("b_idle_expiry")
        ),
    )
)

# PostgreSQL finds a live session's user and refreshes a stale one in one statement.
TOUCHED_IF_STALE = (
    sessions.update()
    .where(
        sessions.c.secret_hash == bindparam("digest"),
        sessions.c.ended_at.is_(None),
        sessions.c.expires_at > bindparam("now"),
        sessions.c.last_seen_at <= bindparam("stale_before"),
    )
    .values(
        last_seen_at=bindparam("now"),
        expires_at=case(
            (sessions.c.remember, sessions.c.expires_at), else_=bindparam("idle_expiry")
        ),
    )
    .returning(sessions.c.id)
    .cte("touched")
)
LOOKUP_AND_TOUCH = LOOKUP.add_columns(
    exists(select(TOUCHED_IF_STALE.c.id)).label("touched")
).add_cte(TOUCHED_IF_STALE)

# The same, with a completion's replay check read along (read_ahead.py).
LOOKUP_TOUCH_AND_READ_AHEAD = read_ahead.joined(LOOKUP_AND_TOUCH)


@dataclass(frozen=True)
class StartedSession:
    id: int
    secret: str  # goes into the cookie; only its digest is stored


def idle_expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT_SECONDS"])


def start_session(
    user_id: int, *, remember: bool, user_agent: str, ip_address: str
) -> StartedSession:
    """Record a new sign-in on a device and return the secret its cookies will carry."""
    now = utcnow()
    lifetime = current_app.config["REMEMBER_COOKIE_DURATION"]
    secret = new_secret()
    row = UserSession(
        user_id=user_id,
        secret_hash=digest(secret),
        remember=remember,
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
        ip_address=(ip_address or "")[:45],
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime if remember else idle_expiry(now),
    )
    db.session.add(row)
    db.session.commit()
    return StartedSession(id=row.id, secret=secret)


def user_for_session(secret: str) -> tuple[User, int] | None:
    """The user and session id of a live session, or None when it ended or expired.

    last_seen_at (and an idle session's expiry) is refreshed at most once per
    SESSION_LAST_SEEN_RESOLUTION_SECONDS, inside the request's own transaction.
    """
    now = utcnow()
    resolution = current_app.config["SESSION_LAST_SEEN_RESOLUTION_SECONDS"]
    if db.session.connection().dialect.name == "postgresql":
        params = {
            "digest": digest(secret),
            "now": now,
            "stale_before": stale_before(now, resolution),
            "idle_expiry": idle_expiry(now),
        }
        row = look_up_and_touch(LOOKUP_AND_TOUCH, LOOKUP_TOUCH_AND_READ_AHEAD, params)
        return None if row is None else (user_from_row(row), row.session_id)
    row = db.session.connection().execute(LOOKUP, {"digest": digest(secret), "now": now}).first()
    if row is None:
        return None
    if is_stale(row.last_seen_at, now, resolution):
        touch_in_request(
            TOUCH, {"b_id": row.session_id, "b_now": now, "b_idle_expiry": idle_expiry(now)}
        )
    return user_from_row(row), row.session_id


def list_active_sessions(user_id: int) -> list[UserSession]:
    """The user's live sessions, the most recently seen first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > utcnow(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_session(session_id: int, *, owner_id: int) -> None:
    """End one of the owner's sessions; raises NotFound for another user's or an unknown one."""
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == owner_id)
        .values(
            ended_at=case((UserSession.ended_at.is_(None), utcnow()), else_=UserSession.ended_at)
        )
    ).rowcount
    if not ended:
        db.session.rollback()
        raise NotFound("No such session.", code="session_not_found")
    db.session.commit()


def end_all_sessions(user_id: int) -> int:
    """Sign the user out everywhere: every session and remember-me credential ends at once.
    Returns how many were live."""
    count = mark_all_ended(user_id)
    db.session.commit()
    return count


def mark_all_ended(user_id: int) -> int:
    """End every live session of the user as part of the caller's unit of work (no commit)."""
    return db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
