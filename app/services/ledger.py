"""The XP ledger: every change to a user's total is one history row with the balance after it.

These functions run inside a caller's unit of work; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Level, User, XPHistory


@dataclass(frozen=True)
class LockedUser:
    total_xp: int
    level: Level | None = None


def lock_user(user_id: int, level_id: str | None = None) -> LockedUser | None:
    """Take the user's row lock for the rest of the transaction; None if there is no such user.

    PostgreSQL locks the row (SELECT ... FOR UPDATE OF users). SQLite has no row locks, so a
    no-op write takes its database write lock at once, before any read could go stale.
    With `level_id`, that level (or None) is read by the same statement.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(User).where(User.id == user_id).values(total_xp=User.total_xp))
    query = select(User.total_xp).where(User.id == user_id)
    if level_id is not None:
        query = query.add_columns(Level).outerjoin(Level, Level.level_id == level_id)
    row = db.session.execute(query.with_for_update(of=User)).first()
    if row is None:
        return None
    return LockedUser(total_xp=row[0], level=row[1] if level_id is not None else None)


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
    balance = db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(total_xp=User.total_xp + delta)
        .returning(User.total_xp)
    ).scalar_one()
    db.session.execute(
        insert(XPHistory).values(
            user_id=user_id,
            delta=delta,
            reason=reason,
            reference_id=reference_id,
            balance_after=balance,
            extra=metadata or {},
            created_at=now,
        )
    )
    return balance
