"""Reading a player's progress: the catalog with their standing, summaries, the XP history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import Level, User, UserLevelProgress, XPHistory, XPHistoryArchive
from app.services import levels


@dataclass(frozen=True)
class LevelState:
    completed: bool
    best_score: int | None
    xp_earned: int
    completions: int
    first_completed_at: datetime | None
    last_completed_at: datetime | None

    @classmethod
    def of(cls, row: UserLevelProgress | None) -> LevelState:
        if row is None:
            return cls(False, None, 0, 0, None, None)
        return cls(
            completed=row.completions_count > 0,
            best_score=row.best_score,
            xp_earned=row.xp_earned,
            completions=row.completions_count,
            first_completed_at=row.first_completed_at,
            last_completed_at=row.last_completed_at,
        )


@dataclass(frozen=True)
class CatalogEntry:
    """A level with its reachable XP and, for a signed-in caller, their standing on it."""

    level: Level
    max_xp: int
    progress: LevelState | None

    def __getattr__(self, name: str) -> Any:
        # The level's own columns read straight through, so schemas see one flat object.
        return getattr(self.level, name)


@dataclass(frozen=True)
class CategorySummary:
    category: str
    levels: int
    completed: int
    xp_earned: int
    max_xp: int


@dataclass(frozen=True)
class ProgressSummary:
    total_xp: int
    completed_levels: int
    total_levels: int
    levels: list[CatalogEntry]
    categories: list[CategorySummary]


@dataclass(frozen=True)
class ArchivedSummary:
    """What `flask xp archive` moved out of the live ledger: older than every live entry."""

    entries: int
    xp: int


@dataclass(frozen=True)
class HistoryPage:
    items: list[XPHistory]
    next: int | None
    has_more: bool
    # With the live entries, it adds up to the total; None when nothing was archived.
    archived: ArchivedSummary | None


def catalog(user_id: int | None = None) -> list[CatalogEntry]:
    """Every level in catalog order, with the user's standing when a user is given."""
    rows = {}
    if user_id is not None:
        rows = {
            row.level_id: row
            for row in db.session.scalars(
                select(UserLevelProgress).where(UserLevelProgress.user_id == user_id)
            )
        }
    return [
        CatalogEntry(
            level=level,
            max_xp=levels.max_xp(level),
            progress=LevelState.of(rows.get(level.level_id)) if user_id is not None else None,
        )
        for level in levels.list_levels()
    ]


def summary(user_id: int) -> ProgressSummary:
    """The user's total, per-level standing and per-category summaries."""
    total_xp = db.session.execute(select(User.total_xp).where(User.id == user_id)).scalar_one()
    entries = catalog(user_id)
    by_category: dict[str, list[CatalogEntry]] = {}
    for entry in entries:
        by_category.setdefault(entry.level.category, []).append(entry)
    categories = [
        CategorySummary(
            category=name,
            levels=len(group),
            completed=sum(1 for e in group if e.progress.completed),
            xp_earned=sum(e.progress.xp_earned for e in group),
            max_xp=sum(e.max_xp for e in group),
        )
        for name, group in by_category.items()
    ]
    return ProgressSummary(
        total_xp=total_xp,
        completed_levels=sum(1 for e in entries if e.progress.completed),
        total_levels=len(entries),
        levels=entries,
        categories=categories,
    )


def history(user_id: int, limit: int = 20, before: int | None = None) -> HistoryPage:
    """The user's ledger entries, newest first, `limit` at a time before entry id `before`."""
    query = select(XPHistory).where(XPHistory.user_id == user_id)
    if before is not None:
        query = query.where(XPHistory.id < before)
    rows = list(db.session.scalars(query.order_by(XPHistory.id.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    items = rows[:limit]
    return HistoryPage(
        items=items,
        next=items[-1].id if has_more else None,
        has_more=has_more,
        archived=archived_summary(user_id),
    )


def archived_summary(user_id: int) -> ArchivedSummary | None:
    """How many of the user's entries were archived and the XP they add up to, or None."""
    a = XPHistoryArchive
    entries, xp = db.session.execute(
        select(func.count(), func.coalesce(func.sum(a.delta), 0)).where(a.user_id == user_id)
    ).one()
    return ArchivedSummary(entries=entries, xp=xp) if entries else None
