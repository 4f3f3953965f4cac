"""Alembic environment for CyberQuest: runs inside the Flask app (via Flask-Migrate)."""

import logging

from alembic import context
from flask import current_app

config = context.config
# No fileConfig(alembic.ini): migrations run inside the app, whose logging (JSON lines in
# production, app/logs.py) is already set up and must stay in charge.
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata


def skip_empty_autogenerate(context_, revision, directives):
    """`flask db migrate` with no model change writes no file (never an empty migration)."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate_extension.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    options = dict(migrate_extension.configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Rebuilding a large table may take longer than the statement bound that keeps
            # requests short (DATABASE_STATEMENT_TIMEOUT_MS); a migration has none.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()  # ends the transaction the SET began; the setting stays
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
