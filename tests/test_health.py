"""/healthz and /readyz: what a load balancer sees, in bounded time, when a dependency is
down, hung or behind on its migrations."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import event

from app.extensions import db
from config import engine_options
from tests import factories
from tests.conftest import backend_name
from tests.outages import (
    ANSWER_BOUND_SECONDS,
    REDIS_DB,
    relay_to_redis,
    timed,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
# The newest migration in the repository, read from the scripts themselves.
MIGRATIONS_HEAD = ScriptDirectory(str(REPO_ROOT / "migrations")).get_current_head()
READY = {"database": "ok", "migrations": "ok", "redis": "not_used"}
READ_ONLY_VERBS = {"SELECT", "SET", "SHOW", "PRAGMA"}
OLD_SCHEMA = "readiness_old_revision"  # PostgreSQL: the test's own schema in the test database


@pytest.fixture()
def statements(app):
    """Every SQL statement any engine of the process runs during the test, and every
    connection it opens."""
    seen = {"sql": [], "connects": 0}

    def on_execute(_conn, _cursor, statement, *_args):
        seen["sql"].append(statement)

    def on_connect(*_args):
        seen["connects"] += 1

    event.listen(sa.engine.Engine, "before_cursor_execute", on_execute)
    event.listen(sa.engine.Engine, "connect", on_connect)
    yield seen
    event.remove(sa.engine.Engine, "connect", on_connect)
    event.remove(sa.engine.Engine, "before_cursor_execute", on_execute)


def test_healthz_answers_ok_without_touching_anything(app, player_client, statements):
    response = player_client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok"}
    assert statements == {"sql": [], "connects": 0}


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": READY}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_only_reads(player_client, statements):
    assert player_client.get("/readyz").status_code == 200
    assert statements["sql"]
    for statement in statements["sql"]:
        # Reads, and the probe's own statement timeout; never a write or a row lock.
        assert statement.lstrip().split()[0].upper() in READ_ONLY_VERBS, statement
        assert "FOR UPDATE" not in statement.upper()


def test_readyz_leaves_no_migration_chatter_in_the_log(client, caplog):
    with caplog.at_level(logging.INFO):
        assert client.get("/readyz").status_code == 200
    assert "alembic" not in caplog.text


def test_probes_need_no_sign_in_and_are_never_rate_limited(app):
    """In a process of its own: an app-wide limit, once set, stays on the one limiter."""
    script = f"""
import json
from app import create_app
app = create_app("testing", {{
    "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r},
    "RATELIMIT_APPLICATION": "2/minute",
}})
client = app.test_client()
print(json.dumps({{
    "/healthz": [client.get("/healthz").status_code for _ in range(5)],
    "/readyz": [client.get("/readyz").status_code for _ in range(5)],
    "/api/levels": [client.get("/api/levels").status_code for _ in range(3)],
}}))
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    statuses = json.loads(run.stdout.strip().splitlines()[-1])
    assert statuses == {
        "/healthz": [200] * 5,
        "/readyz": [200] * 5,
        "/api/levels": [200, 200, 429],  # the limit is real for every other route
    }


@pytest.fixture()
def database_at(app, build_app, tmp_path):
    """database_at(revision): an app on a database of the test's own, migrated up to
    `revision` (None: left empty). On PostgreSQL it is a schema of the test database."""
    shared_url = app.config["SQLALCHEMY_DATABASE_URI"]
    shared_engine = sa.create_engine(shared_url)

    def drop_schema():
        with shared_engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {OLD_SCHEMA} CASCADE"))

    def make(revision):
        if backend_name() == "sqlite":
            own = build_app(f"sqlite:///{tmp_path / 'own.db'}")
        else:
            drop_schema()
            with shared_engine.begin() as connection:
                connection.execute(sa.text(f"CREATE SCHEMA {OLD_SCHEMA}"))
            options = engine_options(shared_url, connect_timeout=2, statement_timeout_ms=2000)
            options["connect_args"]["options"] += f" -c search_path={OLD_SCHEMA}"
            own = build_app(shared_url, SQLALCHEMY_ENGINE_OPTIONS=options)
        if revision is not None:
            with own.app_context():
                upgrade(revision=revision)
        return own

    yield make
    if backend_name() == "postgresql":
        drop_schema()
    shared_engine.dispose()


@pytest.mark.parametrize(
    ("revision", "migrations"),
    [
        ("0002", f"at 0002, head is {MIGRATIONS_HEAD}"),
        (None, f"not migrated (no revision recorded), head is {MIGRATIONS_HEAD}"),
    ],
)
def test_readyz_is_not_ready_on_a_database_behind_the_code(database_at, revision, migrations):
    own = database_at(revision)
    response = own.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "not_ready",
        "checks": {"database": "ok", "migrations": migrations, "redis": "not_used"},
    }


def test_readyz_is_ready_once_the_migrations_reach_the_head(database_at):
    own = database_at("0002")
    with own.app_context():
        upgrade()
    assert own.test_client().get("/readyz").status_code == 200


def ask_ready(client):
    response, took = timed(client.get, "/readyz")
    assert took < ANSWER_BOUND_SECONDS, f"/readyz took {took:.2f} s"
    return response


def test_readyz_fails_in_bounded_time_while_the_database_is_down_and_recovers(outage):
    client = outage.app.test_client()
    assert ask_ready(client).status_code == 200
    outage.cut()
    response = ask_ready(client)
    assert response.status_code == 503
    assert response.json["status"] == "not_ready"
    checks = response.json["checks"]
    assert checks["database"].startswith("unreachable: ")
    assert "://" not in checks["database"]  # a reason, never a URL
    assert checks["migrations"].startswith("unknown")
    assert checks["redis"] == "not_used"
    outage.restore()
    assert ask_ready(client).json == {"status": "ready", "checks": READY}


@pytest.mark.postgres_only
def test_readyz_fails_in_bounded_time_while_the_database_hangs_and_recovers(outage):
    client = outage.app.test_client()
    assert ask_ready(client).status_code == 200
    outage.hang()  # new connections are accepted and never answered, open ones go silent
    for _ in range(2):
        response = ask_ready(client)
        assert response.status_code == 503
        assert response.json["checks"]["database"].startswith("unreachable: ")
    outage.restore()
    assert ask_ready(client).status_code == 200


@pytest.fixture()
def redis_relay():
    with relay_to_redis() as relay:
        yield relay


def app_with_limits_in(build_app, app, relay, **settings):
    return build_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{relay.port}/{REDIS_DB}",
        **settings,
    )


def test_readyz_pings_redis_when_limits_are_kept_there(app, build_app, redis_relay):
    own = app_with_limits_in(build_app, app, redis_relay)
    response = ask_ready(own.test_client())
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


@pytest.mark.parametrize("failure", ["refuse", "hang"])
def test_an_unreachable_redis_shows_but_leaves_a_failing_open_worker_ready(
    app, build_app, redis_relay, failure
):
    own = app_with_limits_in(build_app, app, redis_relay)
    getattr(redis_relay, failure)()
    response = ask_ready(own.test_client())
    assert response.status_code == 200  # limits fall back to memory: the worker still serves
    assert response.json["status"] == "ready"
    assert response.json["checks"]["redis"].startswith("unreachable: ")


@pytest.mark.parametrize("failure", ["refuse", "hang"])
def test_an_unreachable_redis_makes_a_failing_closed_worker_not_ready(
    app, build_app, redis_relay, failure
):
    own = app_with_limits_in(build_app, app, redis_relay, RATELIMIT_FAIL_CLOSED=True)
    getattr(redis_relay, failure)()
    response = ask_ready(own.test_client())
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("unreachable: ")
    redis_relay.forward()
    assert ask_ready(own.test_client()).status_code == 200


def test_a_signed_in_browser_asking_readyz_costs_its_session_nothing(app, player, config_override):
    config_override(SESSION_LAST_SEEN_RESOLUTION_SECONDS=0)  # any session lookup would write
    client = app.test_client()
    factories.sign_in(client, player.username)
    with app.app_context():
        before = db.session.execute(sa.text("SELECT last_seen_at FROM user_sessions")).all()
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        after = db.session.execute(sa.text("SELECT last_seen_at FROM user_sessions")).all()
    assert after == before
