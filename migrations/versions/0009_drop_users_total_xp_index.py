"""Drop the index on users.total_xp: the leaderboards read leaderboard_totals since 0006, and
nothing else orders or filters by the total. Without it, the update of a player's total on every
award can be a HOT update (no index entry written for the new row version) on PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_users_total_xp", table_name="users")


def downgrade():
    op.create_index("ix_users_total_xp", "users", ["total_xp"])
