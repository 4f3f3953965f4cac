"""What players did and what it earned: completions, the XP ledger, per-level progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, UTCDateTime

# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")

LEDGER_REASONS = ("level_completion", "manual_adjustment", "completion_revoked")


class LevelCompletion(db.Model):
    """One accepted completion, with the XP it was awarded when it was recorded."""

    __tablename__ = "level_completions"
    __table_args__ = (
        # Exactly-once: one completion per (user, client_event_id), enforced by the database.
        Index(
            "uq_level_completions_user_id_client_event_id",
            "user_id",
            "client_event_id",
            unique=True,
            postgresql_where=text("client_event_id IS NOT NULL"),
            sqlite_where=text("client_event_id IS NOT NULL"),
        ),
        # The dedup window and a player's completions of one level.
        Index(
            "ix_level_completions_user_id_level_id_created_at", "user_id", "level_id", "created_at"
        ),
        CheckConstraint("awarded_xp >= 0", name="awarded_xp_not_negative"),
        CheckConstraint("score >= 0", name="score_not_negative"),
        CheckConstraint("time_spent >= 0", name="time_spent_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    level_id: Mapped[str] = mapped_column(ForeignKey("levels.level_id", onupdate="CASCADE"))
    level_type: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    time_spent: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[str] = mapped_column(String(16))
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    client_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source: Mapped[str] = mapped_column(String(16), default="web", server_default="web")
    awarded_xp: Mapped[int] = mapped_column(Integer)
    xp_breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Tells a retried request (same hash) from a different one reusing its event id.
    payload_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class XPHistory(db.Model):
    """The append-only XP ledger: every change to a user's total, with the balance after it."""

    __tablename__ = "xp_history"
    __table_args__ = (
        # Newest-first history pages and the ledger walk of `flask xp verify`.
        Index("ix_xp_history_user_id_id", "user_id", "id"),
        # Weekly and monthly leaderboards: the period's entries read from the index alone.
        Index("ix_xp_history_created_at_user_id_delta_id", "created_at", "user_id", "delta", "id"),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint(
            "reason IN ('level_completion', 'manual_adjustment', 'completion_revoked')",
            name="known_reason",
        ),
        # Ids are never reused, even once every row has been archived: SQLite would otherwise
        # hand out max(id) + 1 again, and ids are unique across xp_history and its archive.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[int | None] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class XPHistoryArchive(db.Model):
    """Ledger entries moved out of xp_history by `flask xp archive`, unchanged but for when they
    were moved (docs/operations.md, "Retention"). Together the two tables are the whole ledger."""

    __tablename__ = "xp_history_archive"
    __table_args__ = (
        Index("ix_xp_history_archive_user_id_id", "user_id", "id"),
        Index("ix_xp_history_archive_created_at", "created_at"),
    )

    # The id the entry had in xp_history: ids stay unique across both tables.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[int | None] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class LedgerUnlock(db.Model):
    """While a transaction holds a row here, the append-only triggers let it move or delete
    ledger rows: archival does, and nothing else in the product (app/services/append_only.py).
    The row is deleted before that transaction commits, so no other one ever sees it."""

    __tablename__ = "ledger_unlocks"

    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    unlocked_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class UserLevelProgress(db.Model):
    """A player's standing on one level, kept in step with completions in the same transaction."""

    __tablename__ = "user_level_progress"
    __table_args__ = (
        CheckConstraint("xp_earned >= 0", name="xp_earned_not_negative"),
        CheckConstraint("completions_count >= 0", name="completions_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    level_id: Mapped[str] = mapped_column(
        ForeignKey("levels.level_id", onupdate="CASCADE"), primary_key=True
    )
    best_score: Mapped[int | None] = mapped_column(Integer)
    xp_earned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completions_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
