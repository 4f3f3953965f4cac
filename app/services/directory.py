"""What the operators' console reads: players found by name or email, one player's ledger and
completions, and what a revocation or reset would take back before it is confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select, true

from app.errors import NotFound
from app.extensions import db
from app.models import Level, LevelCompletion, User, XPHistory
from app.services import progress
from app.services.progress import ArchivedSummary

# Rows on one page of every console listing: players, a player's ledger, their completions.
PAGE_SIZE = 25


@dataclass(frozen=True)
class UserSummary:
    id: int
    username: str
    email: str
    total_xp: int  # may be below 0 after a revocation (docs/architecture.md, invariant 5)
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True)
class UserPage:
    items: list[UserSummary]
    number: int
    has_previous: bool
    has_next: bool
    total: int  # players matching the search, on every page


@dataclass(frozen=True)
class LedgerLine:
    id: int
    created_at: datetime
    delta: int
    balance_after: int
    reason: str
    reference_id: int | None
    note: str | None
    actor_name: str | None  # the operator who made the entry, when one did


@dataclass(frozen=True)
class LedgerPage:
    items: list[LedgerLine]
    number: int
    has_previous: bool
    has_next: bool
    # The entries moved to the archive (older than every live one); None when there are none.
    archived: ArchivedSummary | None


@dataclass(frozen=True)
class CompletionLine:
    id: int
    user_id: int
    username: str
    level_id: str
    level_name: str
    score: int
    difficulty: str
    awarded_xp: int
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_standing(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CompletionPage:
    items: list[CompletionLine]
    number: int
    has_previous: bool
    has_next: bool


@dataclass(frozen=True)
class UserRecord:
    """One player as the console shows them: who, their ledger and their completions."""

    user: UserSummary
    ledger: LedgerPage
    completions: CompletionPage


@dataclass(frozen=True)
class ResetPreview:
    user: UserSummary
    standing_completions: int
    standing_xp: int  # what revoking them all takes back


def find_users(query: str, page: int) -> UserPage:
    """Page `page` (from 1) of the players whose name or email contains `query`, whatever its
    case (every player when it is blank), by name."""
    needle = query.strip().lower()
    condition = true()
    if "\x00" in needle:
        condition = false()  # no name or address holds one, and PostgreSQL refuses it in text
    elif needle:
        condition = or_(
            func.lower(User.username).contains(needle, autoescape=True),
            func.lower(User.email).contains(needle, autoescape=True),
        )
    total = db.session.scalar(select(func.count()).select_from(User).where(condition))
    rows = db.session.scalars(
        select(User)
        .where(condition)
        .order_by(User.username)
        .offset(offset(page))
        .limit(PAGE_SIZE + 1)
    ).all()
    return UserPage(
        items=[summary_of(user) for user in rows[:PAGE_SIZE]],
        number=page,
        has_previous=page > 1,
        has_next=len(rows) > PAGE_SIZE,
        total=total,
    )


def get_user(user_id: int) -> UserSummary:
    """The player with this id; raises NotFound (user_not_found)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.", code="user_not_found")
    return summary_of(user)


def user_record(user_id: int, ledger_page: int, completions_page: int) -> UserRecord:
    """The player, a page of their ledger and a page of their completions; raises NotFound
    (user_not_found)."""
    return UserRecord(
        user=get_user(user_id),
        ledger=user_ledger(user_id, ledger_page),
        completions=user_completions(user_id, completions_page),
    )


def user_ledger(user_id: int, page: int) -> LedgerPage:
    """Page `page` (from 1) of the player's live ledger entries, newest first, each naming the
    operator who made it, with the summary of their archived entries."""
    rows = db.session.scalars(
        select(XPHistory)
        .where(XPHistory.user_id == user_id)
        .order_by(XPHistory.id.desc())
        .offset(offset(page))
        .limit(PAGE_SIZE + 1)
    ).all()
    entries = rows[:PAGE_SIZE]
    names = usernames({actor_of(entry) for entry in entries} - {None})
    return LedgerPage(
        items=[
            LedgerLine(
                id=entry.id,
                created_at=entry.created_at,
                delta=entry.delta,
                balance_after=entry.balance_after,
                reason=entry.reason,
                reference_id=entry.reference_id,
                note=(entry.extra or {}).get("note"),
                actor_name=names.get(actor_of(entry)),
            )
            for entry in entries
        ],
        number=page,
        has_previous=page > 1,
        has_next=len(rows) > PAGE_SIZE,
        archived=progress.archived_summary(user_id),
    )


def user_completions(user_id: int, page: int) -> CompletionPage:
    """Page `page` (from 1) of the player's completions, revoked ones included, newest first."""
    rows = db.session.execute(
        completion_query()
        .where(LevelCompletion.user_id == user_id)
        .order_by(LevelCompletion.id.desc())
        .offset(offset(page))
        .limit(PAGE_SIZE + 1)
    ).all()
    return CompletionPage(
        items=[line_of(row) for row in rows[:PAGE_SIZE]],
        number=page,
        has_previous=page > 1,
        has_next=len(rows) > PAGE_SIZE,
    )


def get_completion(completion_id: int) -> CompletionLine:
    """One completion with its player and level; raises NotFound (completion_not_found)."""
    row = db.session.execute(
        completion_query().where(LevelCompletion.id == completion_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No completion with id {completion_id}.", code="completion_not_found")
    return line_of(row)


def reset_preview(user_id: int) -> ResetPreview:
    """What resetting the player would revoke: their standing completions and the XP those
    were awarded. Raises NotFound (user_not_found)."""
    user = get_user(user_id)
    count, xp = db.session.execute(
        select(func.count(), func.coalesce(func.sum(LevelCompletion.awarded_xp), 0)).where(
            LevelCompletion.user_id == user_id, LevelCompletion.revoked_at.is_(None)
        )
    ).one()
    return ResetPreview(user=user, standing_completions=count, standing_xp=xp)


def offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def summary_of(user: User) -> UserSummary:
    return UserSummary(
        id=user.id,
        username=user.username,
        email=user.email,
        total_xp=user.total_xp,
        is_admin=user.is_admin,
        created_at=user.created_at,
    )


def actor_of(entry: XPHistory) -> int | None:
    actor = (entry.extra or {}).get("actor_id")
    return actor if isinstance(actor, int) else None


def usernames(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return dict(rows.tuples().all())


def completion_query() -> Any:
    c = LevelCompletion
    return (
        select(c, User.username, Level.name)
        .join(User, User.id == c.user_id)
        .outerjoin(Level, Level.level_id == c.level_id)
    )


def line_of(row: Any) -> CompletionLine:
    completion, username, level_name = row
    return CompletionLine(
        id=completion.id,
        user_id=completion.user_id,
        username=username,
        level_id=completion.level_id,
        level_name=level_name or completion.level_id,
        score=completion.score,
        difficulty=completion.difficulty,
        awarded_xp=completion.awarded_xp,
        created_at=completion.created_at,
        revoked_at=completion.revoked_at,
    )
