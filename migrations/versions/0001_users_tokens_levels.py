"""Users, API tokens and the level catalog.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def timestamp(name: str, *, nullable: bool = False, server_default: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.func.now() if server_default else None,
        nullable=nullable,
    )


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("total_xp", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        timestamp("created_at"),
        sa.CheckConstraint("total_xp >= 0", name=op.f("ck_users_total_xp_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("created_at"),
        timestamp("last_used_at", nullable=True, server_default=False),
        timestamp("revoked_at", nullable=True, server_default=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("icon", sa.String(length=64), server_default="bi-controller", nullable=False),
        sa.Column("estimated_time", sa.String(length=32), server_default="", nullable=False),
        sa.Column("expected_time_seconds", sa.Integer(), nullable=True),
        sa.Column("xp_reward", sa.Integer(), nullable=False),
        sa.Column("skills", JSON_TYPE, nullable=False),
        sa.Column("difficulty", sa.String(length=32), nullable=False),
        sa.Column("unlocked", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("coming_soon", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("metadata", JSON_TYPE, nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=False),
        sa.Column("min_time_seconds", sa.Integer(), server_default="60", nullable=False),
        timestamp("created_at"),
        timestamp("updated_at", nullable=True, server_default=False),
        sa.CheckConstraint("max_score > 0", name=op.f("ck_levels_max_score_positive")),
        sa.CheckConstraint(
            "min_time_seconds >= 0", name=op.f("ck_levels_min_time_not_negative")
        ),
        sa.CheckConstraint("xp_reward >= 0", name=op.f("ck_levels_xp_reward_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_levels")),
        sa.UniqueConstraint("level_id", name=op.f("uq_levels_level_id")),
    )


def downgrade():
    op.drop_table("levels")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
