"""Reading the level catalog and loading it from app/levels_catalog.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.levels_catalog import LEVELS
from app.models import Level
from app.models.types import utcnow
from app.utils import xp

# Columns the catalog owns; a sync rewrites these and nothing else.
CATALOG_FIELDS = (
    "position",
    "name",
    "description",
    "category",
    "icon",
    "difficulty",
    "xp_reward",
    "estimated_time",
    "expected_time_seconds",
    "max_score",
    "min_time_seconds",
    "skills",
    "unlocked",
    "coming_soon",
    "extra",
)


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    unchanged: int


def xp_rules() -> xp.XPRules:
    """The XP rules in force: the defaults with the XP_RULES setting laid over them."""
    overrides = current_app.config["XP_RULES"]
    cache = current_app.extensions.setdefault("xp_rules", {})
    key = repr(sorted(overrides.items()))
    if key not in cache:
        cache.clear()
        cache[key] = xp.XPRules.from_mapping(overrides)
    return cache[key]


def max_xp(level: Level) -> int:
    """The most XP one run of `level` can earn under the rules in force."""
    return xp.max_xp(level.facts, xp_rules())


def max_xp_by_difficulty(level: Level) -> dict[str, int]:
    """Per mode the player may choose, the XP of a perfect, fast, hint-free run of `level`."""
    return xp.max_xp_by_difficulty(level.facts, xp_rules())


def rules_description() -> xp.RulesDescription:
    """The rules in force in words, for the pages and GET /api/levels to show (README: XP rules)."""
    return xp.describe_rules(xp_rules())


def get_level(level_id: str) -> Level | None:
    """The level with this level_id ("1"), or None."""
    return db.session.execute(select(Level).where(Level.level_id == level_id)).scalar_one_or_none()


def list_levels() -> list[Level]:
    """Every level in catalog order."""
    return list(db.session.scalars(select(Level).order_by(Level.position, Level.id)))


def sync_catalog(catalog: Iterable[Mapping[str, Any]] = LEVELS) -> SyncReport:
    """Insert or update every catalog level; idempotent. Levels missing from it are kept."""
    existing = {level.level_id: level for level in db.session.scalars(select(Level))}
    added = updated = unchanged = 0
    now = utcnow()
    for entry in catalog:
        values = {field: entry[field] for field in CATALOG_FIELDS if field in entry}
        level = existing.get(str(entry["level_id"]))
        if level is None:
            db.session.add(Level(level_id=str(entry["level_id"]), updated_at=now, **values))
            added += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(level, k) != v}
        if changed:
            for field, value in changed.items():
                setattr(level, field, value)
            level.updated_at = now
            updated += 1
        else:
            unchanged += 1
    db.session.commit()
    return SyncReport(added=added, updated=updated, unchanged=unchanged)
