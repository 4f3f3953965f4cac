"""Structured logs: every line is one JSON object, every answer and line carries the request id,
each request ends with one line (a completion's says what became of it), and no credential is
ever written, whatever the request carried."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

from app import create_app
from app.extensions import db
from app.logs import GunicornLogger, build_formatter, configure_logging, redact_text
from config import config_for
from tests import factories
from tests.conftest import register_test_routes

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
COMPLETE = "/api/levels/complete"


@pytest.fixture(scope="module")
def json_app(app):
    """The testing app on the suite's database, logging JSON as production does."""
    json_app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "LOG_FORMAT": "json"},
    )
    register_test_routes(json_app)
    yield json_app
    with json_app.app_context():
        db.engine.dispose()
    configure_logging(app.config["LOG_FORMAT"])  # logging is the process's: give it back


@pytest.fixture()
def client(json_app):
    return json_app.test_client()


@pytest.fixture()
def signed_in(json_app, client):
    """A player signed in through the login form, with "keep me signed in"."""
    with json_app.app_context():
        user = factories.make_user("logged1")
    response = client.post(
        "/login", data={"login": user.username, "password": user.password, "remember": "y"}
    )
    assert response.status_code == 302
    return user


def read_lines(capsys) -> list[dict]:
    """What was written to stderr since the last read, one JSON object per line."""
    text = capsys.readouterr().err
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return lines


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["event"] == "request finished"]


def completion_body(**changes):
    body = {
        "level_id": 1,
        "level_type": "simulation",
        "score": 850,
        "time_spent": 120,
        "difficulty": "normal",
        "metadata": {"hints_used": 0},
        "client_event_id": str(uuid.uuid4()),
    }
    body.update(changes)
    return body


# --- every request ends with one line -------------------------------------------------------


def test_a_request_ends_with_one_line_of_its_method_path_status_and_duration(client, capsys):
    client.get("/api/levels?limit=3", headers={"X-Request-ID": "trace-1"})

    lines = read_lines(capsys)
    (line,) = request_lines(lines)
    assert line["method"] == "GET"
    assert line["path"] == "/api/levels"  # never the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"
    assert line["request_id"] == "trace-1"
    assert "user_id" not in line  # nobody is signed in
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


def test_a_signed_in_request_names_its_user(client, signed_in, capsys):
    read_lines(capsys)
    client.get("/api/levels/progress")

    (line,) = request_lines(read_lines(capsys))
    assert line["user_id"] == signed_in.id


def test_a_token_request_names_its_user(json_app, client, capsys):
    with json_app.app_context():
        user = factories.make_user("logged2")
        secret = factories.make_token(user)
    client.get("/api/levels/progress", headers=factories.bearer(secret))

    (line,) = request_lines(read_lines(capsys))
    assert line["user_id"] == user.id


def test_static_files_leave_no_info_line_but_carry_the_request_id(client, capsys):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert request_lines(read_lines(capsys)) == []


# --- the request id -------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["abc", "A.b_c-9", "x" * 64, str(uuid.uuid4())])
def test_a_well_formed_request_id_is_kept_echoed_and_logged(client, capsys, given):
    response = client.get("/api/levels", headers={"X-Request-ID": given})

    assert response.headers["X-Request-ID"] == given
    (line,) = request_lines(read_lines(capsys))
    assert line["request_id"] == given


@pytest.mark.parametrize(
    "given", ["", "x" * 65, "has space", "semi;colon", "slash/ed", 'quote"d', "ünï", None]
)
def test_any_other_request_id_is_replaced_by_a_new_one(client, capsys, given):
    headers = {} if given is None else {"X-Request-ID": given}
    response = client.get("/api/levels", headers=headers)

    echoed = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(echoed)
    (line,) = request_lines(read_lines(capsys))
    assert line["request_id"] == echoed


def test_each_request_gets_its_own_id(client):
    first = client.get("/api/levels").headers["X-Request-ID"]
    second = client.get("/api/levels").headers["X-Request-ID"]
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/", {}, 200),
        ("GET", "/progress", {}, 302),  # a page that needs a sign-in
        ("GET", "/no-such-page", {}, 404),
        ("GET", "/api/no-such-thing", {}, 404),
        ("POST", "/api/levels", {}, 405),
        ("GET", "/api/levels", {"Authorization": "Bearer cq_not-a-token"}, 401),
        ("POST", COMPLETE, {"Content-Type": "application/json"}, 401),
        ("GET", "/api/_test/crash", {}, 500),
        ("GET", "/api/_test/database-down", {}, 503),
    ],
)
def test_every_answer_echoes_the_request_id_it_logged(
    client, capsys, method, path, headers, status
):
    response = client.open(path, method=method, headers=headers)

    assert response.status_code == status
    (line,) = request_lines(read_lines(capsys))
    assert line["status"] == status
    assert response.headers["X-Request-ID"] == line["request_id"]


def test_the_error_line_of_a_crash_carries_the_request_id_and_the_traceback(client, capsys):
    client.get("/api/_test/crash", headers={"X-Request-ID": "crash-1"})

    lines = read_lines(capsys)
    (error,) = [line for line in lines if line["level"] == "error"]
    assert error["request_id"] == "crash-1"
    assert error["event"] == "unhandled error on GET /api/_test/crash"
    # An exception's message is the app's own text and is logged, but what looks like a
    # credential in it is not: the test route's message says "password=hunter2".
    assert "RuntimeError: secret internals: password=[REDACTED]" in error["exception"]
    assert all(line["request_id"] == "crash-1" for line in lines)


def test_a_rate_limiter_line_carries_the_request_id(json_app, client, capsys, monkeypatch):
    monkeypatch.setitem(json_app.config, "LOGIN_ADDRESS_RATE_LIMIT", "1/minute")
    client.post("/login", data={"login": "nobody", "password": "wrong-password-1"})
    client.post(
        "/login",
        data={"login": "nobody", "password": "wrong-password-2"},
        headers={"X-Request-ID": "limited-1"},
    )

    lines = [line for line in read_lines(capsys) if line["request_id"] == "limited-1"]
    assert [line["status"] for line in request_lines(lines)] == [429]
    assert any(line["logger"] == "flask-limiter" for line in lines)


# --- completions ----------------------------------------------------------------------------


def test_a_new_completion_logs_its_event_id_outcome_and_award(client, signed_in, levels, capsys):
    body = completion_body()
    answer = client.post(COMPLETE, json=body).get_json()
    replay = client.post(COMPLETE, json=body)

    first, second = request_lines(read_lines(capsys))[-2:]
    assert first["client_event_id"] == body["client_event_id"]
    assert first["outcome"] == "new"
    assert first["awarded_xp"] == answer["awarded_xp"] > 0
    assert first["completion_id"] == answer["completion_id"]
    assert first["user_id"] == signed_in.id
    assert "error_code" not in first
    assert replay.status_code == 200
    assert second["outcome"] == "replay"
    assert second["completion_id"] == answer["completion_id"]


@pytest.mark.parametrize(
    ("change", "status", "outcome", "code"),
    [
        ({"score": -1, "client_event_id": str(uuid.uuid4())}, 400, "refused", "validation_error"),
        ({"level_id": 99, "client_event_id": str(uuid.uuid4())}, 400, "refused", "unknown_level"),
        ({"score": 851}, 409, "conflict", "idempotency_conflict"),  # the same event id
    ],
)
def test_a_refused_completion_logs_its_error_code(
    client, signed_in, levels, capsys, change, status, outcome, code
):
    body = completion_body()
    client.post(COMPLETE, json=body)
    response = client.post(COMPLETE, json={**body, **change})

    assert response.status_code == status
    line = request_lines(read_lines(capsys))[-1]
    assert line["outcome"] == outcome
    assert line["error_code"] == code
    assert line["awarded_xp"] == 0


# --- no secrets -----------------------------------------------------------------------------


def test_no_password_token_or_cookie_is_ever_logged(json_app, client, levels, capsys):
    password = "a-secret-passphrase-42"
    wrong_password = "not-my-passphrase-99"
    with json_app.app_context():
        user = factories.make_user("logged3", password=password)
    failed = client.post("/login", data={"login": user.username, "password": wrong_password})
    signed = client.post(
        "/login?next=/progress&token=query-secret-1",
        data={"login": user.username, "password": password, "remember": "y"},
    )
    cookies = [client.get_cookie("session").value, client.get_cookie("remember_token").value]
    issued = client.post("/api/tokens", json={"name": "laptop"})
    secret = issued.get_json()["secret"]
    bearer = factories.bearer(secret)
    client.get("/api/levels/progress", headers=bearer)
    client.post(COMPLETE, json=completion_body(), headers=bearer)
    client.get("/api/levels", headers={"Authorization": "Bearer cq_forged-secret-2"})
    client.get("/api/_test/crash", headers=bearer)

    assert (failed.status_code, signed.status_code, issued.status_code) == (400, 302, 201)
    lines = read_lines(capsys)
    assert len(request_lines(lines)) == 7
    text = "\n".join(json.dumps(line) for line in lines)
    for leaked in [password, wrong_password, secret, *cookies, "query-secret-1", "cq_forged"]:
        assert leaked not in text
    assert "Bearer" not in text
    assert "hunter2" not in text  # from the crash's message, redacted


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_traceback_never_shows_local_variables(log_format):
    def fail():
        password = "local-secret-3"
        raise ValueError(f"failed for a user ({len(password)} characters)")

    try:
        fail()
    except ValueError:
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    text = build_formatter(log_format).format(record)

    assert "ValueError: failed for a user (14 characters)" in text
    assert "local-secret-3" not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("secret internals: password=hunter2", "secret internals: password=[REDACTED]"),
        ("login failed, PASSWORD: hunter2 here", "login failed, PASSWORD: [REDACTED] here"),
        ("Authorization: Bearer cq_abc.def", "Authorization: [REDACTED]"),
        ("sent Bearer cq_abc", "sent [REDACTED]"),
        ("{'password_hash': '$argon2id$v=19$m'}", "{'password_hash': '[REDACTED]'}"),
        ('{"api_token": "cq_x", "name": "phone"}', '{"api_token": "[REDACTED]", "name": "phone"}'),
        ("Cookie: session=.eJw; theme=dark", "Cookie: [REDACTED]; theme=dark"),
        ('"GET /login?next=/x&token=t HTTP/1.1" 302', '"GET /login?[REDACTED] HTTP/1.1" 302'),
        ("https://example.org/a?b=c done", "https://example.org/a?[REDACTED] done"),
        ("unhandled error on GET /api/levels", "unhandled error on GET /api/levels"),
        ("is it done? yes", "is it done? yes"),
    ],
)
def test_credentials_in_text_are_redacted(text, expected):
    assert redact_text(text) == expected


def test_fields_named_like_credentials_are_redacted():
    formatter = build_formatter("json")
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "note", (), None)
    record.msg = {"event": "note", "password": "p-4", "auth": {"token": "t-5"}, "user_id": 7}
    record._logger = logging.getLogger("app")  # as structlog's own lines arrive
    record._name = "info"

    line = json.loads(formatter.format(record))
    assert line["password"] == "[REDACTED]"
    assert line["auth"] == {"token": "[REDACTED]"}
    assert line["user_id"] == 7


# --- gunicorn -------------------------------------------------------------------------------


def gunicorn_access_record(atoms: dict) -> logging.LogRecord:
    """A record as gunicorn's access log makes one (its default format, its atoms)."""
    access_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
    return logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, access_format, (SafeAtoms(atoms),), None
    )


def test_a_gunicorn_access_line_has_named_fields_and_no_header_or_query():
    record = gunicorn_access_record(
        {
            "h": "203.0.113.9",
            "m": "POST",
            "U": "/api/levels/complete",
            "q": "token=query-secret-6",
            "r": "POST /api/levels/complete?token=query-secret-6 HTTP/1.1",
            "s": "201",
            "D": 12500,
            "{authorization}i": "Bearer cq_header-secret-7",
            "{cookie}i": "session=cookie-secret-8",
            "{x-request-id}o": "req-9",
        }
    )
    text = build_formatter("json").format(record)

    line = json.loads(text)
    assert line["event"] == "request served"
    assert line["method"] == "POST"
    assert line["path"] == "/api/levels/complete"
    assert line["status"] == 201
    assert line["duration_ms"] == 12.5
    assert line["remote_addr"] == "203.0.113.9"
    assert line["request_id"] == "req-9"
    for leaked in ["query-secret-6", "header-secret-7", "cookie-secret-8", "Bearer"]:
        assert leaked not in text


def test_the_access_records_of_the_served_app_hold_no_header_and_make_the_same_line():
    answer = SimpleNamespace(
        status="201 CREATED",
        headers=[("Content-Type", "application/json"), ("X-Request-ID", "req-10")],
    )
    environ = {
        "REMOTE_ADDR": "203.0.113.11",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/levels/complete",
        "QUERY_STRING": "token=query-secret-12",
        "RAW_URI": "/api/levels/complete?token=query-secret-12",
        "HTTP_AUTHORIZATION": "Bearer cq_header-secret-13",
        "HTTP_COOKIE": "session=cookie-secret-14",
    }
    atoms = GunicornLogger(Config()).atoms(
        answer, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=8, microseconds=250)
    )

    assert not any("secret" in str(value) for value in atoms.values())
    line = json.loads(build_formatter("json").format(gunicorn_access_record(atoms)))
    assert {key: line[key] for key in ("event", "method", "path", "status", "duration_ms")} == {
        "event": "request served",
        "method": "POST",
        "path": "/api/levels/complete",
        "status": 201,
        "duration_ms": 8.25,
    }
    assert (line["remote_addr"], line["request_id"]) == ("203.0.113.11", "req-10")


def test_gunicorn_logconfig_configures_json_lines_on_stderr():
    script = (
        "import logging, logging.config\n"
        "from app.logs import gunicorn_logconfig\n"
        "logging.config.dictConfig(gunicorn_logconfig('json'))\n"
        "logging.getLogger('gunicorn.error').info('Booting worker with pid: %s', 1)\n"
        "logging.getLogger('alembic').warning('a library warning')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["event"]) for line in lines] == [
        ("gunicorn.error", "Booting worker with pid: 1"),
        ("alembic", "a library warning"),
    ]
    assert done.stdout == ""


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config_name", "expected"),
    [("production", "json"), ("development", "console"), ("testing", "console")],
)
def test_log_format_defaults_to_json_in_production_only(monkeypatch, config_name, expected):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    log_format = config_for(config_name).LOG_FORMAT
    assert log_format == expected


def test_an_unknown_log_format_stops_the_app():
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of json, console, not 'xml'"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_FORMAT": "xml"})
