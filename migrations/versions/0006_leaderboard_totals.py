"""Leaderboard totals: each player's XP per period (all time, ISO week, calendar month) and the id
of the latest ledger entry counted, filled from the ledger as it stands.

From here on the ledger's write path keeps the table in step in the transaction of each entry,
and the boards read it instead of summing the period's entries. The backfill fills what the
boards read (all time, this week and this month, in LEADERBOARD_TIMEZONE) with this revision's
own copy of how periods are cut, as app/services/leaderboard.py cut them when it was written:
a later change there must not change what this revision does.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ALL_TIME_START = datetime(1970, 1, 1, tzinfo=UTC)
TIMESTAMP = sa.DateTime(timezone=True)
COLUMNS = ["period", "starts_at", "user_id", "xp", "last_entry_id"]


def upgrade():
    op.create_table(
        "leaderboard_totals",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("xp", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "period IN ('all', 'week', 'month')", name=op.f("ck_leaderboard_totals_known_period")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_leaderboard_totals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "period", "starts_at", "user_id", name=op.f("pk_leaderboard_totals")
        ),
    )
    op.create_index(
        "ix_leaderboard_totals_board",
        "leaderboard_totals",
        ["period", "starts_at", sa.text("xp DESC"), "last_entry_id"],
    )
    backfill(op.get_bind())


def downgrade():
    op.drop_index("ix_leaderboard_totals_board", table_name="leaderboard_totals")
    op.drop_table("leaderboard_totals")


def backfill(connection: sa.Connection) -> None:
    """Sum the entries of xp_history and xp_history_archive into each player's totals."""
    parts = [
        sa.select(
            sa.column("user_id"),
            sa.column("delta"),
            sa.column("id"),
            sa.column("created_at", TIMESTAMP),
        ).select_from(sa.table(name))
        for name in ("xp_history", "xp_history_archive")
    ]
    ledger = sa.union_all(*parts).subquery("ledger")
    boards = []
    for period, starts_at, ends_at in current_periods(datetime.now(UTC)):
        board = sa.select(
            sa.literal(period, sa.String),
            sa.literal(starts_at, TIMESTAMP),
            ledger.c.user_id,
            sa.func.sum(ledger.c.delta),
            sa.func.max(ledger.c.id),
        ).group_by(ledger.c.user_id)
        if ends_at is not None:
            board = board.where(ledger.c.created_at >= starts_at, ledger.c.created_at < ends_at)
        boards.append(board)
    totals = sa.table("leaderboard_totals", *(sa.column(name) for name in COLUMNS))
    connection.execute(sa.insert(totals).from_select(COLUMNS, sa.union_all(*boards)))


def current_periods(now: datetime):
    """(period, start, end) in UTC of all time (no end), the ISO week from Monday 00:00 and the
    calendar month holding `now`, periods starting at midnight in LEADERBOARD_TIMEZONE."""
    zone = ZoneInfo(current_app.config["LEADERBOARD_TIMEZONE"])
    today = now.astimezone(zone).date()
    monday, first = today - timedelta(days=today.weekday()), today.replace(day=1)
    yield "all", ALL_TIME_START, None
    yield "week", midnight(monday, zone), midnight(monday + timedelta(days=7), zone)
    yield (
        "month",
        midnight(first, zone),
        midnight((first + timedelta(days=32)).replace(day=1), zone),
    )


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
