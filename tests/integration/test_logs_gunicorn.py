"""A real gunicorn server (its gunicorn.conf.py, production settings) writes nothing but JSON
lines: the app's and gunicorn's own, its access log among them, each request's lines carrying
the id its answer echoed, and no password, token or cookie after a whole session of use."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests import factories
from tests.integration.conftest import (
    HTTP_TIMEOUT,
    SERVER_START_TIMEOUT,
    Server,
    free_loopback_ports,
    server_environment,
    start_server,
    stop_server,
    wait_until_ready,
)

pytestmark = pytest.mark.postgres_only

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
LINE_TIMEOUT = 10  # seconds for a line to reach the log once its answer has arrived


@pytest.fixture(scope="module")
def server(app) -> Iterator[Server]:
    """One gunicorn server on the test database; its rate limits in its own memory."""
    log_dir = Path(tempfile.mkdtemp(prefix="cyberquest-logs-"))
    env = server_environment()
    env["RATELIMIT_STORAGE_URI"] = "memory://"
    env.pop("LOG_FORMAT", None)  # production's own default
    (port,) = free_loopback_ports(1)
    server = start_server(port, log_dir, env)
    try:
        wait_until_ready(server, time.monotonic() + SERVER_START_TIMEOUT)
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(log_dir, ignore_errors=True)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    set_cookies: list[str]
    text: str


class Browser:
    """A client of one server that keeps the cookies it is given, as a browser does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.cookie_values: list[str] = []  # every value ever set, for the leak check

    def send(
        self,
        method: str,
        path: str,
        *,
        form: dict | None = None,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            pairs = response.getheaders()
        finally:
            connection.close()
        set_cookies = [value for name, value in pairs if name.lower() == "set-cookie"]
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                self.cookie_values.append(morsel.value)
                self.cookies[name] = morsel.value
        return Reply(response.status, {k.lower(): v for k, v in pairs}, set_cookies, text)


def log_lines(server: Server) -> list[dict]:
    """Every line the server has written, each parsed as JSON (one that is not fails)."""
    lines = []
    for line in server.log().splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"the server wrote a line that is not JSON: {line!r}")
    return lines


def lines_of(server: Server, request_id: str, until: Callable[[list[dict]], bool]) -> list[dict]:
    """The lines of one request, once `until` holds for them (gunicorn's access line is written
    after the answer has been sent)."""
    deadline = time.monotonic() + LINE_TIMEOUT
    while True:
        found = [line for line in log_lines(server) if line.get("request_id") == request_id]
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def both_lines(lines: list[dict]) -> bool:
    events = {line["event"] for line in lines}
    return {"request finished", "request served"} <= events


def by_event(lines: list[dict]) -> dict[str, dict]:
    return {line["event"]: line for line in lines}


def test_a_request_gets_an_app_line_and_an_access_line_with_the_echoed_id(server):
    browser = Browser(server.port)
    reply = browser.send("GET", "/api/levels?limit=1", headers={"X-Request-ID": "gunicorn-1"})

    assert reply.headers["x-request-id"] == "gunicorn-1"
    lines = by_event(lines_of(server, "gunicorn-1", both_lines))
    app_line, access = lines["request finished"], lines["request served"]
    assert (app_line["method"], app_line["path"], app_line["status"]) == ("GET", "/api/levels", 200)
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/levels", 200)
    assert access["logger"] == "gunicorn.access"
    assert access["remote_addr"] == "127.0.0.1"
    assert access["duration_ms"] >= app_line["duration_ms"] > 0
    assert access["timestamp"].endswith("Z")


@pytest.mark.parametrize("path", ["/api/levels", "/no-such-page", "/static/css/app.css"])
def test_a_malformed_request_id_is_replaced_and_the_new_one_logged(server, path):
    reply = Browser(server.port).send("GET", path, headers={"X-Request-ID": "not valid!"})

    request_id = reply.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(request_id)
    served = lines_of(server, request_id, lambda found: "request served" in by_event(found))
    assert by_event(served)["request served"]["path"] == path


def test_no_credential_reaches_the_server_log(server, app, levels):
    password, wrong_password = "a-secret-passphrase-42", "not-my-passphrase-99"
    with app.app_context():
        user = factories.make_user("gunilog1", password=password)
    browser = Browser(server.port)
    page = browser.send("GET", "/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    failed = browser.send(
        "POST", "/login", form={"csrf_token": csrf, "login": user.username, "password": "x" * 12}
    )
    failed_again = browser.send(
        "POST",
        "/login",
        form={"csrf_token": csrf, "login": user.username, "password": wrong_password},
    )
    signed = browser.send(
        "POST",
        "/login?next=/progress&token=query-secret-1",
        form={"csrf_token": csrf, "login": user.username, "password": password, "remember": "y"},
    )
    issued = browser.send("POST", "/api/tokens", body={"name": "laptop"})
    secret = json.loads(issued.text)["secret"]
    bearer = factories.bearer(secret)
    browser.cookies.clear()  # the token alone from here on
    progress = browser.send("GET", "/api/levels/progress", headers=bearer)
    completion = browser.send(
        "POST",
        "/api/levels/complete",
        body={
            "level_id": 1,
            "score": 850,
            "time_spent": 120,
            "client_event_id": str(uuid.uuid4()),
        },
        headers={**bearer, "X-Request-ID": "completion-1"},
    )
    forged = browser.send(
        "GET",
        "/api/levels",
        headers={"Authorization": "Bearer cq_forged-secret-2", "X-Request-ID": "forged-1"},
    )

    statuses = [r.status for r in (failed, failed_again, signed, issued, progress, completion)]
    assert statuses == [400, 400, 302, 201, 200, 200]
    assert forged.status == 401
    lines_of(server, "forged-1", both_lines)  # the last request is all written
    completion_line = by_event(lines_of(server, "completion-1", both_lines))["request finished"]
    assert completion_line["outcome"] == "new"
    assert completion_line["user_id"] == user.id
    assert completion_line["awarded_xp"] == json.loads(completion.text)["awarded_xp"]
    text = server.log()
    assert browser.cookie_values  # the session and remember-me cookies were seen
    for leaked in [password, wrong_password, secret, *browser.cookie_values, "query-secret-1"]:
        assert leaked not in text
    assert "Bearer" not in text
    sign_in_lines = [line for line in log_lines(server) if line.get("path") == "/login"]
    assert {line["event"] for line in sign_in_lines} == {"request finished", "request served"}
