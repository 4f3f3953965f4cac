"""Degrading instead of failing: with the database down, 503 database_unavailable within 3 s
(JSON under /api, a page in the site's layout elsewhere) and service back by itself; with
Redis down, limits kept in memory (counted) or, failing closed, 503 rate_limiter_unavailable."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy import event

from app.extensions import db
from config import config_for, engine_options
from tests import factories
from tests.outages import (
    ANSWER_BOUND_SECONDS,
    REDIS_DB,
    relay_to_redis,
    sample,
    timed,
)

DATABASE_ERRORS = "cyberquest_database_errors_total"
FALLBACKS = "cyberquest_rate_limiter_fallbacks_total"
COMPLETE = "/api/levels/complete"
SIGNED_IN_PAGES = ["/", "/levels", "/progress", "/account", "/no-such-page"]


def completion() -> dict:
    return {"level_id": 1, "score": 500, "time_spent": 120, "client_event_id": str(uuid.uuid4())}


def answer(call, *args, **kwargs):
    """A request's response, asserted to have come within the contract's bound."""
    response, took = timed(call, *args, **kwargs)
    assert took < ANSWER_BOUND_SECONDS, f"answered in {took:.2f} s"
    return response


def assert_layout_page(response, status: int) -> str:
    """An error page of ours: the site's layout, no internals."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:300]
    assert response.mimetype == "text/html"
    assert '<nav class="navbar' in page and "CyberQuest" in page
    assert "Traceback" not in page and "Internal Server Error" not in page
    return page


def seed(own):
    """The catalog, a player and their API token, written through the app's own database."""
    with own.app_context():
        factories.sync_levels()
        user = factories.make_user("outage1")
        return user, factories.make_token(user)


def signed_in(own, user):
    client = own.test_client()
    factories.sign_in(client, user.username)
    return client


# --- the database down ------------------------------------------------------------------


def test_api_calls_answer_503_database_unavailable_with_retry_after(outage):
    user, token = seed(outage.app)
    browser = signed_in(outage.app, user)
    anonymous = outage.app.test_client()
    outage.cut()
    calls = [
        (anonymous.get, "/api/levels", {}),
        (anonymous.get, "/api/levels/progress", {"headers": factories.bearer(token)}),
        (anonymous.post, COMPLETE, {"json": completion(), "headers": factories.bearer(token)}),
        (browser.post, COMPLETE, {"json": completion()}),
        (browser.get, "/api/xp/history", {}),
    ]
    for method, path, kwargs in calls:
        counted = sample(DATABASE_ERRORS)
        response = answer(method, path, **kwargs)
        assert response.status_code == 503, (path, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/json"
        assert response.json["success"] is False
        assert response.json["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "5"
        assert sample(DATABASE_ERRORS) == counted + 1


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_signed_in_players_pages_answer_a_503_page_in_the_layout(outage, path):
    user, _ = seed(outage.app)
    browser = signed_in(outage.app, user)
    outage.cut()
    response = answer(browser.get, path)
    page = assert_layout_page(response, 503)
    assert "Service unavailable" in page
    assert response.headers["Retry-After"] == "5"
    # Who is signed in cannot be asked: the page is the one an anonymous visitor sees.
    assert "Sign in" in page and user.username not in page


def test_service_resumes_by_itself_when_the_database_is_back(outage):
    user, token = seed(outage.app)
    browser = signed_in(outage.app, user)
    outage.cut()
    assert answer(browser.get, "/levels").status_code == 503
    assert answer(browser.post, COMPLETE, json=completion()).status_code == 503
    outage.restore()
    page = browser.get("/levels")
    assert page.status_code == 200
    assert user.username in page.get_data(as_text=True)  # still signed in: the cookies stayed
    assert browser.post(COMPLETE, json=completion()).status_code == 200
    progress = outage.app.test_client().get("/api/levels/progress", headers=factories.bearer(token))
    assert progress.status_code == 200 and progress.json["completed_levels"] == 1


@pytest.fixture()
def connection_attempts(outage):
    """How many database connections the outage's app tried to open."""
    with outage.app.app_context():
        engine = db.engine
    attempts = []
    listener = lambda *_args: attempts.append(1)  # noqa: E731
    event.listen(engine, "do_connect", listener)
    yield attempts
    event.remove(engine, "do_connect", listener)


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        (COMPLETE, {"json": completion()}),  # the per-player limit's key loads the user
        ("/login", {"data": {"login": "outage1", "password": "wrong-password-1"}}),
    ],
)
def test_a_database_failure_in_a_limits_key_is_one_attempt_and_no_fall_back(
    outage, connection_attempts, caplog, path, kwargs
):
    user, _ = seed(outage.app)
    browser = signed_in(outage.app, user) if path == COMPLETE else outage.app.test_client()
    fallbacks = sample(FALLBACKS)
    outage.cut()
    connection_attempts.clear()
    response = answer(browser.post, path, **kwargs)
    assert response.status_code == 503
    assert connection_attempts == [1]  # the limit is not checked again after the failure
    assert sample(FALLBACKS) == fallbacks
    assert "falling back" not in caplog.text


def add_page_and_api_route(own, rule, view):
    own.add_url_rule(rule, view_func=view)
    own.add_url_rule(f"/api{rule}", view_func=view, endpoint=f"api_{view.__name__}")


def last_seen(own):
    with own.app_context():
        return db.session.execute(sa.text("SELECT last_seen_at FROM user_sessions")).scalar_one()


def test_a_database_failure_after_the_session_was_refreshed_is_still_a_503(outage):
    def fails_after_the_refresh():
        assert current_user.is_authenticated  # loading the user refreshes last_seen_at
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    add_page_and_api_route(outage.app, "/_test/fails-after-refresh", fails_after_the_refresh)
    outage.app.config["SESSION_LAST_SEEN_RESOLUTION_SECONDS"] = 0  # every request refreshes
    user, _ = seed(outage.app)
    browser = signed_in(outage.app, user)
    seen = last_seen(outage.app)

    assert_layout_page(browser.get("/_test/fails-after-refresh"), 503)
    api = browser.get("/api/_test/fails-after-refresh")
    assert api.status_code == 503 and api.json["error"]["code"] == "database_unavailable"
    assert last_seen(outage.app) == seen  # the refresh went with the failed unit of work


@pytest.mark.postgres_only
def test_a_database_lost_before_the_refresh_is_committed_leaves_the_answer_standing(outage, caplog):
    def answers_then_loses_the_database():
        assert current_user.is_authenticated  # the refresh is now pending
        outage.cut()
        return "answered"

    add_page_and_api_route(outage.app, "/_test/loses-database", answers_then_loses_the_database)
    outage.app.config["SESSION_LAST_SEEN_RESOLUTION_SECONDS"] = 0
    user, _ = seed(outage.app)
    browser = signed_in(outage.app, user)
    response = browser.get("/_test/loses-database")
    assert response.status_code == 200 and response.get_data(as_text=True) == "answered"
    assert "last-seen refresh dropped, database unavailable" in caplog.text


@pytest.mark.postgres_only
def test_an_api_call_answers_in_bounded_time_while_the_database_hangs_on_connecting(outage):
    outage.hang()  # before the app's first connection: every connection attempt hangs
    response = answer(outage.app.test_client().get, "/api/levels")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    outage.restore()
    assert outage.app.test_client().get("/api/levels").status_code == 200


@pytest.mark.postgres_only
def test_a_statement_kept_waiting_is_cut_short_with_a_503(app, build_app):
    own = build_app(app.config["SQLALCHEMY_DATABASE_URI"])
    locker = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with locker.connect() as connection:
            connection.execute(sa.text("LOCK TABLE levels IN ACCESS EXCLUSIVE MODE"))
            response = answer(own.test_client().get, "/api/levels")
            connection.rollback()
    finally:
        locker.dispose()
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"


@pytest.mark.postgres_only
def test_a_request_kept_waiting_for_a_pooled_connection_answers_503(app, build_app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = engine_options(url, connect_timeout=2, statement_timeout_ms=2000)
    own = build_app(url, SQLALCHEMY_ENGINE_OPTIONS=options | {"pool_size": 1, "max_overflow": 0})
    with own.app_context(), db.engine.connect():  # the pool's one connection, held
        response = answer(own.test_client().get, "/api/levels")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize(
    ("url", "connect_args"),
    [
        ("sqlite:///instance/x.db", None),
        (
            "postgresql://cq@db.internal:5432/cq",
            {"connect_timeout": 3, "options": "-c statement_timeout=0"},
        ),
    ],
)
def test_only_postgresql_connections_get_connect_and_statement_timeouts(
    monkeypatch, url, connect_args
):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    options = config_for("production").SQLALCHEMY_ENGINE_OPTIONS
    assert options["pool_pre_ping"] is True
    assert options.get("connect_args") == connect_args
    assert ("pool_timeout" in options) == (connect_args is not None)


def test_404_and_500_pages_use_the_sites_layout(app, build_app, player_client):
    own = build_app(app.config["SQLALCHEMY_DATABASE_URI"])

    def crash():
        raise RuntimeError("secret internals: password=hunter2")

    own.add_url_rule("/_test/crash", view_func=crash)
    for client in (app.test_client(), player_client):
        assert_layout_page(client.get("/no-such-page"), 404)
    page = assert_layout_page(own.test_client().get("/_test/crash"), 500)
    assert "hunter2" not in page and "RuntimeError" not in page


# --- Redis down -----------------------------------------------------------------------------


@pytest.fixture()
def redis_relay():
    with relay_to_redis() as relay:
        yield relay


@pytest.fixture()
def limited_app(app, build_app, redis_relay, levels, player):
    """limited_app(**settings): an app whose limits are kept in Redis behind the relay, and
    the headers of the player's API token."""

    def make(**settings):
        own = build_app(
            app.config["SQLALCHEMY_DATABASE_URI"],
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_relay.port}/{REDIS_DB}",
            COMPLETION_RATE_LIMIT="2/minute",
            **settings,
        )
        with app.app_context():
            token = factories.make_token(player)
        return own, factories.bearer(token)

    return make


@pytest.mark.parametrize("failure", ["refuse", "hang"])
def test_with_redis_down_limits_fall_back_to_memory_once_logged_and_counted(
    limited_app, redis_relay, caplog, failure
):
    own, headers = limited_app()
    client = own.test_client()
    fallbacks = sample(FALLBACKS)
    getattr(redis_relay, failure)()
    statuses = [answer(client.post, COMPLETE, json=completion(), headers=headers).status_code]
    statuses += [
        answer(client.post, COMPLETE, json=completion(), headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429, 429]  # the limit still holds, counted in memory
    assert sample(FALLBACKS) == fallbacks + 1  # one switch, however many requests
    assert "falling back to in-memory storage" in caplog.text


@pytest.mark.parametrize("failure", ["refuse", "hang"])
def test_failing_closed_with_redis_down_limited_routes_answer_503(
    limited_app, redis_relay, failure
):
    own, headers = limited_app(RATELIMIT_FAIL_CLOSED=True)
    client = own.test_client()
    fallbacks = sample(FALLBACKS)
    getattr(redis_relay, failure)()

    refused = answer(client.post, COMPLETE, json=completion(), headers=headers)
    assert refused.status_code == 503
    assert refused.mimetype == "application/json"
    assert refused.json["error"]["code"] == "rate_limiter_unavailable"
    assert refused.headers["Retry-After"] == "5"
    page = answer(client.post, "/login", data={"login": "player1", "password": "x" * 12})
    assert "Service unavailable" in assert_layout_page(page, 503)
    assert page.headers["Retry-After"] == "5"
    # A route without limits needs no limit store.
    assert answer(client.get, "/api/levels", headers=headers).status_code == 200
    assert sample(FALLBACKS) == fallbacks

    redis_relay.forward()
    assert client.post(COMPLETE, json=completion(), headers=headers).status_code == 200
