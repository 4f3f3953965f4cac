"""Achievements (docs/architecture.md, "Post-processing"): which ones a player holds, kept in
step with their standing by evaluate() (the worker's job calls it after every change,
app/jobs.py), and the notices of new ones shown on the player's next page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.achievements_catalog import ACHIEVEMENTS, BY_KEY, Achievement, Standing, met_by
from app.extensions import db
from app.models import AchievementEvent, Level, LevelCompletion, UserAchievement
from app.models.types import utcnow
from app.services import ledger

user_achievements = UserAchievement.__table__
achievement_events = AchievementEvent.__table__
CATALOG_ORDER = {achievement.key: position for position, achievement in enumerate(ACHIEVEMENTS)}


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation changed: the keys it awarded and the keys it took away."""

    earned: list[str]
    revoked: list[str]


@dataclass(frozen=True)
class PlayerAchievement:
    key: str
    name: str
    description: str
    icon: str
    earned_at: datetime | None

    @property
    def is_earned(self) -> bool:
        return self.earned_at is not None


def evaluate(user_id: int) -> Evaluation:
    """Award the achievements the player meets now and take away those they no longer meet,
    recording an event for each; return what changed (nothing for an unknown user).

    Runs under the player's row lock, which every completion, revocation and adjustment also
    takes: evaluations of one player run one after another, each reading what the last one
    and every change before it committed. Running it again changes nothing more; the primary
    key of user_achievements would refuse a second award even without the lock.
    """
    try:
        result = evaluate_in_transaction(user_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def evaluate_in_transaction(user_id: int) -> Evaluation:
    locked = ledger.lock_user(user_id)
    if locked is None:
        return Evaluation(earned=[], revoked=[])
    met = set(met_by(standing_of(user_id, locked.total_xp)))
    now = utcnow()
    earned = award(user_id, met, now)
    revoked = take_away(user_id, set(BY_KEY) - met)
    record_events(user_id, [(key, "earned") for key in earned], now)
    record_events(user_id, [(key, "revoked") for key in revoked], now)
    return Evaluation(earned=earned, revoked=revoked)


def standing_of(user_id: int, total_xp: int) -> Standing:
    """The player's completions that stand (not revoked), summed up per level in one query."""
    c, level = LevelCompletion, Level
    hints_used = c.extra["hints_used"].as_integer()
    rows = db.session.execute(
        select(
            c.level_id,
            func.max(case((hints_used == 0, 1), else_=0)),
            # Scores never pass max_score when recorded; >= keeps a perfect run perfect if the
            # level's max_score is lowered later.
            func.max(case((c.score >= level.max_score, 1), else_=0)),
        )
        .join(level, level.level_id == c.level_id)
        .where(c.user_id == user_id, c.revoked_at.is_(None))
        .group_by(c.level_id)
    ).all()
    return Standing(
        completed_levels=frozenset(row[0] for row in rows),
        has_hint_free_run=any(row[1] for row in rows),
        has_perfect_score=any(row[2] for row in rows),
        total_xp=total_xp,
    )


def dialect_insert():
    """INSERT with ON CONFLICT for the backend in use (PostgreSQL or SQLite)."""
    name = db.session.connection().dialect.name
    return (postgresql if name == "postgresql" else sqlite).insert(user_achievements)


def award(user_id: int, keys: set[str], now: datetime) -> list[str]:
    """Insert the rows of `keys` the player does not hold yet; the keys actually inserted."""
    if not keys:
        return []
    statement = (
        dialect_insert()
        .values(
            [{"user_id": user_id, "key": key, "earned_at": now} for key in in_catalog_order(keys)]
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(user_achievements.c.key)
    )
    return in_catalog_order(db.session.scalars(statement))


def take_away(user_id: int, keys: set[str]) -> list[str]:
    """Delete the rows of `keys` the player holds; the keys actually deleted. Only catalog keys
    are ever asked for, so a row of an achievement retired from the catalog is left alone."""
    if not keys:
        return []
    statement = (
        user_achievements.delete()
        .where(user_achievements.c.user_id == user_id, user_achievements.c.key.in_(sorted(keys)))
        .returning(user_achievements.c.key)
    )
    return in_catalog_order(db.session.scalars(statement))


def record_events(user_id: int, changes: list[tuple[str, str]], now: datetime) -> None:
    if changes:
        db.session.execute(
            achievement_events.insert(),
            [
                {"user_id": user_id, "key": key, "kind": kind, "created_at": now}
                for key, kind in changes
            ],
        )


def in_catalog_order(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda key: CATALOG_ORDER.get(key, len(CATALOG_ORDER)))


def for_player(user_id: int) -> list[PlayerAchievement]:
    """The whole catalog in order, each with when the player earned it (None if they have not)."""
    earned_at = dict(
        db.session.execute(
            select(user_achievements.c.key, user_achievements.c.earned_at).where(
                user_achievements.c.user_id == user_id
            )
        ).all()
    )
    return [
        PlayerAchievement(
            key=achievement.key,
            name=achievement.name,
            description=achievement.description,
            icon=achievement.icon,
            earned_at=earned_at.get(achievement.key),
        )
        for achievement in ACHIEVEMENTS
    ]


def unseen(user_id: int) -> list[Achievement]:
    """The achievements the player holds and has not been told of yet, in catalog order.
    One read of the player's rows by the primary key's index: it runs on every page."""
    keys = db.session.scalars(
        select(user_achievements.c.key).where(
            user_achievements.c.user_id == user_id, user_achievements.c.notified_at.is_(None)
        )
    )
    return [BY_KEY[key] for key in in_catalog_order(keys) if key in BY_KEY]


def mark_seen(user_id: int, keys: Iterable[str]) -> list[Achievement]:
    """Mark the notices of `keys` as shown; return the achievements this call marked.

    Two pages loading at once both find the notice unseen, but only one of them marks it (the
    other's UPDATE then finds notified_at set), so a notice is shown once.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return []
    try:
        marked = db.session.scalars(
            user_achievements.update()
            .where(
                user_achievements.c.user_id == user_id,
                user_achievements.c.key.in_(wanted),
                user_achievements.c.notified_at.is_(None),
            )
            .values(notified_at=utcnow())
            .returning(user_achievements.c.key)
        ).all()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return [BY_KEY[key] for key in in_catalog_order(marked) if key in BY_KEY]
