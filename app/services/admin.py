"""Operator changes to the ledger: manual XP adjustments, completion revocations and resets.

Each appends entries (never updates or deletes one), under the user's lock, in one transaction.
Corrections never cancel one another (docs/architecture.md, invariant 5): a revocation takes back
exactly what its completion awarded, however the total moved since, so a balance may go below 0
and later awards raise it again. An adjustment is the one change refused below 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from app.errors import Conflict, NegativeBalance, NotFound, ValidationFailed
from app.extensions import db
from app.models import LevelCompletion, UserLevelProgress, XPHistory
from app.models.types import utcnow
from app.services import ledger, outbox

MAX_ADJUSTMENT = 1_000_000
MAX_NOTE_LENGTH = 500


@dataclass(frozen=True)
class AdjustmentResult:
    entry: XPHistory
    new_total_xp: int


@dataclass(frozen=True)
class RevocationResult:
    completion_id: int
    reversed_xp: int
    new_total_xp: int
    entry: XPHistory | None  # None when the completion had earned nothing


@dataclass(frozen=True)
class ResetResult:
    user_id: int
    revoked_completions: int
    reversed_xp: int
    new_total_xp: int


def adjust_xp(user_id: int, delta: int, note: str, actor_id: int | None = None) -> AdjustmentResult:
    """Add `delta` XP to the user's total as a 'manual_adjustment' entry; return it and the total.

    Raises ValidationFailed (delta not a non-zero integer within ±1,000,000, note not 1-500
    characters), NotFound (user_not_found) or NegativeBalance (the total would drop below 0).
    """
    fields = delta_problems(delta) | note_problems(note)
    if fields:
        raise ValidationFailed("The XP adjustment is not valid.", fields=fields)
    try:
        locked = ledger.lock_user(user_id)
        if locked is None:
            raise NotFound(f"No user with id {user_id}.", code="user_not_found")
        if delta < 0 and locked.total_xp + delta < 0:
            raise NegativeBalance(locked.total_xp, delta)
        now = utcnow()
        balance = ledger.append_entry(
            user_id,
            delta,
            "manual_adjustment",
            now=now,
            metadata=operator_metadata(note, actor_id),
        )
        entry = newest_entry(user_id)
        outbox.add("xp_adjusted", user_id, {"entry_id": entry.id, "delta": delta}, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return AdjustmentResult(entry=entry, new_total_xp=balance)


def revoke_completion(
    completion_id: int, note: str, actor_id: int | None = None
) -> RevocationResult:
    """Mark a completion revoked, reverse exactly the XP it was awarded and take it out of the
    level's progress; the level's XP can be earned again by replaying it.

    Raises ValidationFailed (note), NotFound (completion_not_found) or Conflict (already_revoked).
    """
    fields = note_problems(note)
    if fields:
        raise ValidationFailed("The revocation is not valid.", fields=fields)
    try:
        result = revoke_in_transaction(completion_id, note, actor_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def reset_user(user_id: int, note: str, actor_id: int | None = None) -> ResetResult:
    """Revoke every completion of the user that stands, in one transaction: the player is left
    at what their adjustments add up to, with every level to earn again.

    Raises ValidationFailed (note) or NotFound (user_not_found).
    """
    fields = note_problems(note)
    if fields:
        raise ValidationFailed("The reset is not valid.", fields=fields)
    try:
        locked = ledger.lock_user(user_id)
        if locked is None:
            raise NotFound(f"No user with id {user_id}.", code="user_not_found")
        standing = db.session.scalars(
            select(LevelCompletion.id)
            .where(LevelCompletion.user_id == user_id, LevelCompletion.revoked_at.is_(None))
            .order_by(LevelCompletion.id)
        ).all()
        reversed_xp, total = 0, locked.total_xp
        for completion_id in standing:
            revocation = revoke_in_transaction(completion_id, note, actor_id, reset=True)
            reversed_xp += revocation.reversed_xp
            total = revocation.new_total_xp
        outbox.add("player_reset", user_id, {"revoked_completions": len(standing)}, utcnow())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return ResetResult(
        user_id=user_id,
        revoked_completions=len(standing),
        reversed_xp=reversed_xp,
        new_total_xp=total,
    )


def revoke_in_transaction(
    completion_id: int, note: str, actor_id: int | None, *, reset: bool = False
) -> RevocationResult:
    not_found = NotFound(f"No completion with id {completion_id}.", code="completion_not_found")
    user_id = db.session.execute(
        select(LevelCompletion.user_id).where(LevelCompletion.id == completion_id)
    ).scalar_one_or_none()
    if user_id is None:
        raise not_found
    locked = ledger.lock_user(user_id)
    # Every write to a user's completions holds this lock, so the row read now stays current.
    completion = db.session.execute(
        select(LevelCompletion)
        .where(LevelCompletion.id == completion_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if locked is None or completion is None:
        raise not_found
    if completion.revoked_at is not None:
        raise Conflict(
            f"Completion {completion_id} was already revoked at "
            f"{completion.revoked_at.isoformat()}.",
            code="already_revoked",
        )
    now = utcnow()
    completion.revoked_at = now
    db.session.flush()
    reversed_xp = completion.awarded_xp
    total, entry = locked.total_xp, None
    if reversed_xp > 0:
        metadata = operator_metadata(note, actor_id) | ({"reset": True} if reset else {})
        total = ledger.append_entry(
            user_id,
            -reversed_xp,
            "completion_revoked",
            now=now,
            reference_id=completion_id,
            metadata=metadata,
        )
        entry = newest_entry(user_id)
    remove_from_progress(completion)
    if not reset:  # a reset writes one event for all its revocations
        outbox.add("completion_revoked", user_id, {"completion_id": completion_id}, now)
    return RevocationResult(
        completion_id=completion_id, reversed_xp=reversed_xp, new_total_xp=total, entry=entry
    )


def remove_from_progress(completion: LevelCompletion) -> None:
    """Take a revoked completion out of its level's summary; the best score is recomputed from
    the completions left, and a replay can earn the level's XP again."""
    c, p = LevelCompletion, UserLevelProgress
    best_left = (
        select(func.max(c.score))
        .where(
            c.user_id == completion.user_id,
            c.level_id == completion.level_id,
            c.revoked_at.is_(None),
        )
        .scalar_subquery()
    )
    db.session.execute(
        update(p)
        .where(p.user_id == completion.user_id, p.level_id == completion.level_id)
        .values(
            xp_earned=p.xp_earned - completion.awarded_xp,
            completions_count=p.completions_count - 1,
            best_score=best_left,
        )
    )


def newest_entry(user_id: int) -> XPHistory:
    # The caller holds the user lock, so the newest entry is the one it just appended.
    return db.session.execute(
        select(XPHistory).where(XPHistory.user_id == user_id).order_by(XPHistory.id.desc()).limit(1)
    ).scalar_one()


def operator_metadata(note: str, actor_id: int | None) -> dict[str, Any]:
    return {"note": note.strip(), "actor_id": actor_id}


def delta_problems(delta: Any) -> dict[str, list[str]]:
    if (
        isinstance(delta, bool)
        or not isinstance(delta, int)
        or delta == 0
        or abs(delta) > MAX_ADJUSTMENT
    ):
        return {
            "delta": [f"Use a non-zero whole number from -{MAX_ADJUSTMENT} to {MAX_ADJUSTMENT}."]
        }
    return {}


def note_problems(note: Any) -> dict[str, list[str]]:
    if not isinstance(note, str) or not 1 <= len(note.strip()) <= MAX_NOTE_LENGTH:
        return {"note": [f"Say why in 1 to {MAX_NOTE_LENGTH} characters."]}
    return {}
