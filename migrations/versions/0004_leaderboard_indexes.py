"""Indexes for the leaderboards: users by total XP, and the ledger by time with what it sums.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A period's board sums delta and takes the largest id per user over a created_at range: with
# every column it reads in the index, PostgreSQL answers from the index alone.
HISTORY_COLUMNS = ["created_at", "user_id", "delta", "id"]


def upgrade():
    op.create_index("ix_users_total_xp", "users", ["total_xp"])
    op.create_index("ix_xp_history_created_at_user_id_delta_id", "xp_history", HISTORY_COLUMNS)


def downgrade():
    op.drop_index("ix_xp_history_created_at_user_id_delta_id", table_name="xp_history")
    op.drop_index("ix_users_total_xp", table_name="users")
