"""Reading the level catalog and loading it from app/levels_catalog.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.levels_catalog import LEVELS
from app.models import Level
from app.models.types import utcnow

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
LEVEL_REF = re.compile(r"^(?:level-)?([A-Za-z0-9_-]{1,64})$")


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    unchanged: int


def canonical_level_id(ref: Any) -> str:
    """The stored level_id for 1, "1" or "level-1"; raises ValidationFailed otherwise."""
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise ValidationFailed(fields={"level_id": ['Give the level as 1, "1" or "level-1".']})
    match = LEVEL_REF.match(str(ref).strip())
    if match is None:
        raise ValidationFailed(fields={"level_id": ['Give the level as 1, "1" or "level-1".']})
    return match.group(1)


def list_levels() -> list[Level]:
    """Every level in catalog order."""
    return list(db.session.scalars(select(Level).order_by(Level.position, Level.id)))


def find_level(ref: Any) -> Level | None:
    return db.session.execute(
        select(Level).where(Level.level_id == canonical_level_id(ref))
    ).scalar_one_or_none()


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
