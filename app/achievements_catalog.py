"""The achievement catalog (docs/architecture.md, "Post-processing"): what each achievement is
called and when a player meets it, judged from plain facts about their standing (no Flask, no
database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.levels_catalog import LEVELS

# Total XP to reach, and the milestone's icon.
XP_MILESTONES = ((100, "bi-star"), (500, "bi-stars"), (1000, "bi-gem"))


@dataclass(frozen=True)
class Standing:
    """What the rules read about a player: their completions that stand (not revoked) and their
    total XP."""

    completed_levels: frozenset[str]
    has_hint_free_run: bool
    has_perfect_score: bool
    total_xp: int


@dataclass(frozen=True)
class Achievement:
    # Stable: stored in user_achievements and answered by the API; never rename one.
    key: str
    name: str
    description: str
    icon: str  # a Bootstrap Icons class name
    is_met: Callable[[Standing], bool]


def level_achievement(level: dict) -> Achievement:
    level_id = level["level_id"]
    return Achievement(
        key=f"level-{level_id}",
        name=level["name"],
        description=f"Complete level {level_id}, {level['name']}.",
        icon=level["icon"],
        is_met=lambda standing: level_id in standing.completed_levels,
    )


def milestone_achievement(xp: int, icon: str) -> Achievement:
    return Achievement(
        key=f"xp-{xp}",
        name=f"{xp} XP",
        description=f"Reach a total of {xp} XP.",
        icon=icon,
        is_met=lambda standing: standing.total_xp >= xp,
    )


ALL_LEVEL_IDS = frozenset(level["level_id"] for level in LEVELS)

ACHIEVEMENTS: list[Achievement] = [
    Achievement(
        key="first-completion",
        name="First Steps",
        description="Complete your first level.",
        icon="bi-flag",
        is_met=lambda standing: bool(standing.completed_levels),
    ),
    *(level_achievement(level) for level in LEVELS),
    Achievement(
        key="all-levels",
        name="Full Clearance",
        description=f"Complete all {len(LEVELS)} levels.",
        icon="bi-award",
        is_met=lambda standing: standing.completed_levels >= ALL_LEVEL_IDS,
    ),
    Achievement(
        key="hint-free",
        name="No Hints Needed",
        description="Complete a level without using a single hint.",
        icon="bi-lightbulb-off",
        is_met=lambda standing: standing.has_hint_free_run,
    ),
    Achievement(
        key="perfect-score",
        name="Flawless",
        description="Complete a level with its highest possible score.",
        icon="bi-bullseye",
        is_met=lambda standing: standing.has_perfect_score,
    ),
    *(milestone_achievement(xp, icon) for xp, icon in XP_MILESTONES),
]

BY_KEY: dict[str, Achievement] = {achievement.key: achievement for achievement in ACHIEVEMENTS}


def met_by(standing: Standing) -> list[str]:
    """The keys of every achievement `standing` meets, in catalog order."""
    return [achievement.key for achievement in ACHIEVEMENTS if achievement.is_met(standing)]
