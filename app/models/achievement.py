"""Achievements players hold now, and the record of every one awarded or taken away (§17)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.progress import BigId
from app.models.types import UTCDateTime

ACHIEVEMENT_EVENT_KINDS = ("earned", "revoked")


class UserAchievement(db.Model):
    """An achievement a player meets now. The primary key makes an award exactly once: two
    evaluations that both find it new insert one row between them."""

    __tablename__ = "user_achievements"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # A key of app/achievements_catalog.py.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    # When the player was shown the notice of it; NULL until their next page.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AchievementEvent(db.Model):
    """One award or one taking-away, appended by the evaluation that made it."""

    __tablename__ = "achievement_events"
    __table_args__ = (
        # A player's events in the order they happened.
        Index("ix_achievement_events_user_id_id", "user_id", "id"),
        CheckConstraint("kind IN ('earned', 'revoked')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
