"""Fixtures for the integration tests: real threads racing the shared app, and real gunicorn
servers sharing one Redis for their rate limits. These tests run in the PostgreSQL pass only."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from flask import request_finished, request_started
from sqlalchemy import event

from app.extensions import db
from tests import factories

REPO_ROOT = Path(__file__).resolve().parents[2]
# Logical database 13 belongs to these tests; no other Redis database is ever touched.
REDIS_URL = "redis://127.0.0.1:6379/13"
BARRIER_TIMEOUT = 30  # seconds for every racer to reach the start line
RUN_TIMEOUT = 180  # seconds for a whole concurrent run
HTTP_TIMEOUT = 15  # seconds for one request to a real server
SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 10
COMPLETION_LIMIT_SERVER = "5/minute"

T = TypeVar("T")


# --- players --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiPlayer:
    """A player with an API token; `headers` authenticate a request as them."""

    id: int
    username: str
    headers: dict[str, str]


@pytest.fixture()
def make_api_player(app) -> Callable[[str], ApiPlayer]:
    """Create a player and an API token for them, committed, so any process can use them."""

    def make(username: str) -> ApiPlayer:
        with app.app_context():
            user = factories.make_user(username)
            secret = factories.make_token(user)
        return ApiPlayer(id=user.id, username=user.username, headers=factories.bearer(secret))

    return make


@dataclass(frozen=True)
class Answer:
    """What a client saw: the status, the headers (lower-case names) and the JSON body."""

    status: int
    headers: dict[str, str]
    json: Any


@pytest.fixture()
def complete(app) -> Callable[[ApiPlayer, dict[str, Any]], Answer]:
    """complete(player, body): POST /api/levels/complete from a client of its own.

    Safe to call from many threads at once: each call has its own test client, so each
    request gets its own app context, database session and pooled connection.
    """

    def post(player: ApiPlayer, body: dict[str, Any]) -> Answer:
        response = app.test_client().post("/api/levels/complete", json=body, headers=player.headers)
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status_code, headers, response.get_json(silent=True))

    return post


@pytest.fixture()
def unlimited_completions(config_override) -> None:
    """The in-process app's completion limits, raised far above what a race test sends."""
    config_override(
        COMPLETION_RATE_LIMIT="10000/minute", COMPLETION_ADDRESS_RATE_LIMIT="10000/minute"
    )


# --- racing threads -------------------------------------------------------------------------


def run_concurrently(
    actions: Sequence[Callable[[], T]], *, workers: int, barrier: bool = False
) -> list[T]:
    """Run every action on `workers` real threads; the results in the actions' order.

    With `barrier` (one thread per action), each thread waits at a threading.Barrier and
    all of them start together. Every wait is bounded, so a stuck request fails the test
    instead of hanging it.
    """
    if barrier and workers != len(actions):
        raise ValueError("a barrier-released race needs one thread per action")
    start_line = threading.Barrier(workers, timeout=BARRIER_TIMEOUT) if barrier else None

    def run(action: Callable[[], T]) -> T:
        if start_line is not None:
            start_line.wait()
        return action()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cq-racer")
    try:
        futures = [pool.submit(run, action) for action in actions]
        deadline = time.monotonic() + RUN_TIMEOUT
        return [future.result(timeout=max(0.0, deadline - time.monotonic())) for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@pytest.fixture()
def race() -> Callable[[Sequence[Callable[[], T]]], list[T]]:
    """race(actions): one thread per action, all released together by a threading.Barrier."""
    return lambda actions: run_concurrently(actions, workers=len(actions), barrier=True)


@pytest.fixture()
def in_parallel() -> Callable[..., list[Any]]:
    """in_parallel(actions, workers=n): the actions on a pool of n threads, n at most at once."""
    return lambda actions, workers: run_concurrently(actions, workers=workers)


@dataclass
class Overlap:
    """How much really ran at once: requests inside the app, and database connections in use."""

    requests: int = 0
    peak_requests: int = 0
    connections: int = 0
    peak_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request_began(self, *_args: Any, **_kwargs: Any) -> None:
        with self.lock:
            self.requests += 1
            self.peak_requests = max(self.peak_requests, self.requests)

    def request_ended(self, *_args: Any, **_kwargs: Any) -> None:
        with self.lock:
            self.requests -= 1

    def connection_taken(self, *_args: Any) -> None:
        with self.lock:
            self.connections += 1
            self.peak_connections = max(self.peak_connections, self.connections)

    def connection_returned(self, *_args: Any) -> None:
        with self.lock:
            self.connections -= 1


@pytest.fixture()
def overlap(app) -> Iterator[Overlap]:
    """Count requests in flight (Flask signals) and pooled connections checked out (pool events)."""
    seen = Overlap()
    with app.app_context():
        engine = db.engine
    request_started.connect(seen.request_began, app)
    request_finished.connect(seen.request_ended, app)
    event.listen(engine, "checkout", seen.connection_taken)
    event.listen(engine, "checkin", seen.connection_returned)
    yield seen
    event.remove(engine, "checkin", seen.connection_returned)
    event.remove(engine, "checkout", seen.connection_taken)
    request_finished.disconnect(seen.request_ended, app)
    request_started.disconnect(seen.request_began, app)


# --- real servers sharing Redis -------------------------------------------------------------


@dataclass
class Server:
    """One gunicorn process (one sync worker) on a loopback port."""

    port: int
    process: subprocess.Popen
    log_path: Path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        connection: http.client.HTTPConnection | None = None,
    ) -> Answer:
        """One request on a connection of its own, or on `connection` (already open, say to
        hold a worker); the connection is closed afterwards."""
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            payload = None if body is None else json.dumps(body).encode()
            sent_headers = {"Accept": "application/json", **(headers or {})}
            if payload is not None:
                sent_headers["Content-Type"] = "application/json"
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            decoded = json.loads(raw) if content_type.startswith("application/json") else raw
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, decoded
            )
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class ServerPair:
    servers: list[Server]

    def logs(self) -> str:
        return "\n".join(f"--- gunicorn on port {s.port} ---\n{s.log()}" for s in self.servers)


def free_loopback_ports(count: int) -> list[int]:
    """Ports the kernel hands out now (held open together, so they are distinct)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def server_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
    env.update(
        CYBERQUEST_CONFIG="production",
        SECRET_KEY=secrets.token_hex(32),  # 64 characters
        DATABASE_URL=os.environ["TEST_DATABASE_URL"],
        RATELIMIT_ENABLED="1",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        COMPLETION_RATE_LIMIT=COMPLETION_LIMIT_SERVER,
        ENABLE_SERVER_SIDE_TRACKING="1",
        SERVER_SIDE_TRACKING_ROLLOUT_PERCENT="100",
        SESSION_COOKIE_SECURE="0",
        TRUSTED_HOSTS="127.0.0.1",  # the servers are reached at 127.0.0.1:port
        PYTHONUNBUFFERED="1",
    )
    return env


def start_server(
    port: int,
    log_dir: Path,
    env: dict[str, str],
    *,
    workers: int = 1,
    extra_args: Sequence[str] = (),
) -> Server:
    """gunicorn serving wsgi:app on 127.0.0.1:port; `extra_args` (say, `-c gunicorn.conf.py`)
    come before the app, so they add to these options or override them."""
    log_path = log_dir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--graceful-timeout",
                "5",
                "--timeout",
                "30",
                # The default control socket path is per user, shared with any other gunicorn.
                "--no-control-socket",
                *extra_args,
                "wsgi:app",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches its worker too
        )
    return Server(port=port, process=process, log_path=log_path)


def wait_until_ready(server: Server, deadline: float) -> None:
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gunicorn on port {server.port} exited with {server.process.returncode}:\n"
                f"{server.log()}"
            )
        try:
            answer = server.request("GET", "/api/levels")
            if answer.status == 200:
                return
            last_problem = f"GET /api/levels answered {answer.status}"
        except OSError as error:
            last_problem = repr(error)
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn on port {server.port} not ready after {SERVER_START_TIMEOUT}s "
        f"({last_problem}):\n{server.log()}"
    )


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=SERVER_STOP_TIMEOUT)


@contextlib.contextmanager
def running_server(
    *,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    workers: int = 1,
    redis_db: int | None = None,
) -> Iterator[Server]:
    """One gunicorn server on a free loopback port, ready for requests, stopped afterwards.

    It runs with server_environment() updated by `env`; its limits are kept in Redis logical
    database `redis_db` when one is given (the caller owns that database and empties it).
    """
    server_env = server_environment()
    if redis_db is not None:
        server_env["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:6379/{redis_db}"
    server_env.update(env or {})
    log_dir = Path(tempfile.mkdtemp(prefix="cyberquest-gunicorn-"))
    [port] = free_loopback_ports(1)
    server = start_server(port, log_dir, server_env, workers=workers, extra_args=extra_args)
    try:
        wait_until_ready(server, time.monotonic() + SERVER_START_TIMEOUT)
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def gunicorn_pair(app) -> Iterator[ServerPair]:
    """Two real gunicorn servers on the test database, sharing Redis database 13 for limits.

    `app` comes first so the schema is migrated before the servers connect.
    """
    log_dir = Path(tempfile.mkdtemp(prefix="cyberquest-gunicorn-"))
    env = server_environment()
    servers: list[Server] = []
    try:
        for port in free_loopback_ports(2):
            servers.append(start_server(port, log_dir, env))
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        for server in servers:
            wait_until_ready(server, deadline)
        yield ServerPair(servers)
    finally:
        for server in servers:
            stop_server(server)
        # A failed test has already shown the logs (report section or setup error).
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture()
def shared_redis() -> Iterator[redis.Redis]:
    """Redis database 13, empty at the start and the end of the test."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture()
def servers(gunicorn_pair, shared_redis) -> ServerPair:
    """The two servers, with fresh shared rate-limit counters for this test."""
    return gunicorn_pair


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the servers shows what they wrote to stderr."""
    report = yield
    pair = getattr(item, "funcargs", {}).get("servers")
    if report.failed and isinstance(pair, ServerPair):
        report.sections.append(("gunicorn servers' stderr", pair.logs()))
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, Server) and value.log_path.exists():
                report.sections.append((f"gunicorn stderr ({name})", value.log()))
    return report
