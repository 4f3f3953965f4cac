"""Leaderboards: players ranked by XP, all time or in this week or month, read from the ledger.

Nothing is stored: every read ranks users.total_xp (all time) or the sum of the period's
ledger deltas, so the read after an award, a revocation or an adjustment already shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, literal, null, select, union_all

from app.extensions import db
from app.models import User, XPHistory
from app.models.types import utcnow

PERIODS = ("all", "week", "month")
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 100, 10

users = User.__table__
history = XPHistory.__table__


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


def leaderboard(
    period: str, limit: int, viewer_id: int | None, *, now: datetime | None = None
) -> Leaderboard:
    """The top `limit` players of `period` ("all", "week" or "month") and the viewer's standing.

    Ties share a rank and are listed by who reached that XP first: the smaller id of their
    latest counted ledger entry. Players without XP in the period are not listed.
    """
    if period == "all":
        return Leaderboard(period, None, None, all_time_entries(limit), all_time_me(viewer_id))
    starts_at, ends_at = period_bounds(period, now or utcnow())
    entries, me = period_standings(starts_at, ends_at, limit, viewer_id)
    return Leaderboard(period, starts_at, ends_at, entries, me)


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


def ranked_entries(rows) -> list[LeaderboardEntry]:
    return [LeaderboardEntry(row.rank, row.username, row.xp) for row in rows]


def last_entry_id():
    """The id of the user's latest ledger entry (an index-only lookup per user)."""
    return (
        select(func.max(history.c.id))
        .where(history.c.user_id == users.c.id)
        .scalar_subquery()
        .label("last_entry_id")
    )


def all_time_entries(limit: int) -> list[LeaderboardEntry]:
    # Only the players at or above the limit-th total can be listed (ties at the cut
    # included), so only they are ranked, and their latest entry looked up.
    top = (
        select(users.c.total_xp)
        .where(users.c.total_xp > 0)
        .order_by(users.c.total_xp.desc())
        .limit(limit)
        .subquery("top")
    )
    cutoff = select(func.min(top.c.total_xp)).scalar_subquery()  # NULL when nobody has XP
    candidates = (
        select(
            users.c.username,
            users.c.total_xp.label("xp"),
            func.rank().over(order_by=users.c.total_xp.desc()).label("rank"),
            last_entry_id(),
        )
        .where(users.c.total_xp >= cutoff)
        .subquery()
    )
    rows = db.session.execute(
        select(candidates.c.rank, candidates.c.username, candidates.c.xp)
        .order_by(candidates.c.xp.desc(), candidates.c.last_entry_id)
        .limit(limit)
    )
    return ranked_entries(rows)


def all_time_me(viewer_id: int | None) -> Standing | None:
    if viewer_id is None:
        return None
    xp = db.session.execute(
        select(users.c.total_xp).where(users.c.id == viewer_id)
    ).scalar_one_or_none()
    if xp is None or xp <= 0:
        return None
    ahead = db.session.execute(
        select(func.count()).select_from(users).where(users.c.total_xp > xp)
    ).scalar_one()
    return Standing(rank=ahead + 1, xp=xp)


def period_totals(starts_at: datetime, ends_at: datetime):
    """Per player with XP in [starts_at, ends_at): the sum of their entries and the latest id."""
    # SQLite stores timestamps as zone-less UTC text, so the bounds are compared in UTC.
    return (
        select(
            history.c.user_id,
            func.sum(history.c.delta).label("xp"),
            func.max(history.c.id).label("last_entry_id"),
        )
        .where(
            history.c.created_at >= starts_at.astimezone(UTC),
            history.c.created_at < ends_at.astimezone(UTC),
        )
        .group_by(history.c.user_id)
        .having(func.sum(history.c.delta) > 0)
        .cte("totals")
    )


def period_standings(
    starts_at: datetime, ends_at: datetime, limit: int, viewer_id: int | None
) -> tuple[list[LeaderboardEntry], Standing | None]:
    """The listed players and the viewer's standing, from one pass over the period's ledger."""
    totals = period_totals(starts_at, ends_at)
    # Everyone with more XP than a listed player is listed too, so ranking only the listed
    # rows gives their rank on the whole board: the period's players are never all sorted.
    top = (
        select(totals)
        .order_by(totals.c.xp.desc(), totals.c.last_entry_id)
        .limit(limit)
        .subquery("top")
    )
    username = select(users.c.username).where(users.c.id == top.c.user_id).scalar_subquery()
    listed = select(
        func.rank().over(order_by=top.c.xp.desc()).label("rank"),
        username.label("username"),
        top.c.xp,
        top.c.last_entry_id,
        literal(False).label("is_viewer"),
    )
    # The viewer's standing comes from the same statement, so the period is summed once.
    mine = select(totals.c.xp).where(totals.c.user_id == viewer_id).scalar_subquery()
    ahead = select(func.count()).where(totals.c.xp > mine).scalar_subquery()
    viewer = select(
        (ahead + 1).label("rank"),
        null().label("username"),
        mine.label("xp"),
        null().label("last_entry_id"),
        literal(True).label("is_viewer"),
    )
    board = union_all(listed, viewer).subquery("board")
    rows = db.session.execute(
        select(board).order_by(board.c.is_viewer, board.c.xp.desc(), board.c.last_entry_id)
    ).all()
    entries = ranked_entries(row for row in rows if not row.is_viewer)
    # The viewer's row is there even without XP in the period, with a NULL xp.
    me = next((Standing(row.rank, row.xp) for row in rows if row.is_viewer and row.xp), None)
    return entries, me
