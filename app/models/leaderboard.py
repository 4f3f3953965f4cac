"""What the leaderboards read: each player's XP per period, summed from the ledger as written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

# The all-time board is one period too, keyed by this start (nothing is dated before it).
ALL_TIME_START = datetime(1970, 1, 1, tzinfo=UTC)


class LeaderboardTotal(db.Model):
    """One player's sum of ledger deltas in one period, and the id of the latest entry counted.

    Derived, never a truth of its own: the ledger's write path (app/services/ledger.py) keeps
    it in step in the transaction that appends each entry, and it can be rebuilt from the
    ledger at any time (app/services/leaderboard.py). Rows of ended weeks and months are read
    by nothing and stay until pruned.
    """

    __tablename__ = "leaderboard_totals"
    __table_args__ = (CheckConstraint("period IN ('all', 'week', 'month')", name="known_period"),)

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    # The instant the period starts (UTC); for "all", ALL_TIME_START.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    xp: Mapped[int] = mapped_column(Integer)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)


# A board reads its top rows in order from here, ties broken by who reached the XP first, and
# counts the players ahead of the viewer from the same index. A player's own row is found by the
# primary key (the write path's ON CONFLICT always uses it).
Index(
    "ix_leaderboard_totals_board",
    LeaderboardTotal.period,
    LeaderboardTotal.starts_at,
    LeaderboardTotal.xp.desc(),
    LeaderboardTotal.last_entry_id,
)
