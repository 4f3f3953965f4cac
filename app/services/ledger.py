"""The XP ledger: every change to a user's total is one history row with the balance after it.

These functions run inside a caller's unit of work; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    cast,
    exists,
    literal_column,
    select,
    true,
    union_all,
)

from app.extensions import db
from app.models import LeaderboardTotal, Level, User, XPHistory
from app.models.types import JSONType, UTCDateTime
from app.services import write_batch
from app.services.leaderboard import PERIODS as LEADERBOARD_PERIODS
from app.services.leaderboard import period_starts

# The hot path runs prebuilt Core statements on the session's connection: SQLAlchemy then
# reuses their compiled form, and no ORM objects are built for rows nobody keeps.
users = User.__table__
levels = Level.__table__
LEVEL_COLUMNS = [levels.c[attr.columns[0].key] for attr in Level.__mapper__.column_attrs]
# The version of a level's row on PostgreSQL (its xmin): `flask levels sync` changing the level
# writes a new version. A statement that reads the version instead of the level's columns
# gets the level from level_of_version().
LEVEL_VERSION = cast(literal_column("levels.xmin"), String)
LEVEL_BY_ID = select(*LEVEL_COLUMNS, LEVEL_VERSION.label("level_version")).where(
    levels.c.level_id == bindparam("level_id")
)
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
totals = LeaderboardTotal.__table__
APPEND = history.insert()
# The periods an entry counts in, one row each, starting where period_starts says.
COUNTED_IN = union_all(
    *(
        select(
            # A name of the code's own, written into the SQL: no parameter to send.
            literal_column(f"'{period}'", String).label("period"),
            bindparam(f"b_{period}_start", type_=UTCDateTime()).label("starts_at"),
        )
        for period in LEADERBOARD_PERIODS
    )
).cte("periods")
# ON CONFLICT in the spelling PostgreSQL and SQLite share, as a suffix of the SELECT that
# feeds the INSERT: SQLAlchemy compiles its dialect upserts anew for every statement run, while
# this prebuilt statement is compiled once. The conflict is found on the primary key, always.
ADD_TO_THE_ROW_THERE = (
    "ON CONFLICT (period, starts_at, user_id) DO UPDATE SET "
    "xp = leaderboard_totals.xp + excluded.xp, last_entry_id = excluded.last_entry_id"
)


def tally(entry_id, condition=None):
    """Count the entry whose id is `entry_id` in its player's row of every period (when
    `condition` holds)."""
    rows = (
        select(
            COUNTED_IN.c.period,
            COUNTED_IN.c.starts_at,
            bindparam("b_user_id", type_=Integer),
            bindparam("b_delta", type_=Integer),
            entry_id,
        )
        # SQLite parses ON CONFLICT after INSERT ... SELECT only past a WHERE.
        .where(true() if condition is None else condition)
        .suffix_with(ADD_TO_THE_ROW_THERE)
    )
    return totals.insert().from_select(
        ["period", "starts_at", "user_id", "xp", "last_entry_id"], rows
    )


# PostgreSQL does it all in one statement: the new total, the entry that records it, and the
# entry counted in the leaderboard totals.
# Every column an entry writes (the id is the database's).
ENTRY_COLUMNS = [c.name for c in history.columns if c.name != "id"]


def appended_to(bumped, reference_id, name: str):
    """The entry recording the total `bumped` returned (the CTE named `name`)."""
    return (
        history.insert()
        .from_select(
            ENTRY_COLUMNS,
            select(
                bindparam("b_user_id", type_=Integer),
                bindparam("b_delta", type_=Integer),
                bindparam("b_reason", type_=String),
                reference_id,
                bumped.c.total_xp,
                bindparam("b_metadata", type_=JSONType),
                bindparam("b_created_at", type_=UTCDateTime()),
            ),
        )
        .returning(history.c.id, history.c.balance_after)
        .cte(name)
    )


BUMPED = ADD_TO_TOTAL.cte("bumped")
APPENDED = appended_to(BUMPED, bindparam("b_reference_id", type_=BigInteger), "appended")
ADD_APPEND_AND_TALLY = select(APPENDED.c.balance_after).add_cte(
    tally(select(APPENDED.c.id).scalar_subquery()).cte("tallied")
)
# SQLite runs the three one after the other, the entry's id known once it is appended.
TALLY = tally(bindparam("b_entry_id", type_=BigInteger))

# The same three as steps of a write batch (write_batch.py), the entry referring to the
# batch's anchor row and nothing written unless the anchor was.
BATCH_BUMPED = ADD_TO_TOTAL.where(write_batch.GATE).cte("ledger_bumped")
BATCH_APPENDED = appended_to(BATCH_BUMPED, write_batch.ANCHOR_ID, "ledger_appended")
BATCH_TALLIED = tally(
    select(BATCH_APPENDED.c.id).scalar_subquery(), exists(select(BATCH_APPENDED.c.id))
).cte("ledger_tallied")
BATCH_BALANCE = select(BATCH_APPENDED.c.balance_after).scalar_subquery()


@dataclass(frozen=True)
class LockedUser:
    total_xp: int
    level: Level | None = None


LEVEL_ATTRIBUTES = [(attr.key, attr.columns[0].key) for attr in Level.__mapper__.column_attrs]
# The detached levels built so far, by every value of their row: a row read again gives the
# same object back (nothing changes a detached Level), and `flask levels sync` changing a
# level changes its row, so the new values build a new one. The catalog is a handful of
# levels; the cap only bounds a catalog edited many times over a process's life.
LEVELS_SEEN: dict[tuple, Level] = {}
LEVELS_SEEN_CAP = 256


def level_from_row(row: Any) -> Level | None:
    """A detached Level built from a row's level columns (None when the join found none)."""
    mapping = row._mapping
    if mapping["level_id"] is None:
        return None
    values = [mapping[column] for _, column in LEVEL_ATTRIBUTES]
    # JSON columns (lists, objects) are not hashable: their text stands for them in the key.
    key = tuple(repr(value) if isinstance(value, list | dict) else value for value in values)
    level = LEVELS_SEEN.get(key)
    if level is None:
        if len(LEVELS_SEEN) >= LEVELS_SEEN_CAP:
            LEVELS_SEEN.clear()
        attributes = [attr for attr, _ in LEVEL_ATTRIBUTES]
        level = Level(**dict(zip(attributes, values, strict=True)))
        LEVELS_SEEN[key] = level
    return level


# The same levels by id and row version (PostgreSQL), for statements that read only those.
LEVELS_BY_VERSION: dict[tuple[str, str], Level] = {}


def level_of_version(level_id: str | None, version: str | None) -> Level | None:
    """The level `level_id` whose row is `version`, built once a process; read (as it is now)
    when this process has not seen that version. None when there is no such level."""
    if level_id is None:
        return None
    level = LEVELS_BY_VERSION.get((level_id, version))
    if level is not None:
        return level
    row = db.session.connection().execute(LEVEL_BY_ID, {"level_id": level_id}).first()
    if row is None:
        return None
    if len(LEVELS_BY_VERSION) >= LEVELS_SEEN_CAP:
        LEVELS_BY_VERSION.clear()
    level = LEVELS_BY_VERSION[(level_id, row.level_version)] = level_from_row(row)
    return level


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
    batch: write_batch.WriteBatch | None = None,
) -> Any:
    """Apply `delta` to the user's total and record it; return the balance after it.

    With a `batch`, the change is added to it as steps instead (the entry then refers to the
    batch's anchor row, `reference_id` must say so) and the return value is the SQL
    expression of the balance, to be read from the batch's row.

    The total is changed by the database (UPDATE ... RETURNING), never written back from a
    value read earlier, so concurrent changes cannot be lost. The caller holds the user lock.
    In the same transaction (the same statement on PostgreSQL) the entry is counted in the
    leaderboard totals of all time and of the week and month holding `now`, so the next read
    of a board shows it.
    """
    starts = {f"b_{period}_start": start for period, start in period_starts(now).items()}
    if batch is not None:
        if reference_id is not write_batch.ANCHOR_ID:
            raise ValueError("A batched ledger entry refers to the batch's anchor row.")
        params = {
            "b_user_id": user_id,
            "b_delta": delta,
            "b_reason": reason,
            "b_metadata": metadata or {},
            "b_created_at": now,
            **starts,
        }
        for step in (BATCH_BUMPED, BATCH_APPENDED, BATCH_TALLIED):
            batch.add(step, params)
        return BATCH_BALANCE
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(
            ADD_APPEND_AND_TALLY,
            {
                "b_user_id": user_id,
                "b_delta": delta,
                "b_reason": reason,
                "b_reference_id": reference_id,
                "b_metadata": metadata or {},
                "b_created_at": now,
                **starts,
            },
        ).scalar_one()
    balance = connection.execute(
        ADD_TO_TOTAL, {"b_user_id": user_id, "b_delta": delta}
    ).scalar_one()
    entry_id = connection.execute(
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
    ).inserted_primary_key[0]
    connection.execute(
        TALLY, {"b_user_id": user_id, "b_delta": delta, "b_entry_id": entry_id, **starts}
    )
    return balance
