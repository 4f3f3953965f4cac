"""The XP ledger: every change to a user's total is one history row with the balance after it.

These functions run inside a caller's unit of work; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, select

from app.extensions import db
from app.models import Level, User, XPHistory
from app.models.types import JSONType, UTCDateTime

# The hot path runs prebuilt Core statements on the session's connection: SQLAlchemy then
# reuses their compiled form, and no ORM objects are built for rows nobody keeps.
users = User.__table__
levels = Level.__table__
LEVEL_COLUMNS = [levels.c[attr.columns[0].key] for attr in Level.__mapper__.column_attrs]
SQLITE_WRITE_LOCK = (
    users.update().where(users.c.id == bindparam("b_user_id")).values(total_xp=users.c.total_xp)
)
LOCK = select(users.c.total_xp).where(users.c.id == bindparam("user_id")).with_for_update()
LOCK_WITH_LEVEL = (
    select(users.c.total_xp, *LEVEL_COLUMNS)
    .select_from(users.outerjoin(levels, levels.c.level_id == bindparam("level_id")))
    .where(users.c.id == bindparam("user_id"))
    .with_for_update(of=users)
)
ADD_TO_TOTAL = (
    users.update()
    .where(users.c.id == bindparam("b_user_id"))
    .values(total_xp=users.c.total_xp + bindparam("b_delta"))
    .returning(users.c.total_xp)
)
history = XPHistory.__table__
APPEND = history.insert()
# PostgreSQL does both in one statement: the new total and the entry that records it.
BUMPED = ADD_TO_TOTAL.cte("bumped")
ADD_AND_APPEND = (
    history.insert()
    .from_select(
        ["user_id", "delta", "reason", "reference_id", "balance_after", "metadata", "created_at"],
        select(
            bindparam("b_user_id", type_=Integer),
            bindparam("b_delta", type_=Integer),
            bindparam("b_reason", type_=String),
            bindparam("b_reference_id", type_=BigInteger),
            BUMPED.c.total_xp,
            bindparam("b_metadata", type_=JSONType),
            bindparam("b_created_at", type_=UTCDateTime()),
        ),
    )
    .returning(history.c.balance_after)
)


@dataclass(frozen=True)
class LockedUser:
    total_xp: int
    level: Level | None = None


def level_from_row(row: Any) -> Level | None:
    """A detached Level built from a row's level columns (None when the join found none)."""
    mapping = row._mapping
    if mapping["level_id"] is None:
        return None
    return Level(
        **{attr.key: mapping[attr.columns[0].key] for attr in Level.__mapper__.column_attrs}
    )


def lock_user(user_id: int, level_id: str | None = None) -> LockedUser | None:
    """Take the user's row lock for the rest of the transaction; None if there is no such user.

    PostgreSQL locks the row (SELECT ... FOR UPDATE OF users). SQLite has no row locks, so a
    no-op write takes its database write lock at once, before any read could go stale.
    With `level_id`, that level (or None) is read by the same statement.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(SQLITE_WRITE_LOCK, {"b_user_id": user_id})
    if level_id is None:
        total = connection.execute(LOCK, {"user_id": user_id}).scalar_one_or_none()
        return None if total is None else LockedUser(total_xp=total)
    row = connection.execute(LOCK_WITH_LEVEL, {"user_id": user_id, "level_id": level_id}).first()
    if row is None:
        return None
    return LockedUser(total_xp=row.total_xp, level=level_from_row(row))


def append_entry(
    user_id: int,
    delta: int,
    reason: str,
    *,
    now: datetime,
    reference_id: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Apply `delta` to the user's total and record it; return the balance after it.

    The total is changed by the database (UPDATE ... RETURNING), never written back from a
    value read earlier, so concurrent changes cannot be lost. The caller holds the user lock.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(
            ADD_AND_APPEND,
            {
                "b_user_id": user_id,
                "b_delta": delta,
                "b_reason": reason,
                "b_reference_id": reference_id,
                "b_metadata": metadata or {},
                "b_created_at": now,
            },
        ).scalar_one()
    balance = connection.execute(
        ADD_TO_TOTAL, {"b_user_id": user_id, "b_delta": delta}
    ).scalar_one()
    connection.execute(
        APPEND,
        {
            "user_id": user_id,
            "delta": delta,
            "reason": reason,
            "reference_id": reference_id,
            "balance_after": balance,
            "metadata": metadata or {},
            "created_at": now,
        },
    )
    return balance
