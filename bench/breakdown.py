"""Where one POST /api/levels/complete spends its time, in-process and serially (no gunicorn,
no concurrency): wall and CPU time per request, split into SQL statements, COMMIT, pool
pre-ping, Redis (rate limiter) and the rest (Python: Flask, marshmallow, SQLAlchemy, ...),
for the configuration the benchmark uses and for variants that switch one thing off.
Also times the shared baseline app the same way. A diagnostic, not part of the benchmark.

Run after bench/run_bench.py (it reuses cq_bench, cq_bench_baseline and the token files in
/tmp/cq-bench; it TRUNCATEs the write tables of cq_bench and FLUSHDBs Redis db 14):

    .venv/bin/python bench/breakdown.py [--n 100] [--rounds 5]

Each variant runs in its own process (Flask-Limiter's limiter is a module-level singleton), and
the variants are interleaved round by round so a change in the machine's load hits them alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
ENV = {
    "CYBERQUEST_CONFIG": "production",
    "DATABASE_URL": f"{PG}/cq_bench",
    "SECRET_KEY": secrets.token_hex(32),
    "TRUSTED_HOSTS": "localhost",  # what the test client sends
    "ENABLE_SERVER_SIDE_TRACKING": "1",
    "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT": "100",
    "RATELIMIT_ENABLED": "1",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
    "COMPLETION_ADDRESS_RATE_LIMIT": "100000/minute",
}


class Clock:
    """Accumulates wall time spent in SQL, COMMIT, pre-ping and Redis during one request."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sql = self.commit = self.ping = self.redis = 0.0
        self.n_sql = self.n_redis = 0


CLOCK = Clock()


def instrument_redis() -> None:
    import redis

    original = redis.Redis.execute_command
    if getattr(original, "_timed", False):
        return

    def timed(self, *args, **options):
        t = time.perf_counter()
        try:
            return original(self, *args, **options)
        finally:
            CLOCK.redis += time.perf_counter() - t
            CLOCK.n_redis += 1

    timed._timed = True
    redis.Redis.execute_command = timed


def instrument_engine(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["cq_t"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        CLOCK.sql += time.perf_counter() - conn.info.pop("cq_t", time.perf_counter())
        CLOCK.n_sql += 1

    dialect = engine.dialect
    do_commit, do_ping = dialect.do_commit, dialect.do_ping

    def timed_commit(dbapi_connection):
        t = time.perf_counter()
        try:
            return do_commit(dbapi_connection)
        finally:
            CLOCK.commit += time.perf_counter() - t

    def timed_ping(dbapi_connection):
        t = time.perf_counter()
        try:
            return do_ping(dbapi_connection)
        finally:
            CLOCK.ping += time.perf_counter() - t

    dialect.do_commit, dialect.do_ping = timed_commit, timed_ping


def body(n: int, level: int) -> dict:
    return {
        "level_id": level,
        "score": (n * 37) % 1001,
        "time_spent": 60 + (n * 13) % 3000,
        "difficulty": "normal",
        "metadata": {"hints_used": n % 3},
        "client_event_id": str(uuid.UUID(int=(0xBEEF << 96) | n)),
    }


def drive(client, path: str, requests: list[tuple[str, dict]]) -> list[dict]:
    rows = []
    for token, payload in requests:
        CLOCK.reset()
        w, c = time.perf_counter(), time.process_time()
        response = client.post(path, json=payload, headers={"Authorization": f"Bearer {token}"})
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.get_data(True)[:300]}")
        rows.append(
            {
                "wall": wall,
                "cpu": cpu,
                "sql": CLOCK.sql,
                "commit": CLOCK.commit,
                "ping": CLOCK.ping,
                "redis": CLOCK.redis,
                "n_sql": CLOCK.n_sql,
                "n_redis": CLOCK.n_redis,
                "replayed": response.headers.get("Idempotent-Replayed") == "true",
            }
        )
    return rows


VARIANTS = {
    # name: (config overrides, token state before the run, what is sent)
    "as benchmarked (token last_used_at stale)": ({}, "stale", "new"),
    "as benchmarked, token fresh": ({}, "fresh", "new"),
    "replays of 'token fresh' (token fresh)": ({}, "fresh", "replay"),
    "token fresh, rate limiter off": ({"RATELIMIT_ENABLED": False}, "fresh", "new"),
    "token fresh, limiter without headers": ({"RATELIMIT_HEADERS_ENABLED": False}, "fresh", "new"),
    "token fresh, limiter fixed-window": ({"RATELIMIT_STRATEGY": "fixed-window"}, "fresh", "new"),
    "token fresh, no pool_pre_ping": ({"SQLALCHEMY_ENGINE_OPTIONS": {}}, "fresh", "new"),
    "token fresh, all three: fixed-window, no headers, no pre-ping": (
        {
            "RATELIMIT_STRATEGY": "fixed-window",
            "RATELIMIT_HEADERS_ENABLED": False,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
        },
        "fresh",
        "new",
    ),
    "baseline_app.py": ({}, "-", "baseline"),
}


def worker(args: argparse.Namespace) -> int:
    """One variant in a fresh process: args.n requests from token args.first on; JSON rows out."""
    import json
    from hashlib import sha256

    overrides, token_state, mode = VARIANTS[args.variant]
    instrument_redis()
    if mode == "baseline":
        os.environ["DATABASE_URL"] = f"{PG}/cq_bench_baseline"
        spec = importlib.util.spec_from_file_location("baseline_app", args.baseline_app)
        baseline = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(baseline)
        with baseline.app.app_context():
            instrument_engine(baseline.db.engine)
        tokens = Path(args.baseline_tokens).read_text().split()[args.first : args.first + args.n]
        rows = drive(
            baseline.app.test_client(),
            "/api/v1/completions",
            [(t, {"level_id": 1, "xp": 10}) for t in tokens],
        )
    else:
        import sqlalchemy as sa

        from app import create_app
        from app.extensions import db

        tokens = Path(args.tokens).read_text().split()[args.first : args.first + args.n]
        admin = sa.create_engine(f"{PG}/cq_bench", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "UPDATE api_tokens SET last_used_at = "
                    + ("now()" if token_state == "fresh" else "NULL")
                    + " WHERE token_hash = ANY(:h)"
                ),
                {"h": [sha256(t.encode()).hexdigest() for t in tokens]},
            )
        admin.dispose()
        app = create_app(overrides=overrides or None)
        with app.app_context():
            instrument_engine(db.engine)
        rows = drive(
            app.test_client(),
            "/api/levels/complete",
            [(t, body(args.first + k, 1)) for k, t in enumerate(tokens)],
        )
    print("CQROWS " + json.dumps(rows))
    return 0


def summarize(name: str, rows: list[dict]) -> None:
    med = {
        k: statistics.median(r[k] for r in rows) * 1000
        for k in ("wall", "cpu", "sql", "commit", "ping", "redis")
    }
    rest = med["wall"] - med["sql"] - med["commit"] - med["ping"] - med["redis"]
    print(
        f"{name:<62}{med['wall']:7.2f}{med['cpu']:7.2f}{med['sql']:7.2f}{med['commit']:7.2f}"
        f"{med['ping']:7.2f}{med['redis']:7.2f}{rest:7.2f}"
        f"{statistics.median(r['n_sql'] for r in rows):5.0f}"
        f"{statistics.median(r['n_redis'] for r in rows):5.0f}"
        f"{sum(r['replayed'] for r in rows):>5}/{len(rows)}",
        flush=True,
    )


def main() -> int:
    import json
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100, help="requests per variant and round")
    ap.add_argument("--rounds", type=int, default=5, help="rounds; variants interleave per round")
    ap.add_argument("--tokens", default="/tmp/cq-bench/tokens_product.txt")
    ap.add_argument("--baseline-tokens", default="/tmp/cq-bench/tokens_baseline.txt")
    ap.add_argument(
        "--baseline-app",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "bench" / "baseline_app.py"),
    )
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.update(ENV)
    if args.variant:
        return worker(args)

    import redis
    import sqlalchemy as sa

    new_variants = [v for v, (_, _, mode) in VARIANTS.items() if mode == "new"]
    need = args.rounds * len(new_variants) * args.n
    have = len(Path(args.tokens).read_text().split())
    if have < need:
        raise SystemExit(f"need {need} tokens, have {have}; lower --n or --rounds")
    admin = sa.create_engine(f"{PG}/cq_bench", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # Past the ledger's append-only triggers the documented way (docs/architecture.md).
        conn.execute(
            sa.text(
                "BEGIN; INSERT INTO ledger_unlocks (purpose) VALUES ('benchmark reset'); "
                "TRUNCATE level_completions, xp_history, user_level_progress, "
                "leaderboard_totals, outbox_events; "
                "DELETE FROM ledger_unlocks; COMMIT"
            )
        )
        conn.execute(sa.text("UPDATE users SET total_xp = 0 WHERE total_xp <> 0"))
        conn.execute(
            sa.text(
                "VACUUM ANALYZE users, api_tokens, level_completions, xp_history,"
                " user_level_progress, leaderboard_totals"
            )
        )
    admin.dispose()
    rclient = redis.Redis.from_url(ENV["RATELIMIT_STORAGE_URI"])

    rows: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    skip = max(1, args.n // 5)  # per process, the first requests warm caches and connections
    order = list(VARIANTS)
    shuffler = random.Random(7)
    for r in range(args.rounds):
        fresh_first = 0
        if r:  # a different order each round (a replay always right after its new run)
            shuffler.shuffle(order)
            order.remove("replays of 'token fresh' (token fresh)")
            order.insert(
                order.index("as benchmarked, token fresh") + 1,
                "replays of 'token fresh' (token fresh)",
            )
        for name in order:
            mode = VARIANTS[name][2]
            if mode == "new":
                first = (r * len(new_variants) + new_variants.index(name)) * args.n
                if name == "as benchmarked, token fresh":
                    fresh_first = first
            elif mode == "replay":
                first = fresh_first
            else:
                first = r * args.n
            # Every variant starts from an empty limiter database: a key left by another
            # strategy (a moving-window list where fixed-window INCRs) is a WRONGTYPE error, and
            # Flask-Limiter then silently falls back to per-process memory.
            rclient.flushdb()
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    name,
                    "--first",
                    str(first),
                    "--n",
                    str(args.n),
                    "--tokens",
                    args.tokens,
                    "--baseline-tokens",
                    args.baseline_tokens,
                    "--baseline-app",
                    args.baseline_app,
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=600,
            )
            line = [x for x in out.stdout.splitlines() if x.startswith("CQROWS ")]
            if out.returncode != 0 or not line:
                raise SystemExit(f"{name}: failed\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
            rows[name].extend(json.loads(line[0][7:])[skip:])

    print(
        f"median ms per request; {args.rounds} rounds x {args.n - skip} serial requests per "
        f"variant (in-process test_client, variants interleaved, loadavg "
        f"{os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'variant':<62}{'wall':>7}{'cpu':>7}{'sql':>7}{'commit':>7}{'ping':>7}{'redis':>7}"
        f"{'rest':>7}{'#sql':>5}{'#rds':>5}{'replays':>10}"
    )
    for name in VARIANTS:
        summarize(name, rows[name])
    print(
        "wall = request time; cpu = process CPU; sql = time inside cursor.execute (incl. "
        "psycopg's implicit BEGIN); commit/ping = COMMIT / pool_pre_ping round trips; redis = "
        "rate-limiter commands; rest = wall minus those (Python work)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
