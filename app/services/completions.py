"""Recording a level completion: exactly once, XP computed here, ledger and progress in step."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g
from sqlalchemy import Integer, String, bindparam, case, exists, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError

from app.errors import ConflictingReuse, LevelLocked, LevelNotFound, ValidationFailed
from app.extensions import db
from app.models import Level, LevelCompletion, UserLevelProgress
from app.models.types import utcnow
from app.services import ledger, outbox, read_ahead, write_batch
from app.services.levels import xp_rules
from app.signals import completion_recorded, emit
from app.utils import xp

EVENT_ID_INDEX = "uq_level_completions_user_id_client_event_id"

# Prebuilt Core statements for the hot path (see ledger.py for why).
completions = LevelCompletion.__table__
progress = UserLevelProgress.__table__
ORIGINAL = read_ahead.ORIGINAL
REPLAY_BY_EVENT = (
    select(*ORIGINAL, ledger.users.c.total_xp, *ledger.LEVEL_COLUMNS)
    .select_from(
        completions.join(ledger.users, ledger.users.c.id == completions.c.user_id).join(
            ledger.levels, ledger.levels.c.level_id == completions.c.level_id
        )
    )
    .where(
        completions.c.user_id == bindparam("user_id"),
        completions.c.client_event_id == bindparam("event_id"),
    )
)
# PostgreSQL answers a replay, or reads ahead for a new completion, in one statement
# (read_ahead.py), made here when the caller's lookup has not made it already.
REPLAY_OR_READ_AHEAD = read_ahead.joined(select().select_from(ledger.users)).where(
    ledger.users.c.id == bindparam("user_id")
)
ORIGINAL_BY_ID = select(*ORIGINAL).where(completions.c.id == bindparam("completion_id"))
CREDITED = (
    select(progress.c.xp_earned)
    .where(progress.c.user_id == bindparam("user_id"), progress.c.level_id == bindparam("level_id"))
    .scalar_subquery()
)
EARLIER_BY_EVENT = select(
    select(func.max(completions.c.id))
    .where(
        completions.c.user_id == bindparam("user_id"),
        completions.c.client_event_id == bindparam("event_id"),
    )
    .scalar_subquery(),
    CREDITED,
)
# The same payload (level, score, time, difficulty, kept metadata), not merely the same score:
# a better run at another difficulty or time is a new completion. The (user, level,
# created_at) index narrows this to the few rows of the window; the hash is checked on those.
EARLIER_IN_WINDOW = select(
    select(func.max(completions.c.id))
    .where(
        completions.c.user_id == bindparam("user_id"),
        completions.c.level_id == bindparam("level_id"),
        completions.c.payload_hash == bindparam("payload_hash"),
        completions.c.created_at >= bindparam("since"),
        completions.c.revoked_at.is_(None),
    )
    .scalar_subquery(),
    CREDITED,
)
INSERT_COMPLETION = completions.insert().returning(completions.c.id)
INSERT_PROGRESS = progress.insert()
UPDATE_PROGRESS = (
    progress.update()
    .where(
        progress.c.user_id == bindparam("b_user_id"),
        progress.c.level_id == bindparam("b_level_id"),
    )
    .values(
        # The larger of the stored best score and this one, in SQL every backend understands.
        best_score=case(
            (progress.c.best_score.is_(None), bindparam("b_score")),
            (progress.c.best_score < bindparam("b_score"), bindparam("b_score")),
            else_=progress.c.best_score,
        ),
        xp_earned=progress.c.xp_earned + bindparam("b_awarded"),
        completions_count=progress.c.completions_count + 1,
        last_completed_at=bindparam("b_now"),
    )
)

# The same writes as steps of a write batch (write_batch.py). The completion is its anchor,
# written only while the XP credited for the level is still what the award was computed from.
# Every column a new completion writes (the id is the database's; revoked_at comes later).
LATER = ("id", "revoked_at")
# The columns a batch step writes with the batch's own parameters.
BATCH_SHARED = {"user_id": write_batch.PLAYER, "created_at": write_batch.NOW}
COMPLETION_COLUMNS = tuple(c.name for c in completions.columns if c.name not in LATER)
STILL_CREDITED = (
    select(progress.c.xp_earned)
    .where(
        progress.c.user_id == write_batch.PLAYER,
        progress.c.level_id == bindparam("c_level_id"),
    )
    .scalar_subquery()
    .is_not_distinct_from(bindparam("c_credited", type_=Integer))
)


def batch_completion(*guards):
    return (
        completions.insert()
        .from_select(
            list(COMPLETION_COLUMNS),
            select(
                *write_batch.step_values(completions, COMPLETION_COLUMNS, "c", BATCH_SHARED)
            ).where(STILL_CREDITED, *guards),
        )
        .returning(completions.c.id)
        .cte(write_batch.ANCHOR_NAME)
    )


# Under the player's lock, the credit is the only guard.
BATCH_COMPLETION = batch_completion()
# Without it (the write right after the read ahead), the statement takes the lock itself and
# writes only if the player's row is still the version read ahead: a concurrent change of the
# player's XP that commits while the statement waits for the lock makes it write nothing.
USER_UNCHANGED = (
    select(ledger.users.c.id)
    .where(
        ledger.users.c.id == write_batch.PLAYER,
        sql_text("users.xmin = CAST(:c_user_version AS xid)").bindparams(
            bindparam("c_user_version", type_=String)
        ),
    )
    .with_for_update()
    .cte("user_unchanged")
)
BATCH_UNLOCKED_COMPLETION = batch_completion(exists(select(USER_UNCHANGED.c.id)))
PROGRESS_COLUMNS = tuple(c.name for c in progress.columns)
FIRST_PROGRESS_SHARED = {
    "user_id": write_batch.PLAYER,
    "first_completed_at": write_batch.NOW,
    "last_completed_at": write_batch.NOW,
}
BATCH_FIRST_PROGRESS = (
    progress.insert()
    .from_select(
        list(PROGRESS_COLUMNS),
        select(
            *write_batch.step_values(progress, PROGRESS_COLUMNS, "p", FIRST_PROGRESS_SHARED)
        ).where(write_batch.GATE),
    )
    .cte("progress_written")
)
BATCH_MORE_PROGRESS = UPDATE_PROGRESS.where(write_batch.GATE).cte("progress_written")


@dataclass(frozen=True)
class CompletionRequest:
    """A validated completion as the player's client reported it."""

    level_id: str
    score: int
    time_spent: int
    difficulty: str = "normal"
    level_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    client_event_id: uuid.UUID | None = None
    source: str = "web"

    def payload_hash(self) -> str:
        """A digest of everything that decides the award; a retry has the same one."""
        canonical = json.dumps(
            [
                self.level_id,
                self.level_type,
                self.score,
                self.time_spent,
                self.difficulty,
                self.metadata,
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


# What became of a posted completion, as metrics and logs name it: recorded anew, a retry of a
# known event id, a repeat within the dedup window (no event id), an event id reused for
# another payload, or refused for any other reason (the error code says which).
OUTCOME_NEW = "new"
OUTCOME_REPLAY = "replay"
OUTCOME_DUPLICATE = "duplicate"
OUTCOME_CONFLICT = "conflict"
OUTCOME_REFUSED = "refused"
OUTCOMES = (OUTCOME_NEW, OUTCOME_REPLAY, OUTCOME_DUPLICATE, OUTCOME_CONFLICT, OUTCOME_REFUSED)


@dataclass(frozen=True)
class CompletionResult:
    completion_id: int
    awarded_xp: int
    new_total_xp: int
    is_new_completion: bool
    xp_breakdown: dict[str, Any]
    level: Level
    outcome: str = OUTCOME_NEW


def record_completion(user_id: int, request: CompletionRequest) -> CompletionResult:
    """Record a completion for `user_id` once, award its XP, and return the result.

    A retry of a recorded completion returns the original result with is_new_completion False.
    Raises LevelNotFound, LevelLocked, ValidationFailed (score/time out of the level's bounds)
    or ConflictingReuse (the event id was used for a different payload).
    """
    payload_hash = request.payload_hash()
    try:
        result = replay_of_event(user_id, request, payload_hash)
        if result is None:
            result = record_in_transaction(user_id, request, payload_hash)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if EVENT_ID_INDEX not in str(error.orig) and "client_event_id" not in str(error.orig):
            raise
        # A concurrent twin with the same event id committed first: answer as its replay.
        result = replay_of_event(user_id, request, payload_hash)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if result.is_new_completion:
        emit(completion_recorded, result=result)
    return result


def replay_of_event(
    user_id: int, request: CompletionRequest, payload_hash: str
) -> CompletionResult | None:
    """The original result when this event id was recorded already (None otherwise).

    A recorded completion never changes, so this read needs no lock: a retry is answered
    without queueing behind the player's other writes. A miss falls through to the locked
    path, which looks again after taking the lock.
    """
    if request.client_event_id is None:
        return None
    row = read_ahead.take(user_id, request.client_event_id, request.level_id)
    if row is None:
        connection = db.session.connection()
        params = {"user_id": user_id, "event_id": request.client_event_id}
        if connection.dialect.name != "postgresql":
            row = connection.execute(REPLAY_BY_EVENT, params).first()
            if row is None:
                return None
            level = ledger.level_from_row(row)
            return replay_result(row, level, row.total_xp, payload_hash, request)
        params["level_id"] = request.level_id
        row = connection.execute(REPLAY_OR_READ_AHEAD, params).first()
    if row is None:
        return None
    level = ledger.level_of_version(row.level_id, row.level_version)
    if row.completion_id is None:
        ahead = ReadAhead(user_id, request, level, row.credited, row.total_xp, row.user_version)
        g.completion_read_ahead = ahead
        return None
    return replay_result(row, level, row.total_xp, payload_hash, request)


@dataclass(frozen=True)
class ReadAhead:
    """What the replay check read for a new completion, before the player's lock: the level and
    the XP already credited for it. The write checks the credit still holds."""

    user_id: int
    request: CompletionRequest
    level: Level | None
    credited: int | None
    total_xp: int
    user_version: str


def take_read_ahead(user_id: int, request: CompletionRequest) -> ReadAhead | None:
    ahead = g.pop("completion_read_ahead", None)
    if ahead is None or ahead.user_id != user_id or ahead.request != request:
        return None
    return ahead


def record_in_transaction(
    user_id: int, request: CompletionRequest, payload_hash: str
) -> CompletionResult:
    ahead = take_read_ahead(user_id, request)
    if ahead is not None:
        level = checked_level(ahead.level, request)
        read = ledger.LockedUser(total_xp=ahead.total_xp)
        recorded = write_completion(
            user_id, request, payload_hash, level, read, ahead.credited, ahead.user_version
        )
        if recorded is not None:
            return recorded
        # The player's XP changed since the read ahead: read again, under the player's lock.
    locked = ledger.lock_user(user_id, None if ahead else request.level_id)
    if locked is None:
        raise ValidationFailed("The user no longer exists.", code="unknown_user")
    level = checked_level(ahead.level if ahead else locked.level, request)
    earlier_id, credited = earlier_completion_and_credit(user_id, request, payload_hash)
    if earlier_id is not None:
        connection = db.session.connection()
        earlier = connection.execute(ORIGINAL_BY_ID, {"completion_id": earlier_id}).one()
        return replay_result(earlier, level, locked.total_xp, payload_hash, request)
    recorded = write_completion(user_id, request, payload_hash, level, locked, credited)
    if recorded is None:
        recorded = write_completion(
            user_id, request, payload_hash, level, locked, credited, batched=False
        )
    return recorded


def write_completion(
    user_id: int,
    request: CompletionRequest,
    payload_hash: str,
    level: Level,
    locked: ledger.LockedUser,
    credited: int | None,
    user_version: str | None = None,
    *,
    batched: bool = True,
) -> CompletionResult | None:
    """Award the run against what is `credited` for the level and write the completion, its
    ledger entry, progress and outbox event: on PostgreSQL (`batched`) as one statement, which
    writes nothing and returns None when the credit is no longer `credited`.

    `locked` is the player's total under the lock, or with `user_version` (PostgreSQL only)
    the total read along with that version of the player's row, unlocked: the statement then
    locks the row and writes only while it is still that version."""
    breakdown = xp.calculate_xp(
        level.facts,
        request.score,
        request.time_spent,
        request.difficulty,
        request.metadata,
        xp_rules(),
    )
    already = credited or 0
    awarded = xp.award_for_repeat(breakdown.xp, already)
    details = breakdown.as_dict() | {"previously_credited": already, "awarded": awarded}
    now = utcnow()
    connection = db.session.connection()
    batch = None
    if batched and connection.dialect.name == "postgresql":
        batch = write_batch.WriteBatch(connection, user_id, now)
    row = {
        "user_id": user_id,
        "level_id": level.level_id,
        "level_type": request.level_type,
        "score": request.score,
        "time_spent": request.time_spent,
        "difficulty": request.difficulty,
        "metadata": request.metadata,
        "client_event_id": request.client_event_id,
        "source": request.source,
        "awarded_xp": awarded,
        "xp_breakdown": details,
        "payload_hash": payload_hash,
        "created_at": now,
    }
    if batch is None:
        if user_version is not None:
            raise ValueError("Only a batched write takes the player's lock itself.")
        completion_id = connection.execute(INSERT_COMPLETION, row).scalar_one()
    else:
        params = write_batch.step_params(row, "c", BATCH_SHARED)
        params["c_credited"] = credited
        if user_version is None:
            batch.add(BATCH_COMPLETION, params)
        else:
            batch.add(BATCH_UNLOCKED_COMPLETION, params | {"c_user_version": user_version})
        completion_id = write_batch.ANCHOR_ID
    total = locked.total_xp
    if awarded > 0:
        total = ledger.append_entry(
            user_id,
            awarded,
            "level_completion",
            now=now,
            reference_id=completion_id,
            metadata={"level_id": level.level_id},
            batch=batch,
        )
    record_progress(
        user_id, level.level_id, request.score, awarded, now, is_first=credited is None, batch=batch
    )
    outbox.add("completion_recorded", user_id, {"completion_id": completion_id}, now, batch=batch)
    if batch is not None:
        written = batch.execute(*([total] if awarded > 0 else []))
        if written is None:
            return None
        completion_id = written[0]
        total = written[1] if awarded > 0 else total
    return CompletionResult(
        completion_id=completion_id,
        awarded_xp=awarded,
        new_total_xp=total,
        is_new_completion=True,
        xp_breakdown=details,
        level=level,
    )


def checked_level(level: Level | None, request: CompletionRequest) -> Level:
    if level is None:
        raise LevelNotFound(request.level_id)
    if not level.is_playable:
        raise LevelLocked(f"Level {level.level_id} is not open for play.")
    fields = {}
    if request.score > level.max_score:
        fields["score"] = [f"The most this level scores is {level.max_score}."]
    if request.time_spent < level.min_time_seconds:
        fields["time_spent"] = [
            f"Nobody finishes this level in under {level.min_time_seconds} seconds."
        ]
    if fields:
        raise ValidationFailed(fields=fields)
    return level


def earlier_completion_and_credit(
    user_id: int, request: CompletionRequest, payload_hash: str
) -> tuple[int | None, int | None]:
    """The completion this request repeats (by event id, else the same payload within the
    dedup window), and the XP already credited for the level (None before the first
    completion). One statement, run after the lock so it sees everything committed before it."""
    params: dict[str, Any] = {"user_id": user_id, "level_id": request.level_id}
    if request.client_event_id is not None:
        statement = EARLIER_BY_EVENT
        params["event_id"] = request.client_event_id
    else:
        statement = EARLIER_IN_WINDOW
        window = timedelta(seconds=current_app.config["DEDUP_WINDOW_SECONDS"])
        params |= {"payload_hash": payload_hash, "since": utcnow() - window}
    row = db.session.connection().execute(statement, params).one()
    return row[0], row[1]


def record_progress(
    user_id: int,
    level_id: str,
    score: int,
    awarded: int,
    now: datetime,
    *,
    is_first: bool,
    batch: write_batch.WriteBatch | None = None,
) -> None:
    """Keep the per-level summary in step (the user lock makes read-then-write safe here); with
    a `batch`, as a step of it."""
    if is_first:
        row = {
            "user_id": user_id,
            "level_id": level_id,
            "best_score": score,
            "xp_earned": awarded,
            "completions_count": 1,
            "first_completed_at": now,
            "last_completed_at": now,
        }
        if batch is None:
            db.session.connection().execute(INSERT_PROGRESS, row)
        else:
            batch.add(
                BATCH_FIRST_PROGRESS, write_batch.step_params(row, "p", FIRST_PROGRESS_SHARED)
            )
        return
    params = {
        "b_user_id": user_id,
        "b_level_id": level_id,
        "b_score": score,
        "b_awarded": awarded,
        "b_now": now,
    }
    if batch is None:
        db.session.connection().execute(UPDATE_PROGRESS, params)
    else:
        batch.add(BATCH_MORE_PROGRESS, params)


def replay_result(
    earlier: Any,
    level: Level,
    total_xp: int,
    payload_hash: str,
    request: CompletionRequest,
) -> CompletionResult:
    """The original result of `earlier` (a row of ORIGINAL columns), with the current total."""
    if request.client_event_id is not None and earlier.payload_hash != payload_hash:
        raise ConflictingReuse(earlier.completion_id)
    return CompletionResult(
        completion_id=earlier.completion_id,
        awarded_xp=earlier.awarded_xp,
        new_total_xp=total_xp,
        is_new_completion=False,
        xp_breakdown=earlier.xp_breakdown,
        level=level,
        outcome=OUTCOME_DUPLICATE if request.client_event_id is None else OUTCOME_REPLAY,
    )
