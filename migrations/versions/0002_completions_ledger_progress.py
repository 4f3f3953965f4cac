"""Level completions, the XP ledger and per-level progress.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HAS_EVENT_ID = sa.text("client_event_id IS NOT NULL")


def user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def level_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["level_id"],
        ["levels.level_id"],
        name=op.f(f"fk_{table}_level_id_levels"),
        onupdate="CASCADE",
    )


def upgrade():
    op.create_table(
        "level_completions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.String(length=64), nullable=False),
        sa.Column("level_type", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("time_spent", sa.Integer(), nullable=False),
        sa.Column("difficulty", sa.String(length=16), nullable=False),
        sa.Column("metadata", JSON_TYPE, nullable=False),
        sa.Column("client_event_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="web", nullable=False),
        sa.Column("awarded_xp", sa.Integer(), nullable=False),
        sa.Column("xp_breakdown", JSON_TYPE, nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "awarded_xp >= 0", name=op.f("ck_level_completions_awarded_xp_not_negative")
        ),
        sa.CheckConstraint("score >= 0", name=op.f("ck_level_completions_score_not_negative")),
        sa.CheckConstraint(
            "time_spent >= 0", name=op.f("ck_level_completions_time_spent_not_negative")
        ),
        level_fk("level_completions"),
        user_fk("level_completions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_level_completions")),
    )
    op.create_index(
        "ix_level_completions_user_id_level_id_created_at",
        "level_completions",
        ["user_id", "level_id", "created_at"],
    )
    op.create_index(
        "uq_level_completions_user_id_client_event_id",
        "level_completions",
        ["user_id", "client_event_id"],
        unique=True,
        postgresql_where=HAS_EVENT_ID,
        sqlite_where=HAS_EVENT_ID,
    )

    op.create_table(
        "xp_history",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.BigInteger(), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("metadata", JSON_TYPE, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "reason IN ('level_completion', 'manual_adjustment', 'completion_revoked')",
            name=op.f("ck_xp_history_known_reason"),
        ),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_xp_history_balance_not_negative")),
        sa.CheckConstraint("delta <> 0", name=op.f("ck_xp_history_delta_not_zero")),
        user_fk("xp_history"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xp_history")),
    )
    op.create_index("ix_xp_history_user_id_id", "xp_history", ["user_id", "id"])

    op.create_table(
        "user_level_progress",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.String(length=64), nullable=False),
        sa.Column("best_score", sa.Integer(), nullable=True),
        sa.Column("xp_earned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completions_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "completions_count >= 0",
            name=op.f("ck_user_level_progress_completions_not_negative"),
        ),
        sa.CheckConstraint(
            "xp_earned >= 0", name=op.f("ck_user_level_progress_xp_earned_not_negative")
        ),
        level_fk("user_level_progress"),
        user_fk("user_level_progress"),
        sa.PrimaryKeyConstraint("user_id", "level_id", name=op.f("pk_user_level_progress")),
    )


def downgrade():
    op.drop_table("user_level_progress")
    op.drop_index("ix_xp_history_user_id_id", table_name="xp_history")
    op.drop_table("xp_history")
    op.drop_index("uq_level_completions_user_id_client_event_id", table_name="level_completions")
    op.drop_index(
        "ix_level_completions_user_id_level_id_created_at", table_name="level_completions"
    )
    op.drop_table("level_completions")
