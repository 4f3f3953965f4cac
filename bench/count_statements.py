"""Count the SQL statements (and Redis commands) one POST /api/levels/complete costs, in-process.

Run by bench/run_bench.py with the checkout as cwd and the same environment as the benchmarked
gunicorn (DATABASE_URL=cq_bench, CYBERQUEST_CONFIG=production, rate limiter in Redis db 14...):

    .venv/bin/python bench/count_statements.py TOKEN_FILE

TOKEN_FILE holds one bearer token of a seeded user that the load runs never use. Three requests
go through app.test_client():
  1. a new completion, the token's last_used_at never set (what a player's first request of a
     session costs: tokens.user_for_token refreshes last_used_at in its own transaction);
  2. the replay of request 1 (same body, same client_event_id), token now fresh;
  3. a new completion of another level, token fresh (the steady-state cost of a new completion).
For each: every statement seen by a `before_cursor_execute` listener on db.engine (shortened),
COMMIT/ROLLBACK count (and how many COMMITs close a transaction that holds a transaction id,
i.e. wrote something or took a row lock: those write WAL and wait for its flush), pool
checkouts (each costs one extra round trip: the pool_pre_ping ";") and Redis commands.
The last line is `CQSTMTS {json}` for the driver.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shorten(sql: str, width: int = 150) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    token = Path(sys.argv[1]).read_text().split()[0]

    import redis
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    log: dict[str, list] = {"sql": [], "tx": [], "checkout": [], "redis": []}

    original_execute_command = redis.Redis.execute_command

    def counting_execute_command(self, *args, **options):
        log["redis"].append(str(args[0]) if args else "?")
        return original_execute_command(self, *args, **options)

    redis.Redis.execute_command = counting_execute_command

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def on_statement(conn, cursor, statement, parameters, context, executemany):
            log["sql"].append(shorten(statement))

        @event.listens_for(engine, "commit")
        def on_commit(conn):
            # Did this transaction get a transaction id (i.e. write anything, a row lock
            # included)? Then its COMMIT writes a WAL record and, with synchronous_commit=on,
            # waits for the WAL flush (fsync). Asked on the raw DBAPI cursor: not counted.
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
                log["tx"].append("COMMIT+WAL" if cursor.fetchone()[0] else "COMMIT")
            finally:
                cursor.close()

        @event.listens_for(engine, "rollback")
        def on_rollback(conn):
            log["tx"].append("ROLLBACK")

        @event.listens_for(engine.pool, "checkout")
        def on_checkout(dbapi_connection, record, proxy):
            log["checkout"].append(1)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def body(level: int) -> dict:
        return {
            "level_id": level,
            "score": 800,
            "time_spent": 300,
            "difficulty": "normal",
            "metadata": {"hints_used": 0},
            "client_event_id": str(uuid.uuid4()),
        }

    first = body(1)
    cases = [
        ("new completion, token last_used_at stale", first),
        ("replay of it (same body and client_event_id)", first),
        ("new completion, token fresh", body(2)),
    ]
    results = []
    for title, payload in cases:
        for bucket in log.values():
            bucket.clear()
        response = client.post("/api/levels/complete", json=payload, headers=headers)
        data = response.get_json(silent=True) or {}
        result = {
            "case": title,
            "status": response.status_code,
            "is_new_completion": data.get("is_new_completion"),
            "replayed_header": response.headers.get("Idempotent-Replayed"),
            "statements": len(log["sql"]),
            "sql": list(log["sql"]),
            "commits": log["tx"].count("COMMIT") + log["tx"].count("COMMIT+WAL"),
            "wal_commits": log["tx"].count("COMMIT+WAL"),
            "rollbacks": log["tx"].count("ROLLBACK"),
            "checkouts": len(log["checkout"]),
            "redis_commands": list(log["redis"]),
        }
        results.append(result)
        print(
            f"--- {title}: HTTP {result['status']}, is_new_completion={result['is_new_completion']}"
            f", Idempotent-Replayed={result['replayed_header']}"
        )
        print(
            f"    {result['statements']} SQL statements, {result['commits']} COMMIT "
            f"({result['wal_commits']} with a transaction id, i.e. a WAL flush), "
            f"{result['rollbacks']} ROLLBACK, {result['checkouts']} pool checkouts "
            f"(each + 1 pre-ping round trip), {len(result['redis_commands'])} Redis commands "
            f"({', '.join(result['redis_commands'])})"
        )
        for i, sql in enumerate(result["sql"], 1):
            print(f"    {i:2d}. {sql}")
        if response.status_code != 200:
            print(f"    body: {response.get_data(as_text=True)[:300]}")
    print("CQSTMTS " + json.dumps(results))
    ok = (
        results[0]["status"] == 200
        and results[0]["is_new_completion"] is True
        and results[1]["status"] == 200
        and results[1]["is_new_completion"] is False
        and results[2]["status"] == 200
        and results[2]["is_new_completion"] is True
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
