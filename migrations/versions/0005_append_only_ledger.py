"""The ledger made append-only by the database, an archive for old entries, and corrections that
may leave a balance below zero.

- Triggers refuse UPDATE and DELETE on xp_history and xp_history_archive, DELETE on
  level_completions, and any UPDATE there but setting revoked_at once. A transaction that holds a
  row in ledger_unlocks is let through; archival is the one that does (docs/architecture.md).
- A revocation takes back exactly what its completion awarded, so a total (and the balance after
  an entry) may now be negative: the two "not negative" checks go.
- On SQLite, xp_history never reuses an id (AUTOINCREMENT), as PostgreSQL's sequence never does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_TYPE = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
REFUSAL = "the XP ledger is append-only (docs/architecture.md)"
# Every column of level_completions but revoked_at, as migration 0002 made them.
COMPLETION_COLUMNS = (
    "id",
    "user_id",
    "level_id",
    "level_type",
    "score",
    "time_spent",
    "difficulty",
    "metadata",
    "client_event_id",
    "source",
    "awarded_xp",
    "xp_breakdown",
    "payload_hash",
    "created_at",
)

POSTGRESQL_FUNCTIONS = f"""
CREATE FUNCTION ledger_is_unlocked() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT EXISTS (SELECT 1 FROM ledger_unlocks) $$;

CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ledger_is_unlocked() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION '% on % refused: {REFUSAL}', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION refuse_completion_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ledger_is_unlocked() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.revoked_at IS NULL
            AND to_jsonb(NEW) - 'revoked_at' = to_jsonb(OLD) - 'revoked_at' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on level_completions refused: only revoked_at may be set, once; {REFUSAL}',
        TG_OP USING ERRCODE = 'restrict_violation';
END $$;
"""
POSTGRESQL_TRIGGERS = [
    ("xp_history", "UPDATE OR DELETE", "ROW", "refuse_ledger_change"),
    ("xp_history", "TRUNCATE", "STATEMENT", "refuse_ledger_change"),
    ("xp_history_archive", "UPDATE OR DELETE", "ROW", "refuse_ledger_change"),
    ("xp_history_archive", "TRUNCATE", "STATEMENT", "refuse_ledger_change"),
    ("level_completions", "UPDATE OR DELETE", "ROW", "refuse_completion_change"),
    ("level_completions", "TRUNCATE", "STATEMENT", "refuse_completion_change"),
]

UNLOCKED = "EXISTS (SELECT 1 FROM ledger_unlocks)"
COMPLETION_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COMPLETION_COLUMNS)
SQLITE_TRIGGERS = {
    "xp_history_no_update": ("UPDATE ON xp_history", "1"),
    "xp_history_no_delete": ("DELETE ON xp_history", "1"),
    "xp_history_archive_no_update": ("UPDATE ON xp_history_archive", "1"),
    "xp_history_archive_no_delete": ("DELETE ON xp_history_archive", "1"),
    "level_completions_no_delete": ("DELETE ON level_completions", "1"),
    "level_completions_only_revoked_at": (
        "UPDATE ON level_completions",
        f"OLD.revoked_at IS NOT NULL OR {COMPLETION_CHANGED}",
    ),
}


def upgrade():
    op.create_table(
        "ledger_unlocks",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column(
            "unlocked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("purpose", name=op.f("pk_ledger_unlocks")),
    )
    op.create_table(
        "xp_history_archive",
        sa.Column("id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.BigInteger(), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("metadata", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "archived_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_xp_history_archive_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xp_history_archive")),
    )
    op.create_index(
        "ix_xp_history_archive_user_id_id", "xp_history_archive", ["user_id", "id"]
    )
    op.create_index("ix_xp_history_archive_created_at", "xp_history_archive", ["created_at"])

    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_total_xp_not_negative"), type_="check")
    # On SQLite the table is rebuilt; AUTOINCREMENT keeps it from reusing the ids of archived
    # entries once xp_history has been emptied (ids are unique across both tables).
    with op.batch_alter_table(
        "xp_history", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_constraint(op.f("ck_xp_history_balance_not_negative"), type_="check")

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTIONS)
        for table, events, level, function in POSTGRESQL_TRIGGERS:
            name = f"{table}_append_only" if level == "ROW" else f"{table}_no_truncate"
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {events} ON {table} "
                f"FOR EACH {level} EXECUTE FUNCTION {function}()"
            )
    else:
        for name, (event, condition) in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} FOR EACH ROW "
                f"WHEN NOT {UNLOCKED} AND ({condition}) "
                f"BEGIN SELECT RAISE(ABORT, '{event} refused: {REFUSAL}'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, _events, level, _function in POSTGRESQL_TRIGGERS:
            name = f"{table}_append_only" if level == "ROW" else f"{table}_no_truncate"
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in ("refuse_completion_change", "refuse_ledger_change", "ledger_is_unlocked"):
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    # Archived entries go back where they came from, ids and all: a downgrade loses no history.
    op.execute(
        "INSERT INTO xp_history (id, user_id, delta, reason, reference_id, balance_after, "
        "metadata, created_at) SELECT id, user_id, delta, reason, reference_id, balance_after, "
        "metadata, created_at FROM xp_history_archive"
    )
    # Back to the older rule: a ledger with balances below zero cannot be downgraded.
    with op.batch_alter_table("xp_history") as batch:
        batch.create_check_constraint(
            op.f("ck_xp_history_balance_not_negative"), "balance_after >= 0"
        )
    with op.batch_alter_table("users") as batch:
        batch.create_check_constraint(op.f("ck_users_total_xp_not_negative"), "total_xp >= 0")
    op.drop_index("ix_xp_history_archive_created_at", table_name="xp_history_archive")
    op.drop_index("ix_xp_history_archive_user_id_id", table_name="xp_history_archive")
    op.drop_table("xp_history_archive")
    op.drop_table("ledger_unlocks")
