"""Fixtures: one migrated database per test session (SQLite, or PostgreSQL when
TEST_DATABASE_URL names one), emptied after every test; an app and clients on it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.errors import AppError
from app.extensions import db, limiter
from app.models import LedgerUnlock
from app.services import append_only
from config import normalize_database_url
from tests import factories, outages

POSTGRES_URL = normalize_database_url(os.environ.get("TEST_DATABASE_URL", ""))


def backend_name() -> str:
    return "postgresql" if POSTGRES_URL.startswith("postgres") else "sqlite"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgres_only: needs PostgreSQL (row locks, real concurrent writers)"
    )


def pytest_report_header(config):
    return f"database backend: {backend_name()}"


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests are deselected, not skipped, on SQLite: they run in the
    # PostgreSQL pass of the suite, where nothing is ever skipped.
    if backend_name() == "postgresql":
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def database_url(tmp_dir: Path) -> str:
    if backend_name() == "postgresql":
        return POSTGRES_URL
    return f"sqlite:///{tmp_dir / 'cyberquest-test.db'}"


def reset_schema(url: str) -> None:
    """Start the session from an empty database, whatever an earlier run left."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as error:
        pytest.exit(f"PostgreSQL at {url} is unreachable: {error.orig}", returncode=3)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def app():
    tmp_dir = Path(tempfile.mkdtemp(prefix="cyberquest-tests-"))
    url = database_url(tmp_dir)
    reset_schema(url)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    register_test_routes(app)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def register_test_routes(app):
    """Routes that exist only in tests, to reach error paths no real route should have."""

    @app.get("/api/_test/crash")
    def crash():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/api/_test/database-down")
    def database_down():
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.post("/api/_test/echo")
    def echo():
        from app.api.parsing import json_body

        return {"received": json_body()}

    @app.get("/api/_test/domain-error")
    def domain_error():
        raise AppError("A domain failure.", code="domain_failure", extra_field=1)


@pytest.fixture(autouse=True)
def clean_database(app):
    """Each test sees empty tables and fresh rate-limit counters, and leaves them so."""
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            empty_every_table(connection)
    limiter.reset()


def empty_every_table(connection) -> None:
    """Delete every row, the ledger's too: past its append-only triggers the one documented way."""
    with append_only.unlocked(connection, "test cleanup"):
        for table in reversed(db.metadata.sorted_tables):
            if table is not LedgerUnlock.__table__:
                connection.execute(table.delete())


@pytest.fixture()
def app_context(app):
    with app.app_context():
        yield


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def levels(app):
    """The real catalog, loaded as `flask levels sync` loads it."""
    with app.app_context():
        return factories.sync_levels()


@pytest.fixture()
def player(app):
    with app.app_context():
        return factories.make_user("player1")


@pytest.fixture()
def player_client(app, player):
    client = app.test_client()
    factories.sign_in(client, player.username)
    return client


@pytest.fixture()
def admin_user(app):
    """An administrator, "boss"."""
    with app.app_context():
        return factories.make_user("boss", is_admin=True)


@pytest.fixture()
def admin_client(app, admin_user):
    client = app.test_client()
    factories.sign_in(client, admin_user.username)
    return client


@pytest.fixture()
def cli(app):
    """cli("xp", "verify", ...): a `flask` command run in-process; its click Result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture()
def config_override(app):
    """Set app.config keys for one test and put them back afterwards."""
    saved = {}

    def override(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield override
    app.config.update(saved)


@pytest.fixture()
def build_app(app):
    """build_app(url, **settings): an app of the test's own, closed after the test."""
    built = []

    def build(url, **overrides):
        built.append(outages.app_on(url, **overrides))
        return built[-1]

    yield build
    for own in built:
        outages.dispose(own, app)


@pytest.fixture()
def outage(app, tmp_path):
    """The shared app's database cut off for the test (see tests/outages.py)."""
    with outages.database_outage(app, tmp_path) as outage:
        yield outage
