"""Leaderboards: players ranked by XP, all time or in this week or month, read from the ledger.

A board reads leaderboard_totals: each player's sum of ledger deltas per period and the id of
the latest entry counted, kept by the ledger's write path in the transaction that appends each
entry (app/services/ledger.py), so the read after an award, a revocation or an adjustment
already shows it. The totals are derived, never a truth of their own: the rows the boards read
(all time, this week, this month) can be recomputed from the ledger (xp_history and
xp_history_archive) by `rebuild_leaderboard_totals`, checked against it by
`leaderboard_discrepancies`; rows of ended periods, read by nothing, are dropped by
`prune_leaderboard_totals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    delete,
    except_,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)

from app.extensions import db
from app.models import LeaderboardTotal, User
from app.models.leaderboard import ALL_TIME_START
from app.models.types import UTCDateTime, utcnow
from app.services.archive import whole_ledger

PERIODS = ("all", "week", "month")
TIMED_PERIODS = ("week", "month")
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 100, 10

users = User.__table__
totals = LeaderboardTotal.__table__


@dataclass(frozen=True)
class Standing:
    rank: int
    xp: int


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    username: str
    xp: int


@dataclass(frozen=True)
class Leaderboard:
    period: str
    starts_at: datetime | None  # None for all time
    ends_at: datetime | None  # exclusive; None for all time
    entries: list[LeaderboardEntry]
    me: Standing | None  # None when anonymous or without XP in the period


@dataclass(frozen=True)
class Tally:
    """One player's XP in one period and the id of the latest ledger entry counted in it."""

    xp: int
    last_entry_id: int


@dataclass(frozen=True)
class TotalsDiscrepancy:
    """A row of leaderboard_totals that disagrees with the ledger: `stored` is None where the
    row is missing, `expected` is None where the ledger has nothing for it."""

    period: str
    starts_at: datetime
    user_id: int
    expected: Tally | None
    stored: Tally | None


# ---- Periods ------------------------------------------------------------------------------


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week (from Monday 00:00) or calendar month holding `now`, in
    LEADERBOARD_TIMEZONE."""
    zone = ZoneInfo(current_app.config["LEADERBOARD_TIMEZONE"])
    today = now.astimezone(zone).date()
    if period == "week":
        first = today - timedelta(days=today.weekday())
        following = first + timedelta(days=7)
    else:
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    # Midnights built from the calendar date, so a DST change inside the period is respected.
    return (
        datetime(first.year, first.month, first.day, tzinfo=zone),
        datetime(following.year, following.month, following.day, tzinfo=zone),
    )


def period_starts(now: datetime) -> dict[str, datetime]:
    """The key, in UTC, of every period an entry written at `now` counts in."""
    return {"all": ALL_TIME_START} | {
        period: period_bounds(period, now)[0].astimezone(UTC) for period in TIMED_PERIODS
    }


# ---- Reading a board ----------------------------------------------------------------------

ON_BOARD = and_(
    totals.c.period == bindparam("period"), totals.c.starts_at == bindparam("starts_at")
)
TOP = (
    select(totals.c.user_id, totals.c.xp, totals.c.last_entry_id)
    .where(ON_BOARD, totals.c.xp > 0)
    .order_by(totals.c.xp.desc(), totals.c.last_entry_id)
    .limit(bindparam("limit"))
    .subquery("top")
)
# Everyone with more XP than a listed player is listed too, so ranking only the listed rows
# gives their rank on the whole board.
LISTED = select(
    func.rank().over(order_by=TOP.c.xp.desc()).label("rank"),
    users.c.username,
    TOP.c.xp,
    TOP.c.last_entry_id,
    literal(False).label("is_viewer"),
).join_from(TOP, users, users.c.id == TOP.c.user_id)
MINE = select(totals.c.xp).where(ON_BOARD, totals.c.user_id == bindparam("viewer_id"))
AHEAD = select(func.count()).where(ON_BOARD, totals.c.xp > MINE.scalar_subquery())
VIEWER = select(
    (AHEAD.scalar_subquery() + 1).label("rank"),
    null().label("username"),
    MINE.scalar_subquery().label("xp"),
    null().label("last_entry_id"),
    literal(True).label("is_viewer"),
)
BOARD = union_all(LISTED, VIEWER).subquery("board")
STANDINGS = select(BOARD).order_by(BOARD.c.is_viewer, BOARD.c.xp.desc(), BOARD.c.last_entry_id)


def leaderboard(
    period: str, limit: int, viewer_id: int | None, *, now: datetime | None = None
) -> Leaderboard:
    """The top `limit` players of `period` ("all", "week" or "month") and the viewer's standing.

    Ties share a rank and are listed by who reached that XP first: the smaller id of their
    latest counted ledger entry. Players without XP in the period are not listed.
    """
    if period == "all":
        starts_at = ends_at = None
        key = ALL_TIME_START
    else:
        starts_at, ends_at = period_bounds(period, now or utcnow())
        key = starts_at.astimezone(UTC)  # SQLite keeps timestamps as zone-less UTC text
    rows = db.session.execute(
        STANDINGS, {"period": period, "starts_at": key, "limit": limit, "viewer_id": viewer_id}
    ).all()
    entries = [
        LeaderboardEntry(row.rank, row.username, row.xp) for row in rows if not row.is_viewer
    ]
    # The viewer's row is there even without XP in the period, with a NULL or non-positive xp.
    me = next(
        (Standing(row.rank, row.xp) for row in rows if row.is_viewer and (row.xp or 0) > 0), None
    )
    return Leaderboard(period, starts_at, ends_at, entries, me)


# ---- Rebuilding, checking and pruning the totals -------------------------------------------

TOTALS_COLUMNS = ["period", "starts_at", "user_id", "xp", "last_entry_id"]


def expected_totals(now: datetime, user_id: int | None = None):
    """The rows the boards read at `now` (all time, this week, this month), as the ledger has
    them: per player with an entry in the period, the sum of deltas and the latest id."""
    ledger = whole_ledger(user_id)
    boards = []
    for period, starts_at in period_starts(now).items():
        board = select(
            literal(period, String).label("period"),
            literal(starts_at, UTCDateTime()).label("starts_at"),
            ledger.c.user_id,
            func.sum(ledger.c.delta).label("xp"),
            func.max(ledger.c.id).label("last_entry_id"),
        ).group_by(ledger.c.user_id)
        if period != "all":
            ends_at = period_bounds(period, now)[1].astimezone(UTC)
            board = board.where(ledger.c.created_at >= starts_at, ledger.c.created_at < ends_at)
        boards.append(board)
    return union_all(*boards)


def stored_totals(now: datetime, user_id: int | None = None):
    """The rows of leaderboard_totals the boards read at `now`."""
    keys = [
        and_(totals.c.period == period, totals.c.starts_at == starts_at)
        for period, starts_at in period_starts(now).items()
    ]
    rows = select(*(totals.c[name] for name in TOTALS_COLUMNS)).where(or_(*keys))
    return rows if user_id is None else rows.where(totals.c.user_id == user_id)


def rebuild_leaderboard_totals(now: datetime | None = None) -> dict[str, int]:
    """Recompute leaderboard_totals from the ledger, in LEADERBOARD_TIMEZONE: all time, this
    week and this month; rows of other periods are dropped. Return the rows written per period.

    For a changed LEADERBOARD_TIMEZONE, or a repair after `leaderboard_discrepancies`. Writers
    wait while it runs (on PostgreSQL the table is locked against writes, not reads), so no
    entry appended meanwhile is lost.
    """
    now = now or utcnow()
    try:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("LOCK TABLE leaderboard_totals IN EXCLUSIVE MODE")
        connection.execute(delete(totals))
        connection.execute(insert(totals).from_select(TOTALS_COLUMNS, expected_totals(now)))
        written = connection.execute(
            select(totals.c.period, func.count()).group_by(totals.c.period)
        ).all()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return {period: 0 for period in PERIODS} | dict(written)


def prune_leaderboard_totals(now: datetime | None = None) -> int:
    """Delete the rows of weeks and months that ended before `now`; return how many.

    No board reads them: a board reads its current period only. Safe to run at any time.
    """
    starts = period_starts(now or utcnow())
    ended = [
        and_(totals.c.period == period, totals.c.starts_at < starts[period])
        for period in TIMED_PERIODS
    ]
    try:
        deleted = db.session.execute(delete(totals).where(or_(*ended))).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return deleted


def leaderboard_discrepancies(
    connection: Connection, user_id: int | None = None, *, now: datetime | None = None
) -> list[TotalsDiscrepancy]:
    """Where the totals the boards read disagree with the ledger, for every player or one;
    empty when they agree. Runs on the caller's connection, in its snapshot."""
    now = now or utcnow()
    expected = select(expected_totals(now, user_id).subquery("expected"))
    stored = select(stored_totals(now, user_id).subquery("stored"))
    missing = except_(expected, stored).subquery("missing")
    extra = except_(stored, expected).subquery("extra")
    rows = connection.execute(
        union_all(
            select(literal(True).label("is_expected"), missing),
            select(literal(False).label("is_expected"), extra),
        )
    ).all()
    found: dict[tuple[str, datetime, int], dict[bool, Tally]] = {}
    for row in rows:
        key = (row.period, row.starts_at, row.user_id)
        found.setdefault(key, {})[row.is_expected] = Tally(row.xp, row.last_entry_id)
    return [
        TotalsDiscrepancy(*key, expected=sides.get(True), stored=sides.get(False))
        for key, sides in sorted(found.items())
    ]
