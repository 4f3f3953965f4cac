"""Probes for load balancers and orchestrators: /healthz (the process answers) and /readyz (it
can serve: its database answers, is migrated to the code's head, and its limit store answers)."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.errors import DATABASE_UNAVAILABLE
from app.extensions import MIGRATIONS_DIRECTORY, db, limiter
from app.ratelimits import storage_errors

bp = Blueprint("health", __name__)
limiter.exempt(bp)  # a probe polls for ever; it must never be the one refused

OK = "ok"
NOT_USED = "not_used"
# The readiness queries get less than the app's statement timeout, so that the answer comes
# within about 3 s: at most 2 s to connect, then 1 s for the first statement kept waiting
# (which ends the check), and 0.5 s for Redis.
CHECK_STATEMENT_TIMEOUT_MS = 1000
REASON_LENGTH = 200
# Where Alembic records the revision a database is at (one row per head).
RECORDED_REVISIONS = sa.text("SELECT version_num FROM alembic_version")


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers; nothing else is looked at."""
    return probe_answer({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    """Readiness: 200 when every check passes, else 503 with the failing check saying why.

    An unreachable Redis fails it only with RATELIMIT_FAIL_CLOSED: otherwise limits fall back
    to memory and the worker still serves, and taking every worker out of the load balancer
    would turn a degraded service into none.
    """
    database, migrations = check_database()
    checks = {"database": database, "migrations": migrations, "redis": check_limit_store()}
    required = ["database", "migrations"]
    if current_app.config["RATELIMIT_FAIL_CLOSED"]:
        required.append("redis")
    ready = all(checks[name] in (OK, NOT_USED) for name in required)
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return probe_answer(body, 200 if ready else 503)


def probe_answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def check_database() -> tuple[str, str]:
    """The database and migrations checks: a real query, then the revision Alembic recorded
    against the migration scripts' head. Read-only, on a connection of its own (never the
    request's session), and rolled back."""
    try:
        with probe_engine().connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text(f"SET LOCAL statement_timeout = {CHECK_STATEMENT_TIMEOUT_MS}")
                )
            connection.execute(sa.text("SELECT 1"))
            current = recorded_revisions(connection)
            connection.rollback()
    except DATABASE_UNAVAILABLE as error:
        return f"unreachable: {reason(error)}", "unknown: the database is unreachable"
    except SQLAlchemyError as error:
        return f"failed: {reason(error)}", "unknown: the database failed"
    head = script_heads(MIGRATIONS_DIRECTORY)
    if set(current) == set(head):
        return OK, OK
    heads = ", ".join(sorted(head))
    if not current:
        return OK, f"not migrated (no revision recorded), head is {heads}"
    return OK, f"at {', '.join(sorted(current))}, head is {heads}"


def probe_engine() -> sa.Engine:
    """For PostgreSQL, an engine that connects afresh for every check, with the app's connect
    and statement timeouts: a pooled connection to a server that went silent would wait for
    ever, a new one gives up after the connect timeout. SQLite, a local file, uses the app's."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return engine
    probes = current_app.extensions.setdefault("cyberquest_probe_engines", {})
    if engine not in probes:
        options = current_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        probes[engine] = sa.create_engine(
            engine.url, poolclass=sa.pool.NullPool, connect_args=options.get("connect_args", {})
        )
    return probes[engine]


def recorded_revisions(connection: sa.Connection) -> list[str]:
    """The revisions Alembic recorded in the database; none before the first migration."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.execute(RECORDED_REVISIONS).scalars())


@lru_cache
def script_heads(directory: str) -> tuple[str, ...]:
    """The head revisions of the migration scripts (read once: they change only with a deploy):
    every `revision` no script names as its `down_revision`. Read from the scripts' text, as
    Alembic reads them, but without importing Alembic into every web worker (see LazyMigrate
    in app/extensions.py); tests/test_health.py compares the two."""
    revisions, parents = set(), set()
    for script in Path(directory, "versions").glob("*.py"):
        for node in ast.parse(script.read_text()).body:
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            name = getattr(node.targets[0], "id", None)
            if name not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(node.value)
            values = value if isinstance(value, tuple | list) else (value,)
            (revisions if name == "revision" else parents).update(v for v in values if v)
    return tuple(sorted(revisions - parents))


def check_limit_store() -> str:
    """PING the rate limiter's store, when it is not this process's memory."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"] or config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return NOT_USED
    storage = limiter.storage
    if not hasattr(storage, "get_connection"):  # a store other than Redis: no reason to give
        return OK if storage.check() else "unreachable"
    try:
        # The client carries RATELIMIT_STORAGE_OPTIONS' timeouts; limits' check() would
        # hide the reason.
        storage.get_connection().ping()
    except storage_errors() as error:
        return f"unreachable: {reason(error)}"
    return OK


def reason(error: BaseException) -> str:
    """The first line of what a driver said: a host and port at most, never a password (libpq
    and redis-py do not repeat them), nor SQLAlchemy's SQL and link."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text.split(" (Background on this error at:")[0][:REASON_LENGTH]
