"""The product in-process, with the benchmarked server's environment (run by bench/bench.py,
cwd the checkout):

    python bench/probe.py sign-in COOKIES CHECK_COOKIE   # sign every bench player in once
    python bench/probe.py count SPARE_TOKENS             # what one request costs

sign-in: each bench player (in username order, so line u of COOKIES is player u of the token
file) and the player spare_check signs in through app.auth.sign_in inside a request context
from 127.0.0.1 with the User-Agent the load sends; the session cookie is the session Flask
would send, signed with the server's SECRET_KEY.

count: single requests through app.test_client(); for each, the SQL statements (a
before_cursor_execute listener on db.engine), transactions, pool pre-pings, Redis round
trips (one write of one or more commands to a Redis connection, a pipeline or an EVALSHA
being one) and, when PostgreSQL has pg_stat_statements loaded, the statements it counted.
The last line of output is `CQPROBE {json}`.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import flask  # noqa: E402
import redis.connection  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from app import auth, create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402

sys.path.insert(0, str(BENCH))
import statements  # noqa: E402
from common import ENDPOINT, USER_AGENT, shorten  # noqa: E402

TRANSACTION_WORDS = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
REDIS_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)")
ORIGIN = "http://localhost"  # the test client's host


def session_cookie(app: flask.Flask, user: User) -> str:
    """Sign `user` in as the login form does; the session cookie the answer would carry, as
    the Cookie header sends it back (name=value)."""
    context = app.test_request_context(
        "/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
    )
    with context:
        auth.sign_in(user)
        value = app.session_interface.get_signing_serializer(app).dumps(dict(flask.session))
        return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def sign_in_all(cookie_file: Path, check_file: Path) -> int:
    app = create_app()
    with app.app_context():
        # Only the bench's own sign-ins skip the wait for the WAL flush; requests never run here.
        event.listen(db.engine, "connect", lambda conn, _: no_sync_commit(conn))
        players = list(
            db.session.scalars(
                sa.select(User).where(User.username.like("bench%")).order_by(User.username)
            )
        )
        check = db.session.scalars(sa.select(User).filter_by(username="spare_check")).one()
        db.session.expunge_all()  # detached: sign_in's commits do not reload them
    cookies = [session_cookie(app, user) for user in players]
    cookie_file.write_text("\n".join(cookies) + "\n")
    check_file.write_text(session_cookie(app, check) + "\n")
    print(f"signed in {len(cookies)} players")
    return 0


def no_sync_commit(dbapi_connection) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()
    dbapi_connection.commit()


class Recorder:
    """What the instrumented app did during one request."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.sql: list[str] = []
        self.tx: list[str] = []
        self.pings = 0
        self.redis: list[list[str]] = []

    def instrument(self, engine: sa.Engine) -> None:
        event.listen(engine, "before_cursor_execute", self.on_statement)
        event.listen(engine, "begin", lambda conn: self.tx.append("BEGIN"))
        event.listen(engine, "commit", self.on_commit)
        event.listen(engine, "rollback", lambda conn: self.tx.append("ROLLBACK"))
        dialect, ping = engine.dialect, engine.dialect.do_ping

        def counted_ping(dbapi_connection):
            self.pings += 1
            return ping(dbapi_connection)

        dialect.do_ping = counted_ping
        send = redis.connection.AbstractConnection.send_packed_command

        def counted_send(connection, command, check_health=True):
            chunks = command if isinstance(command, list | tuple) else [command]
            packed = b"".join(bytes(chunk) for chunk in chunks)
            self.redis.append([m.decode() for m in REDIS_COMMAND.findall(packed)])
            return send(connection, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted_send

    def on_statement(self, conn, cursor, statement, parameters, context, executemany):
        self.sql.append(shorten(statement))

    def on_commit(self, conn) -> None:
        # Did the transaction get a transaction id (a write or a row lock)? Then its COMMIT
        # writes WAL and waits for the flush. Asked on the raw cursor: not counted.
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
            self.tx.append("COMMIT+WAL" if cursor.fetchone()[0] else "COMMIT")
        finally:
            cursor.close()


class ServerCounts:
    """Statements PostgreSQL itself counted in the bench database (pg_stat_statements), when
    the extension is loaded; nothing otherwise (loading it takes a server restart). Asked on
    one side connection held open, whose own statements are left out."""

    def __init__(self, side: sa.Connection) -> None:
        self.side = side
        self.available = statements.loaded(side)

    def reset(self) -> None:
        if self.available:
            self.side.execute(statements.RESET)

    def statements(self) -> int | None:
        if not self.available:
            return None
        rows = self.side.execute(
            sa.text(
                "SELECT query, calls FROM pg_stat_statements WHERE dbid ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).all()
        skip = ("pg_stat_statements", "pg_current_xact_id_if_assigned")
        return sum(
            calls
            for text, calls in rows
            if not TRANSACTION_WORDS.match(text) and not any(s in text for s in skip)
        )


def completion(level: int) -> dict:
    return {
        "level_id": level,
        "score": 800,
        "time_spent": 300,
        "difficulty": "normal",
        "metadata": {"hints_used": 0},
        "client_event_id": str(uuid.uuid4()),
    }


def token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}


def cookie_headers(cookie: str) -> dict[str, str]:
    """What a browser sends with a fetch() from one of the site's pages."""
    return {
        "Cookie": cookie,
        "Origin": ORIGIN,
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "User-Agent": USER_AGENT,
    }


class Prober:
    """Sends one request at a time and reports what it cost."""

    def __init__(self, app: flask.Flask, side: sa.Connection) -> None:
        self.client = app.test_client(use_cookies=False)
        self.side = side
        self.recorder = Recorder()
        self.server = ServerCounts(side)
        with app.app_context():
            self.recorder.instrument(db.engine)

    def make_stale(self, username: str) -> None:
        """The player's token and sessions last used a while ago, as before a run."""
        player = "(SELECT id FROM users WHERE username = :u)"
        for statement in (
            f"UPDATE api_tokens SET last_used_at = NULL WHERE user_id = {player}",
            "UPDATE user_sessions SET last_seen_at = now() - interval '1 hour'"
            f" WHERE user_id = {player}",
        ):
            self.side.execute(sa.text(statement), {"u": username})

    def send(self, case: str, body: dict, headers: dict[str, str]) -> dict:
        self.server.reset()
        self.recorder.clear()
        response = self.client.post(ENDPOINT, json=body, headers=headers)
        data = response.get_json(silent=True) or {}
        rec = self.recorder
        return {
            "case": case,
            "status": response.status_code,
            "body": "" if response.status_code == 200 else response.get_data(as_text=True)[:200],
            "is_new_completion": data.get("is_new_completion"),
            "awarded_xp": data.get("awarded_xp"),
            "replayed": response.headers.get("Idempotent-Replayed"),
            "set_cookie": response.headers.getlist("Set-Cookie"),
            "sql": [s for s in rec.sql if not TRANSACTION_WORDS.match(s)],
            "begins": rec.tx.count("BEGIN"),
            "commits": sum(1 for t in rec.tx if t.startswith("COMMIT")),
            "wal_commits": rec.tx.count("COMMIT+WAL"),
            "rollbacks": rec.tx.count("ROLLBACK"),
            "pings": rec.pings,
            "redis": list(rec.redis),
            "server_statements": self.server.statements(),
        }


CASES = (
    # (id, what the request is, player, credential, body: "new" or the id of the case it repeats)
    ("new_token_stale", "new completion, token last used a while ago", "token", "new"),
    ("new_token_fresh", "new completion, token just used", "token", "new"),
    ("replay_token", "its replay, token just used", "token", "new_token_stale"),
    ("new_cookie_stale", "new completion, cookie, session seen a while ago", "cookie", "new"),
    ("new_cookie_fresh", "new completion, cookie, session just seen", "cookie", "new"),
    (
        "replay_cookie",
        "its replay, cookie, session just seen",
        "cookie",
        "new_cookie_stale",
    ),
)


def detached_player(app: flask.Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username=username)).one()
        db.session.expunge(user)
        return user


def count_all(spare_file: Path) -> int:
    tokens = json.loads(spare_file.read_text())
    app = create_app()
    side_engine = sa.create_engine(
        app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    cookies = {
        name: session_cookie(app, detached_player(app, name))
        for name in ("spare_cookie", "spare_warm")
    }
    headers = {
        "token": token_headers(tokens["spare_token"]),
        "cookie": cookie_headers(cookies["spare_cookie"]),
    }
    with side_engine.connect() as side:
        prober = Prober(app, side)
        # Connections to PostgreSQL and Redis opened, scripts loaded, and every level the
        # cases use read once by this process (as a worker has after its first requests):
        # not counted.
        warm = [
            prober.send("warm-up", completion(1), token_headers(tokens["spare_warm"])),
            prober.send("warm-up", completion(2), cookie_headers(cookies["spare_warm"])),
        ]
        new_levels = {level for level, case in enumerate(CASES, 1) if case[3] == "new"}
        for level in sorted(new_levels - {1, 2}):
            warm.append(
                prober.send("warm-up", completion(level), token_headers(tokens["spare_warm"]))
            )
        prober.make_stale("spare_token")
        prober.make_stale("spare_cookie")
        bodies: dict[str, dict] = {}
        results = []
        for level, (case, title, credential, body) in enumerate(CASES, 1):
            bodies[case] = completion(level) if body == "new" else bodies[body]
            result = prober.send(case, bodies[case], headers[credential])
            results.append(result | {"title": title, "expect_new": body == "new"})
    side_engine.dispose()
    print("CQPROBE " + json.dumps({"warm": warm, "cases": results}))
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "sign-in":
        return sign_in_all(Path(sys.argv[2]), Path(sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        return count_all(Path(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
