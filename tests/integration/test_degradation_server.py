"""A real gunicorn server losing its database: a signed-in player's pages answer our 503 page
(never gunicorn's bare error), the API 503 database_unavailable, /readyz not ready, all within
3 s; and the same player is served again, still signed in, once the database is back."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis

from tests import factories
from tests.integration.conftest import (
    HTTP_TIMEOUT,
    SERVER_START_TIMEOUT,
    free_loopback_ports,
    server_environment,
    start_server,
    stop_server,
    wait_until_ready,
)
from tests.outages import (
    ANSWER_BOUND_SECONDS,
    REDIS_DB,
    address_of,
    forwarder_to,
    url_through,
)

pytestmark = pytest.mark.postgres_only

REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """Just enough of a browser: keeps the cookies it is given and sends them back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        """(status, headers with lower-case names, body as text, seconds it took)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        took = time.monotonic() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, text, took

    def sign_in(self, username: str) -> None:
        _, _, page, _ = self.send("GET", "/login")
        token = CSRF_FIELD.search(page).group(1)
        status, _, _, _ = self.send(
            "POST",
            "/login",
            {"csrf_token": token, "login": username, "password": factories.DEFAULT_PASSWORD},
        )
        assert status == 302


@pytest.fixture()
def own_redis():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


@pytest.fixture()
def server_behind_relay(app, own_redis):
    """One gunicorn server whose DATABASE_URL reaches the test database through a relay."""
    log_dir = Path(tempfile.mkdtemp(prefix="cyberquest-degradation-"))
    with forwarder_to(address_of(os.environ["TEST_DATABASE_URL"])) as relay:
        env = server_environment() | {
            "DATABASE_URL": url_through(os.environ["TEST_DATABASE_URL"], relay),
            "RATELIMIT_STORAGE_URI": REDIS_URL,
        }
        [port] = free_loopback_ports(1)
        server = start_server(port, log_dir, env)
        try:
            wait_until_ready(server, time.monotonic() + SERVER_START_TIMEOUT)
            yield server, relay
        finally:
            stop_server(server)
            shutil.rmtree(log_dir, ignore_errors=True)


def test_a_served_player_gets_our_503_page_while_the_database_is_down_then_is_served_again(
    app, levels, make_api_player, server_behind_relay
):
    server, relay = server_behind_relay
    player = make_api_player("served1")
    browser = Browser(server.port)
    browser.sign_in(player.username)
    status, _, page, _ = browser.send("GET", "/levels")
    assert status == 200 and player.username in page

    relay.refuse()
    for path in ("/", "/levels", "/progress"):
        status, headers, page, took = browser.send("GET", path)
        assert took < ANSWER_BOUND_SECONDS, (path, took)
        assert status == 503, (path, page[:300], server.log()[-3000:])
        assert headers["content-type"].startswith("text/html")
        assert '<nav class="navbar' in page and "Service unavailable" in page
        assert "Internal Server Error" not in page and "Traceback" not in page
        assert headers["retry-after"] == "5"
    status, headers, body, took = browser.send(
        "GET", "/api/levels/progress", headers={"Accept": "application/json", **player.headers}
    )
    assert took < ANSWER_BOUND_SECONDS
    assert status == 503 and '"database_unavailable"' in body
    assert headers["retry-after"] == "5"
    status, _, body, took = browser.send("GET", "/readyz")
    assert took < ANSWER_BOUND_SECONDS
    assert status == 503 and '"not_ready"' in body

    relay.forward()
    status, _, page, _ = browser.send("GET", "/levels")
    assert status == 200 and player.username in page  # back by itself, still signed in
    status, _, body, _ = browser.send("GET", "/readyz")
    assert status == 200
    assert '"database":"ok"' in body.replace(" ", "") and '"redis":"ok"' in body.replace(" ", "")


def test_a_served_readyz_answers_in_bounded_time_while_the_database_hangs(app, server_behind_relay):
    server, relay = server_behind_relay
    browser = Browser(server.port)
    assert browser.send("GET", "/readyz")[0] == 200
    relay.hang()
    status, _, body, took = browser.send("GET", "/readyz")
    assert took < ANSWER_BOUND_SECONDS, took
    assert status == 503 and "unreachable" in body
    relay.forward()
    assert browser.send("GET", "/readyz")[0] == 200
