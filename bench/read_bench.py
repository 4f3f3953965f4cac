#!/usr/bin/env python3
"""Time the player-facing reads and `flask xp verify` on 100,000 players and 2,000,000 ledger
rows, through the real HTTP API. Prints figures, query plans and PASS/FAIL against the targets;
it is not a test.

    .venv/bin/python bench/read_bench.py [--server-url postgresql://postgres@127.0.0.1:5432]
        [--reads 200] [--verify-runs 3] [--skip-fill] [--quick]

It drops and re-creates the PostgreSQL database cq_bench_reads on that server (and never touches
another one), migrates it (`flask db upgrade`), loads the level catalog and fills it in SQL with
generate_series: a few players far more active than most; completions whose XP follows the
product's rule that a level pays at most its reward (a first run pays most of it, a second one
a little more, later runs nothing), the award entry of each paying completion, manual
adjustments up to the ledger's size, balances that are the running sums, totals and per-level
progress that agree with them. The ledger spans the year up to the end of this week or month,
whichever ends later, so that both boards are full (they cost most at a period's end). The
leaderboard totals are then rebuilt by the service's own rebuild and the database vacuumed.
The ledger verifies clean (`flask xp verify` is one of the timed reads).

Then it runs the app as production configures it (production_like_app says why) and times,
in-process through `app.test_client()` with bearer tokens issued by the token service, each
read warm: the progress page's data and the first and a deep history page of the player with
the longest history, and each board as seen by a player three quarters of the way down it.
It prints each read's median and p99, its statements, the EXPLAIN (ANALYZE, BUFFERS) plan of
its main statement as one real request ran it, and how that plan reaches its table; then the
seconds of `flask xp verify` and the plan of its slowest statement. The verdict is on the median
(the p99 is shown beside it): every API read under 50 ms, the audit under 30 s.

--skip-fill reuses a database filled by an earlier run; --quick fills 10,000 players and
200,000 ledger rows instead, to check the script. The app's own log lines (one per request)
are written to --app-log, discarded by default.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import leaderboard, levels, tokens  # noqa: E402
from config import normalize_database_url  # noqa: E402

DATABASE = "cq_bench_reads"
WARMUP_READS = 20
API_TARGET_MS = 50.0
VERIFY_TARGET_S = 30.0
DEEP_SHARE = 0.9  # the deep page starts this far down the reader's history
WALK_LIMIT = 100  # page size used to walk down to the deep page (the API's largest)


@dataclass(frozen=True)
class Size:
    players: int
    ledger_rows: int

    @property
    def completions(self) -> int:
        return self.ledger_rows // 2


FULL = Size(players=100_000, ledger_rows=2_000_000)
QUICK = Size(players=10_000, ledger_rows=200_000)

# ---- Filling the database -------------------------------------------------------------------


def recreate_database(server_url: str) -> str:
    """Drop and create this benchmark's own database on the server; return its URL."""
    server = sa.engine.make_url(normalize_database_url(server_url)).set(database="postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    engine.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False)


# random() ^ 2 makes low ids far more active, as a few players always are; early levels are
# played more than late ones. Per (player, level) the first run pays 40-80 % of the level's
# reward and the second a tenth of it, so no level ever pays more than its reward.
SEED = [
    "SELECT setseed(0.42)",
    """
    INSERT INTO users (id, username, email, password_hash)
    SELECT g, 'player' || g, 'player' || g || '@bench.test', 'not-a-hash'
    FROM generate_series(1, :players) AS g
    """,
    "SELECT setval('users_id_seq', :players)",
    """
    INSERT INTO level_completions (id, user_id, level_id, score, time_spent, difficulty, metadata,
        client_event_id, source, awarded_xp, xp_breakdown, payload_hash, created_at)
    SELECT g, user_id, level_id, score, 60 + (g * 13) % 1200, 'normal',
        jsonb_build_object('hints_used', g % 3), md5('event' || g)::uuid, 'api', awarded,
        jsonb_build_object('awarded', awarded), md5(g::text), created_at
    FROM (
        SELECT runs.*, CASE row_number() OVER (PARTITION BY user_id, level_id ORDER BY g)
                WHEN 1 THEN (reward * (0.4 + 0.4 * share))::int
                WHEN 2 THEN reward / 10
                ELSE 0 END AS awarded
        FROM (
            SELECT g, user_id, l.level_id, l.xp_reward AS reward,
                floor(random() * (l.max_score + 1))::int AS score, random() AS share,
                :start + (g::float8 / :completions) * :span AS created_at
            FROM (
                SELECT g, 1 + floor(:players * random() ^ 2)::int AS user_id,
                    (1 + floor(5 * random() ^ 1.5))::int::text AS level_id
                FROM generate_series(1, :completions) AS g
            ) AS picks
            JOIN levels AS l ON l.level_id = picks.level_id
        ) AS runs
    ) AS ranked
    """,
    "SELECT setval('level_completions_id_seq', :completions)",
    # Ids follow time, as the write path hands them out; each balance is the running sum.
    """
    INSERT INTO xp_history (id, user_id, delta, reason, reference_id, balance_after, metadata,
        created_at)
    SELECT id, user_id, delta, reason, reference_id,
        sum(delta) OVER (PARTITION BY user_id ORDER BY id), metadata, created_at
    FROM (
        SELECT row_number() OVER (ORDER BY created_at) AS id, entries.*
        FROM (
            SELECT user_id, awarded_xp AS delta, 'level_completion' AS reason,
                id AS reference_id, jsonb_build_object('level_id', level_id) AS metadata,
                created_at
            FROM level_completions WHERE awarded_xp > 0
            UNION ALL
            SELECT 1 + floor(:players * random() ^ 2)::int, 1 + floor(random() * 50)::int,
                'manual_adjustment', NULL, '{"note": "event bonus"}'::jsonb,
                :start + random() * :span
            FROM generate_series(
                1, :ledger_rows - (SELECT count(*) FROM level_completions WHERE awarded_xp > 0)
            ) AS g
        ) AS entries
    ) AS numbered
    """,
    "SELECT setval('xp_history_id_seq', :ledger_rows)",
    """
    UPDATE users SET total_xp = sums.xp
    FROM (SELECT user_id, sum(delta) AS xp FROM xp_history GROUP BY user_id) AS sums
    WHERE users.id = sums.user_id
    """,
    """
    INSERT INTO user_level_progress (user_id, level_id, best_score, xp_earned, completions_count,
        first_completed_at, last_completed_at)
    SELECT user_id, level_id, max(score), sum(awarded_xp), count(*), min(created_at),
        max(created_at)
    FROM level_completions GROUP BY user_id, level_id
    """,
]


def ledger_span() -> tuple[datetime, timedelta]:
    """(start, length) of the seeded ledger: the year up to the end of this week or month,
    whichever ends later (inside an app context: periods are cut in LEADERBOARD_TIMEZONE)."""
    now = utcnow()
    end = max(leaderboard.period_bounds(p, now)[1] for p in leaderboard.TIMED_PERIODS)
    span = timedelta(days=365)
    return end - span, span


def seed(maintenance: sa.Engine, size: Size) -> None:
    start, span = ledger_span()
    params = {
        "players": size.players,
        "completions": size.completions,
        "ledger_rows": size.ledger_rows,
        "start": start,
        "span": span,
    }
    started = time.perf_counter()
    with maintenance.begin() as connection:
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        for statement in SEED:
            connection.execute(sa.text(statement), params)
    print(
        f"seeded {size.players:,} players, {size.completions:,} completions and "
        f"{size.ledger_rows:,} ledger rows in {time.perf_counter() - started:.1f} s"
    )


def fill(app: Flask, maintenance: sa.Engine, size: Size) -> None:
    """Migrate, load the catalog, seed, rebuild the boards' totals, vacuum."""
    with app.app_context():
        upgrade()
        levels.sync_catalog()
        seed(maintenance, size)
        started = time.perf_counter()
        written = leaderboard.rebuild_leaderboard_totals()  # the seed bypassed the write path
        print(f"rebuilt the leaderboard totals {written} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")  # index-only scans need the visibility map
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


# ---- Who reads ------------------------------------------------------------------------------

READER = "SELECT user_id FROM xp_history GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
# Three quarters of the way down a board: `me` counts the players ahead, so this is what the
# board costs most players, and more than it costs the top.
VIEWER = sa.text("""
SELECT user_id FROM leaderboard_totals
WHERE period = :period AND starts_at = :starts_at AND xp > 0
ORDER BY xp DESC, last_entry_id
OFFSET (SELECT count(*) * 3 / 4 FROM leaderboard_totals
        WHERE period = :period AND starts_at = :starts_at AND xp > 0)
LIMIT 1
""")


@dataclass
class Bench:
    app: Flask
    engine: sa.Engine  # the app's own, with production's engine options
    maintenance: sa.Engine  # no statement timeout: seeding, vacuum, the audit's plan
    reads: int
    reader_id: int = 0  # the player with the longest history: progress and history reads
    viewers: dict[str, int] = field(default_factory=dict)  # per board, its viewer
    bearer: dict[int, dict[str, str]] = field(default_factory=dict)


def issue_tokens(bench: Bench) -> None:
    """Pick the reader and each board's viewer, and issue each an API token with the product's
    token service."""
    with bench.app.app_context():
        starts = leaderboard.period_starts(utcnow())
    with bench.maintenance.connect() as connection:
        bench.reader_id = connection.exec_driver_sql(READER).scalar_one()
        for period in leaderboard.PERIODS:
            key = {"period": period, "starts_at": starts[period]}
            bench.viewers[period] = connection.execute(VIEWER, key).scalar_one()
    with bench.app.app_context():
        for user_id in {bench.reader_id, *bench.viewers.values()}:
            issued = tokens.create_token(db.session.get(User, user_id), "read-bench")
            bench.bearer[user_id] = {"Authorization": f"Bearer {issued.secret}"}
    viewers = ", ".join(f"{period} player {user}" for period, user in bench.viewers.items())
    print(f"reader: player {bench.reader_id}; viewers three quarters down each board: {viewers}")


# ---- Measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    timings: list[float]  # milliseconds for API reads, seconds for the audit
    target: float
    unit: str = "ms"

    @property
    def median(self) -> float:
        return statistics.median(self.timings)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.timings, n=100, method="inclusive")[98]

    @property
    def passed(self) -> bool:
        return self.median < self.target


def get(bench: Bench, path: str, user_id: int) -> dict:
    response = bench.app.test_client().get(path, headers=bench.bearer[user_id])
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.get_data()!r}")
    return response.get_json()


def time_reads(bench: Bench, path: str, user_id: int) -> list[float]:
    """Milliseconds of each of `reads` warm requests, after WARMUP_READS unmeasured ones."""
    for _ in range(WARMUP_READS):
        get(bench, path, user_id)
    timings = []
    for _ in range(bench.reads):
        started = time.perf_counter()
        get(bench, path, user_id)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


@contextmanager
def captured_statements(engine: sa.Engine):
    """The (statement, parameters, seconds) of every statement run on `engine` meanwhile."""
    found: list[list] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        found.append([statement, parameters, time.perf_counter()])

    def after(conn, cursor, statement, parameters, context, executemany):
        found[-1][2] = time.perf_counter() - found[-1][2]

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def one_line(statement: str, width: int = 110) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= width else text[: width - 3] + "..."


SCAN = re.compile(
    r"(Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan|Index Scan|Seq Scan)( Backward)?"
    r"(?: using (\w+))? on (\w+)"
)


def access_of(plan: list[str], table: str | None) -> str:
    """How a plan reaches `table` (every table when None): each scan, and whether they are all
    index-only."""
    scans = []
    for kind, backward, index, target in SCAN.findall("\n".join(plan)):
        if kind == "Bitmap Index Scan":
            continue  # named after its index; its Bitmap Heap Scan names the table
        if table in (None, target):
            scans.append(
                f"{kind}{backward}" + (f" using {index}" if index else "") + f" on {target}"
            )
    if table is None:
        return "; ".join(sorted(set(scans)))
    kinds = {scan.split(" using ")[0].split(" on ")[0] for scan in scans}
    if kinds == {"Index Only Scan"}:
        verdict = "index-only"
    elif "Index Only Scan" in kinds:
        verdict = "partly index-only"
    elif "Seq Scan" in kinds:
        verdict = "NOT indexed (sequential scan)"
    else:
        verdict = "index scan, rows read from the heap (not index-only)"
    return f"{table}: {verdict}: " + "; ".join(scans)


def print_plan(
    connection: sa.Connection, statement: str, parameters, table: str | None = None
) -> None:
    """Run EXPLAIN (ANALYZE, BUFFERS) of one captured statement with its own parameters, print
    the plan and how it reaches `table`."""
    plan = list(
        connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars()
    )
    print("    " + "\n    ".join(plan))
    print("  access: " + access_of(plan, table))


def explain_request(bench: Bench, path: str, user_id: int, main_table: str) -> None:
    """Make one request with a statement listener, list what it ran, then print the plan of
    its main statement (the SELECT reading `main_table`)."""
    with captured_statements(bench.engine) as found:
        get(bench, path, user_id)  # outside an app context: the request has its own, as served
    print(f"  statements of one request ({len(found)}):")
    for statement, _, seconds in found:
        print(f"    {seconds * 1000:7.2f} ms  {one_line(statement)}")
    print(f"  plan of the main statement (the SELECT from {main_table}):")
    main = [
        (statement, parameters)
        for statement, parameters, _ in found
        if statement.lstrip().upper().startswith("SELECT")
        and re.search(rf"\bFROM {main_table}\b", statement)
    ]
    if not main:
        raise SystemExit(f"no SELECT from {main_table} among the request's statements")
    with bench.engine.connect() as connection:  # the requests' engine and settings
        for statement, parameters in main:
            print_plan(connection, statement, parameters, main_table)
        connection.rollback()


def api_read(bench: Bench, name: str, path: str, user_id: int, main_table: str) -> Result:
    print(f"\n===== {name}: GET {path} as player {user_id} =====")
    timings = time_reads(bench, path, user_id)
    explain_request(bench, path, user_id, main_table)
    result = Result(name, timings, API_TARGET_MS)
    print(f"  median {result.median:.2f} ms, p99 {result.p99:.2f} ms ({bench.reads} warm reads)")
    return result


# ---- The reads ------------------------------------------------------------------------------


def progress_read(bench: Bench) -> Result:
    """The progress page's data: the catalog with the player's standing on each level."""
    return api_read(
        bench, "progress", "/api/levels/progress", bench.reader_id, "user_level_progress"
    )


def history_first_page(bench: Bench) -> Result:
    """The newest 20 entries of the longest history."""
    return api_read(bench, "history, first page", "/api/xp/history", bench.reader_id, "xp_history")


def deep_cursor(bench: Bench) -> tuple[int, int]:
    """Walk the reader's history with the API's own `next` cursors, WALK_LIMIT entries a page,
    until DEEP_SHARE of it lies above; return (that cursor, entries above it)."""
    with bench.maintenance.connect() as connection:
        entries = connection.execute(
            sa.text("SELECT count(*) FROM xp_history WHERE user_id = :u"), {"u": bench.reader_id}
        ).scalar_one()
    cursor, above = None, 0
    while above < entries * DEEP_SHARE:
        query = f"?limit={WALK_LIMIT}" + (f"&before={cursor}" if cursor else "")
        page = get(bench, "/api/xp/history" + query, bench.reader_id)
        above += len(page["items"])
        cursor = page["next"]
        if cursor is None:
            raise SystemExit(f"player {bench.reader_id}'s history ended after {above} entries")
    return cursor, above


def history_deep_page(bench: Bench) -> Result:
    """20 entries far down the longest history, by keyset (`before`)."""
    cursor, above = deep_cursor(bench)
    name = f"history, deep page ({above:,} entries above)"
    path = f"/api/xp/history?before={cursor}"
    return api_read(bench, name, path, bench.reader_id, "xp_history")


def leaderboard_read(bench: Bench, period: str) -> Result:
    """A board's top 10 and its viewer's own rank (`me`)."""
    name = f"leaderboard, {period}"
    path = f"/api/leaderboard?period={period}"
    return api_read(bench, name, path, bench.viewers[period], "leaderboard_totals")


def verify_read(bench: Bench, runs: int) -> Result:
    """`flask xp verify` through the app's CLI runner: seconds per run, each statement's time in
    the last run, and the plan of the slowest statement."""
    print(f"\n===== flask xp verify (runs: {runs}) =====")
    runner = bench.app.test_cli_runner()
    timings = []
    for _ in range(runs):
        with captured_statements(bench.engine) as found:
            started = time.perf_counter()
            outcome = runner.invoke(args=["xp", "verify"])
            timings.append(time.perf_counter() - started)
        if outcome.exit_code != 0:
            raise SystemExit(f"flask xp verify failed:\n{outcome.output}")
    print(f"  {outcome.output.strip()}")
    print(f"  seconds per run: {', '.join(f'{t:.2f}' for t in timings)}")
    print("  statements of the last run:")
    for statement, _, seconds in found:
        print(f"    {seconds:7.2f} s  {one_line(statement)}")
    statement, parameters, _ = max(found, key=lambda item: item[2])
    print("  plan of the slowest statement:")
    with bench.maintenance.begin() as connection:
        print_plan(connection, statement, parameters)
    return Result("flask xp verify", timings, VERIFY_TARGET_S, unit="s")


# ---- Putting it together --------------------------------------------------------------------


def production_like_app(url: str) -> Flask:
    """The production configuration, as gunicorn runs it: the database comes from DATABASE_URL,
    so its engine options (2 s statement timeout, pool timeout, pre-ping) are production's. Only
    the two settings production refuses to start without are given: a random SECRET_KEY and
    TRUSTED_HOSTS=localhost (the test client's host). Rate limits stay on: no read is limited,
    so they cannot interfere, and every request still passes the limiter's hooks."""
    os.environ["DATABASE_URL"] = url
    os.environ["SECRET_KEY"] = secrets.token_hex(32)
    os.environ["TRUSTED_HOSTS"] = "localhost"
    return create_app("production")


def print_summary(results: list[Result]) -> None:
    print("\n===== summary: verdict on the median, p99 shown beside it =====")
    print(f"{'read':<42} {'median':>10} {'p99':>10} {'target':>9}  verdict")
    for r in results:
        p99 = f"{r.p99:.2f} {r.unit}" if r.unit == "ms" else "-"
        target = f"< {r.target:g} {r.unit}"
        verdict = "PASS" if r.passed else "FAIL"
        print(f"{r.name:<42} {r.median:>7.2f} {r.unit:<2} {p99:>10} {target:>9}  {verdict}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help=f"the PostgreSQL server; its database {DATABASE} is dropped and re-created",
    )
    parser.add_argument("--reads", type=int, default=200, help="timed requests per API read")
    parser.add_argument("--verify-runs", type=int, default=3, help="timed runs of the audit")
    parser.add_argument("--skip-fill", action="store_true", help=f"reuse a filled {DATABASE}")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smaller fill ({QUICK.players:,} players, {QUICK.ledger_rows:,} ledger rows)",
    )
    parser.add_argument(
        "--app-log",
        default=os.devnull,
        help="where the app's own log lines go (one per request; default: discarded)",
    )
    arguments = parser.parse_args()
    if arguments.reads < 2 or arguments.verify_runs < 1:
        parser.error("--reads must be at least 2 (for a p99) and --verify-runs at least 1")
    return arguments


def open_bench(arguments: argparse.Namespace) -> Bench:
    """The database (re-created unless --skip-fill), the app on it and the maintenance engine."""
    if arguments.skip_fill:
        url = sa.engine.make_url(normalize_database_url(arguments.server_url))
        url = url.set(database=DATABASE).render_as_string(hide_password=False)
    else:
        url = recreate_database(arguments.server_url)
    app = production_like_app(url)
    with app.app_context():
        engine = db.engine
    print(
        f"database {DATABASE}; app: create_app('production') (rate limits on; no read is "
        f"limited); {arguments.reads} timed reads after {WARMUP_READS} warm-up ones per API read"
    )
    return Bench(app, engine, sa.create_engine(url), arguments.reads)


def main() -> None:
    arguments = parse_arguments()
    bench = open_bench(arguments)
    # The app logs to stderr at INFO, one line per request: it still formats and writes them.
    with open(arguments.app_log, "a") as app_log, redirect_stderr(app_log):
        if not arguments.skip_fill:
            fill(bench.app, bench.maintenance, QUICK if arguments.quick else FULL)
        issue_tokens(bench)
        results = [
            progress_read(bench),
            history_first_page(bench),
            history_deep_page(bench),
            *(leaderboard_read(bench, period) for period in leaderboard.PERIODS),
            verify_read(bench, arguments.verify_runs),
        ]
    print_summary(results)
    bench.engine.dispose()
    bench.maintenance.dispose()


if __name__ == "__main__":
    main()
