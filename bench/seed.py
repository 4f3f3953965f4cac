"""The benchmark's databases: created empty, migrated, seeded with players and their API
tokens, and put back into the same state before every run."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path

import sqlalchemy as sa
from common import BASELINE_DB, PRODUCT_DB, ROOT, VENV_BIN, BenchError, run_checked
from sqlalchemy.pool import NullPool

WRITE_TABLES = (
    "level_completions, xp_history, user_level_progress, leaderboard_totals, outbox_events"
)
# The ledger's tables are append-only: emptying them takes the documented unlock, inside the
# one transaction that truncates them.
LEDGER_RESET = (
    "BEGIN; INSERT INTO ledger_unlocks (purpose) VALUES ('benchmark reset'); "
    f"TRUNCATE {WRITE_TABLES} RESTART IDENTITY; DELETE FROM ledger_unlocks; COMMIT"
)
# Players the load never uses: for the in-process counts and for checking a signed-in cookie.
SPARE_PLAYERS = ("spare_token", "spare_cookie", "spare_warm", "spare_check")
# Every player's first request of a run finds its credential last used a while ago (the app
# refreshes it then), as a player's completions come minutes apart.
CREDENTIALS_STALE = [
    "UPDATE api_tokens SET last_used_at = NULL",
    "UPDATE user_sessions SET last_seen_at = now() - interval '1 hour',"
    " expires_at = now() + interval '8 hours'",
    "VACUUM ANALYZE api_tokens, user_sessions",
]
# A retry follows its original within seconds: the credential was just used.
CREDENTIALS_FRESH = [
    "UPDATE api_tokens SET last_used_at = now()",
    "UPDATE user_sessions SET last_seen_at = now(), expires_at = now() + interval '8 hours'",
    "VACUUM ANALYZE api_tokens, user_sessions",
]


def url(pg: str, name: str) -> str:
    return f"{pg.rstrip('/')}/{name}"


def engine(pg: str, name: str) -> sa.Engine:
    """No pool: between runs the bench holds no connection, so none is counted as load."""
    return sa.create_engine(url(pg, name), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def recreate_database(pg: str, name: str) -> None:
    if name not in (PRODUCT_DB, BASELINE_DB):
        raise BenchError(f"refusing to drop {name}")
    server = engine(pg, "postgres")
    try:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        raise BenchError(f"PostgreSQL unreachable at {pg}: {error.orig}") from None
    finally:
        server.dispose()


def migrate(env: dict[str, str]) -> str:
    flask = str(VENV_BIN / "flask")
    run_checked([flask, "db", "upgrade"], cwd=ROOT, env=env, timeout=180)
    return run_checked([flask, "levels", "sync"], cwd=ROOT, env=env, timeout=120)


def seed_players(db: sa.Engine, n: int, token_file: Path, spare_file: Path) -> None:
    """n players with one API token each, plus the spare players, in bulk."""
    users = sa.table(
        "users", *(sa.column(c) for c in ("id", "username", "email", "password_hash", "total_xp"))
    )
    api_tokens = sa.table("api_tokens", *(sa.column(c) for c in ("user_id", "name", "token_hash")))
    names = [f"bench{i:07d}" for i in range(n)] + list(SPARE_PLAYERS)
    tokens = {name: "cq_" + secrets.token_urlsafe(32) for name in names}
    rows = [
        {"username": u, "email": f"{u}@bench.invalid", "total_xp": 0, "password_hash": "!"}
        for u in names
    ]
    with db.begin() as conn:
        conn.execute(users.insert(), rows)
        ids = dict(conn.execute(sa.select(users.c.username, users.c.id)).all())
        conn.execute(
            api_tokens.insert(),
            [{"user_id": ids[u], "name": "bench", "token_hash": digest(tokens[u])} for u in names],
        )
    token_file.write_text("\n".join(tokens[u] for u in names[:n]) + "\n")
    spare_file.write_text(json.dumps({u: tokens[u] for u in SPARE_PLAYERS}))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seed_baseline(env: dict, baseline_app: Path, n: int, token_file: Path, work: Path) -> None:
    cmd = [str(VENV_BIN / "python"), str(baseline_app), "seed", str(n), str(token_file)]
    run_checked(cmd, cwd=work, env=env, timeout=300)


def execute_all(db: sa.Engine, statements: list[str]) -> None:
    with db.connect() as conn:  # autocommit: VACUUM cannot run in a transaction
        conn.execute(sa.text("SET lock_timeout = '15s'"))
        conn.execute(sa.text("SET statement_timeout = '120s'"))
        for statement in statements:
            conn.execute(sa.text(statement))


# The emptied tables are not analyzed: TRUNCATE leaves their statistics unknown, which the
# planner reads as a table of some size, as it plans a table in use. Analyzed empty, they would
# be planned as known to hold nothing (a state a live ledger is never in): each worker's
# prepared plans would then scan them whole on every request while the run fills them.
def reset_product(db: sa.Engine) -> None:
    """Before a run of new completions: no completion, ledger or progress, totals at 0."""
    execute_all(
        db,
        [
            LEDGER_RESET,
            "UPDATE users SET total_xp = 0 WHERE total_xp <> 0",
            "VACUUM ANALYZE users",
            *CREDENTIALS_STALE,
        ],
    )


def freshen_credentials(db: sa.Engine) -> None:
    """Before a replay run: the ledger as the new run left it, every credential just used."""
    execute_all(db, CREDENTIALS_FRESH)


def reset_baseline(db: sa.Engine) -> None:
    execute_all(
        db,
        [
            "TRUNCATE completions, xp_history RESTART IDENTITY",
            "UPDATE users SET total_xp = 0 WHERE total_xp <> 0",
            "VACUUM ANALYZE users",
        ],
    )


def run_completions(db: sa.Engine, run_id: int) -> tuple[int, int, int, int]:
    """(completions of run `run_id`, how many of them awarded XP, ledger entries, the length
    of the unbroken prefix of sequence numbers 0..k-1 recorded: what a replay can send again).
    The ledger was emptied before the run, so all its entries are this run's."""
    query = sa.text(
        "SELECT client_event_id::text, awarded_xp FROM level_completions"
        " WHERE client_event_id::text LIKE :prefix"
    )
    with db.connect() as conn:
        rows = conn.execute(query, {"prefix": f"{run_id:08x}-%"}).all()
        ledger = conn.execute(sa.text("SELECT count(*) FROM xp_history")).scalar_one()
    seen = {int(event_id.rsplit("-", 1)[1], 16) for event_id, _ in rows}
    k = 0
    while k in seen:
        k += 1
    return len(rows), sum(1 for _, xp in rows if xp > 0), ledger, k


def quiesce(db: sa.Engine, dbname: str, table: str, timeout: float = 30.0) -> int:
    """Wait until the server has drained (requests still in gunicorn's listen backlog when wrk
    stops are served afterwards); the settled row count of `table`."""
    deadline = time.monotonic() + timeout
    last = -1
    busy_query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :d"
        " AND pid <> pg_backend_pid() AND state <> 'idle'"
    )
    while True:
        with db.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            busy = conn.execute(busy_query, {"d": dbname}).scalar_one()
        if rows == last and busy == 0:
            return rows
        if time.monotonic() > deadline:
            raise BenchError(f"{dbname} still busy {timeout}s after the run ({busy} active)")
        last = rows
        time.sleep(0.3)
