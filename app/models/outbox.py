"""The transactional outbox: what happened, written in the transaction that made it happen, for
the relay to hand to the queue afterwards (docs/architecture.md, "Post-processing")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.progress import BigId
from app.models.types import JSONType, UTCDateTime

OUTBOX_KINDS = ("completion_recorded", "completion_revoked", "xp_adjusted", "player_reset")


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (
        # The relay's read: the oldest pending events, from an index of the pending ones only.
        Index(
            "ix_outbox_events_pending",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{kind}'" for kind in OUTBOX_KINDS)),
            name="known_kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by the relay once the event is on the queue; NULL while it is pending.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
