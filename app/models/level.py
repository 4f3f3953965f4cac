"""The level catalog as stored: what a level is worth and how a completion is validated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Integer, String, Text, false, func, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, UTCDateTime
from app.utils.xp import LevelFacts


class Level(db.Model):
    __tablename__ = "levels"
    __table_args__ = (
        CheckConstraint("xp_reward >= 0", name="xp_reward_not_negative"),
        CheckConstraint("max_score > 0", name="max_score_positive"),
        CheckConstraint("min_time_seconds >= 0", name="min_time_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier level code and the API use ("1"); the API also accepts 1 and "level-1".
    level_id: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(80))
    icon: Mapped[str] = mapped_column(
        String(64), default="bi-controller", server_default="bi-controller"
    )
    estimated_time: Mapped[str] = mapped_column(String(32), default="", server_default="")
    expected_time_seconds: Mapped[int | None] = mapped_column(Integer)
    xp_reward: Mapped[int] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    difficulty: Mapped[str] = mapped_column(String(32))
    unlocked: Mapped[bool] = mapped_column(default=True, server_default=true())
    coming_soon: Mapped[bool] = mapped_column(default=False, server_default=false())
    # "metadata" is reserved on declarative classes; the column keeps its name.
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    max_score: Mapped[int] = mapped_column(Integer)
    min_time_seconds: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def number(self) -> int:
        """The level's number; catalog level_ids are numerals."""
        return int(self.level_id)

    @property
    def facts(self) -> LevelFacts:
        """What the XP calculator needs to know about this level."""
        return LevelFacts(
            xp_reward=self.xp_reward,
            max_score=self.max_score,
            min_time_seconds=self.min_time_seconds,
            expected_time_seconds=self.expected_time_seconds,
        )

    @property
    def is_playable(self) -> bool:
        return self.unlocked and not self.coming_soon

    def __repr__(self) -> str:
        return f"<Level {self.level_id} {self.name!r}>"
