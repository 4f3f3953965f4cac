#!/usr/bin/env python3
"""Time the three leaderboards on 100,000 players and 2,000,000 ledger rows. Prints figures and
query plans; it is not a test.

    .venv/bin/python bench/leaderboard_bench.py [--server-url postgresql://postgres@127.0.0.1:5432]

It drops and re-creates the PostgreSQL database cq_bench_leaderboard on that server (and never
touches another one), migrates it and fills it in SQL with generate_series: the ledger spread
over a year in id order, ending a month from now so that this week and month are full; a few
players far more active than most; totals are the sums of their deltas (balances are not kept).
The seeding bypasses the ledger's write path, so the leaderboard totals are then rebuilt from
that ledger by the service's own rebuild (what the boards read: all time, this week and this
month), and the database vacuumed. Then it reads each board warm through the service,
in-process inside an app context, the viewer three quarters of the way down the board, and
prints the EXPLAIN (ANALYZE, BUFFERS) plan of each statement and the median and p99 of the
reads; then again after --writes entries appended through the ledger's write path (which it
times), with no vacuum in between.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import ledger  # noqa: E402
from app.services.leaderboard import (  # noqa: E402
    PERIODS,
    leaderboard,
    period_starts,
    rebuild_leaderboard_totals,
)
from config import normalize_database_url  # noqa: E402

DATABASE = "cq_bench_leaderboard"
USERS = 100_000
HISTORY_ROWS = 2_000_000
READS = 50
WARMUP_READS = 5
LIMIT = 10
CHURN_WRITES = 10_000

SEED_USERS = """
INSERT INTO users (id, username, email, password_hash)
SELECT g, 'player' || g, 'player' || g || '@bench.test', 'not-a-hash'
FROM generate_series(1, :users) AS g
"""
# random()^2 makes low ids far more active, as a few players always are. The year ends a month
# from now, so that this week and this month are full: the boards cost most at a period's end.
SEED_HISTORY = """
INSERT INTO xp_history (user_id, delta, reason, balance_after, metadata, created_at)
SELECT 1 + floor(:users * random() ^ 2)::int, 1 + floor(random() * 100)::int,
       'level_completion', 0, '{}'::jsonb,
       now() - interval '334 days' + (g::float8 / :rows) * interval '365 days'
FROM generate_series(1, :rows) AS g
"""
SEED_TOTALS = """
UPDATE users SET total_xp = sums.xp
FROM (SELECT user_id, sum(delta) AS xp FROM xp_history GROUP BY user_id) AS sums
WHERE users.id = sums.user_id
"""


def recreate_database(server_url: str, database: str = DATABASE) -> str:
    """Drop and create a benchmark's own database (this one's by default); return its URL."""
    server = sa.engine.make_url(normalize_database_url(server_url)).set(database="postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return server.set(database=database).render_as_string(hide_password=False)


def seed(url: str) -> None:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text(SEED_USERS), {"users": USERS})
        connection.execute(sa.text("SELECT setval('users_id_seq', :users)"), {"users": USERS})
        connection.execute(sa.text(SEED_HISTORY), {"users": USERS, "rows": HISTORY_ROWS})
        connection.execute(sa.text(SEED_TOTALS))
    print(
        f"seeded {USERS:,} users and {HISTORY_ROWS:,} ledger rows in "
        f"{time.perf_counter() - started:.1f} s"
    )
    engine.dispose()


def rebuild_totals() -> None:
    """Fill leaderboard_totals from the seeded ledger (inside an app context)."""
    started = time.perf_counter()
    rows = rebuild_leaderboard_totals()
    counts = ", ".join(f"{period} {count:,}" for period, count in rows.items())
    print(
        f"rebuilt the leaderboard totals ({counts} rows) in {time.perf_counter() - started:.1f} s"
    )


def vacuum(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))  # index-only scans need the visibility map
    engine.dispose()


def viewers() -> dict[str, int]:
    """Per board, a player three quarters of the way down it: `me` counts the players ahead,
    so this is what it costs most players and more than it costs the top."""
    starts = period_starts(utcnow())
    return {
        period: db.session.execute(
            sa.text(
                "SELECT user_id FROM leaderboard_totals WHERE period = :period"
                " AND starts_at = :starts_at AND xp > 0 ORDER BY xp, last_entry_id DESC"
                " OFFSET (SELECT count(*) / 4 FROM leaderboard_totals"
                "  WHERE period = :period AND starts_at = :starts_at AND xp > 0) LIMIT 1"
            ),
            {"period": period, "starts_at": starts[period]},
        ).scalar_one()
        for period in PERIODS
    }


def churn(writes: int) -> None:
    """Append `writes` ledger entries through the write path, players drawn as the seed drew
    them, each in its own transaction: the totals' pages are then no longer all-visible, as
    between two autovacuums of a busy table."""
    started = time.perf_counter()
    for _ in range(writes):
        user_id = 1 + int(USERS * random.random() ** 2)
        ledger.lock_user(user_id)
        ledger.append_entry(user_id, random.randint(1, 100), "level_completion", now=utcnow())
        db.session.commit()
    elapsed = time.perf_counter() - started
    print(f"appended {writes:,} entries in {elapsed:.1f} s ({elapsed / writes * 1000:.2f} ms each)")


def time_reads(period: str, viewer_id: int) -> list[float]:
    """Milliseconds of each warm read of one board."""
    for _ in range(WARMUP_READS):
        leaderboard(period, LIMIT, viewer_id)
    timings = []
    for _ in range(READS):
        started = time.perf_counter()
        leaderboard(period, LIMIT, viewer_id)
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()  # each read on its own transaction, as each request has
    return timings


def explain(period: str, viewer_id: int) -> None:
    """Print the plan of every statement one read of the board runs."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        leaderboard(period, LIMIT, viewer_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    connection = db.session.connection()
    for statement, parameters in statements:
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
        ).scalars()
        print("\n".join(plan), end="\n\n")
    db.session.rollback()


def measure(title: str) -> None:
    """Print the plans of one read of each board, then the figures of warm reads."""
    readers = viewers()
    figures = {period: time_reads(period, readers[period]) for period in PERIODS}
    for period in PERIODS:
        print(f"----- {title}, {period}: plans -----")
        explain(period, readers[period])
    for period, timings in figures.items():
        p99 = statistics.quantiles(timings, n=100)[98]
        print(
            f"{title}: {period:>5}: median {statistics.median(timings):6.2f} ms   "
            f"p99 {p99:6.2f} ms   ({READS} warm reads, limit {LIMIT}, with me)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help=f"the PostgreSQL server; its database {DATABASE} is dropped and re-created",
    )
    parser.add_argument(
        "--writes", type=int, default=CHURN_WRITES, help="entries appended before the second read"
    )
    arguments = parser.parse_args()
    url = recreate_database(arguments.server_url)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    seed(url)
    with app.app_context():
        rebuild_totals()
    vacuum(url)
    with app.app_context():
        measure("vacuumed")
        churn(arguments.writes)
        measure(f"after {arguments.writes:,} writes")
        db.engine.dispose()


if __name__ == "__main__":
    main()
