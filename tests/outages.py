"""Helpers that make a dependency fail under a test: a TCP relay to a real server that the test
cuts (refused or hung) and restores, and apps of a test's own on a database it may break."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from flask import Flask
from flask_migrate import upgrade
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db, limiter
from config import config_for

# The contract: with a dependency down or hung, an answer comes within 3 s.
ANSWER_BOUND_SECONDS = 3.0
REDIS_ADDRESS = ("127.0.0.1", 6379)
# Logical Redis database of these tests (13 belongs to tests/integration).
REDIS_DB = 10
ACCEPT_POLL_SECONDS = 0.05

T = TypeVar("T")


class TcpForwarder:
    """A relay from a loopback port to a real server, in one of three modes:

    - forward: every connection is relayed (the start);
    - refuse: every connection is closed and the port with them, so connecting is refused,
      as to a server that is down;
    - hang: relayed connections stop moving and new ones are accepted but never answered,
      as by a server that hangs.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "forward"
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.port = 0
        self.listen()

    def forward(self) -> None:
        self.switch("forward")

    def hang(self) -> None:
        self.switch("hang")

    def refuse(self) -> None:
        self.switch("refuse")

    def close(self) -> None:
        self.switch("refuse")

    def switch(self, mode: str) -> None:
        with self.lock:
            self.mode = mode
            if mode == "refuse":
                self.close_listener()
                for sock in list(self.sockets):
                    shut(sock)
                self.sockets.clear()
        if mode != "refuse" and self.listener is None:
            self.listen()

    def listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port again after a refusal
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_SECONDS)  # so that closing it ends the accept loop
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self.accept_loop, args=(listener,), daemon=True).start()

    def close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def accept_loop(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self.lock:
                self.sockets.add(client)
                mode = self.mode
            if mode == "hang":
                continue  # held open, never read nor answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                shut(client)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.add(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.mode == "hang":  # a hung server: the bytes go nowhere for now
                    time.sleep(ACCEPT_POLL_SECONDS)
                sink.sendall(data)
        except OSError:
            pass  # the other side, or refuse(), closed the connection
        finally:
            shut(source)
            shut(sink)


def shut(sock: socket.socket) -> None:
    """Close a socket another thread may be blocked on (shutdown wakes it, close alone may not)."""
    with suppress(OSError):  # not connected any more
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextmanager
def forwarder_to(target: tuple[str, int]) -> Iterator[TcpForwarder]:
    relay = TcpForwarder(target)
    try:
        yield relay
    finally:
        relay.close()


@contextmanager
def relay_to_redis() -> Iterator[TcpForwarder]:
    """A relay to Redis for an app's limits, with the tests' logical database empty at the
    start and at the end (limits counted there outlive a test run)."""
    store = redis.Redis(*REDIS_ADDRESS, db=REDIS_DB, socket_timeout=5, socket_connect_timeout=5)
    store.flushdb()
    try:
        with forwarder_to(REDIS_ADDRESS) as relay:
            yield relay
    finally:
        store.flushdb()
        store.close()


def url_through(url: str, relay: TcpForwarder) -> str:
    """The same database URL, reached through the relay."""
    through = make_url(url).set(host="127.0.0.1", port=relay.port)
    return through.render_as_string(hide_password=False)


def app_on(url: str, **overrides: Any) -> Flask:
    """A testing app of a test's own on the database at `url`, with the engine options the
    configuration derives for that URL (the connect and statement timeouts on PostgreSQL)."""
    settings = config_for("testing")
    settings.SQLALCHEMY_DATABASE_URI = url
    options = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": settings.SQLALCHEMY_ENGINE_OPTIONS,
    }
    return create_app("testing", options | overrides)


def address_of(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


@dataclass
class DatabaseOutage:
    """An app of a test's own on a database the test takes away (`cut`, or `hang` where the
    backend can) and gives back (`restore`)."""

    app: Flask
    cut: Callable[[], None]
    restore: Callable[[], None]
    hang: Callable[[], None] | None = None


@contextmanager
def database_outage(shared_app: Flask, tmp_dir: Path, **overrides: Any) -> Iterator[DatabaseOutage]:
    """On PostgreSQL, an app on the shared test database through a relay the test cuts; on
    SQLite, an app on a migrated file of its own whose directory the test takes away."""
    url = shared_app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        with forwarder_to(address_of(url)) as relay:
            own = app_on(url_through(url, relay), **overrides)
            try:
                yield DatabaseOutage(own, relay.refuse, relay.forward, relay.hang)
            finally:
                dispose(own, shared_app)
        return
    home, away = tmp_dir / "database", tmp_dir / "database-gone"
    home.mkdir()
    own = app_on(f"sqlite:///{home / 'cyberquest.db'}", **overrides)
    with own.app_context():
        upgrade()

    def cut() -> None:
        home.rename(away)
        # An open SQLite file stays readable after its directory goes: the connections a
        # worker opens from now on are the ones that fail.
        with own.app_context():
            db.engine.dispose()

    def restore() -> None:
        away.rename(home)

    try:
        yield DatabaseOutage(own, cut, restore)
    finally:
        if away.exists():
            restore()
        dispose(own, shared_app)


def dispose(app: Flask, shared_app: Flask) -> None:
    """Close an app's own connections, and give the one rate limiter of the process back to
    the shared test app (building an app binds it to that app's limit store)."""
    with app.app_context():
        db.engine.dispose()
    limiter.init_app(shared_app)


def sample(name: str) -> float:
    """The current value of a metric of this process (0 before its first count)."""
    return REGISTRY.get_sample_value(name) or 0.0


def timed(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """What `call` returned, and the wall time it took, in seconds."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started
