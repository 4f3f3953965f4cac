#!/usr/bin/env python3
"""Time `flask xp verify` (the whole ledger, and one player) on 100,000 players and 2,000,000
ledger rows on PostgreSQL, with a quarter of the rows archived. Prints figures; it is not a test.

    .venv/bin/python bench/verify_bench.py [--server-url postgresql://postgres@127.0.0.1:5432]
                                           [--runs 3]

It drops and re-creates the PostgreSQL database cq_bench_verify on that server (and never
touches another one), migrates it and fills it in SQL with a ledger that verifies clean: a
million completions, each with its award entry, and a million adjustments, with balances, totals
and per-level progress that agree, and the leaderboards' totals rebuilt from it. Then it archives
the oldest quarter through the product's own `flask xp archive` code, and runs the audit
in-process as the command does, printing each run's seconds and the median.
"""

from __future__ import annotations

import argparse
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
from app.services import archive, audit, leaderboard, levels  # noqa: E402
from bench.leaderboard_bench import recreate_database  # noqa: E402

DATABASE = "cq_bench_verify"
USERS = 100_000
COMPLETIONS = 1_000_000
ADJUSTMENTS = 1_000_000
ARCHIVED_SHARE = 0.25

SEED = [
    """
    INSERT INTO users (id, username, email, password_hash)
    SELECT g, 'player' || g, 'player' || g || '@bench.test', 'not-a-hash'
    FROM generate_series(1, :users) AS g
    """,
    "SELECT setval('users_id_seq', :users)",
    # Every player completes each level twice (1,000,000 = 100,000 x 5 x 2), for 1-40 XP a run:
    # at most 80 per level, under every level's reward.
    """
    INSERT INTO level_completions (id, user_id, level_id, score, time_spent, difficulty,
        metadata, source, awarded_xp, xp_breakdown, payload_hash, created_at)
    SELECT g, 1 + (g - 1) % :users, (1 + ((g - 1) / :users) % 5)::text,
        (g::bigint * 7919) % 1000, 600, 'normal', '{}'::jsonb, 'web', 1 + (g * 31) % 40,
        '{}'::jsonb, md5(g::text),
        now() - interval '400 days 1 minute' + (g::float8 / :completions) * interval '400 days'
    FROM generate_series(1, :completions) AS g
    """,
    "SELECT setval('level_completions_id_seq', :completions)",
    # Award entries take ids 1..1,000,000 in completion order; adjustments follow, interleaved in
    # time. Balances are the running sums, computed as the rows are written.
    """
    INSERT INTO xp_history (id, user_id, delta, reason, reference_id, balance_after, metadata,
        created_at)
    SELECT id, user_id, delta, reason, reference_id,
        sum(delta) OVER (PARTITION BY user_id ORDER BY id), '{}'::jsonb, created_at
    FROM (
        SELECT id, user_id, awarded_xp AS delta, 'level_completion' AS reason, id AS reference_id,
            created_at
        FROM level_completions
        UNION ALL
        SELECT :completions + g, 1 + (g * 13) % :users, 1 + g % 25, 'manual_adjustment', NULL,
            now() - interval '400 days 1 minute' + (g::float8 / :adjustments) * interval '400 days'
        FROM generate_series(1, :adjustments) AS g
    ) AS entries
    """,
    "SELECT setval('xp_history_id_seq', :completions + :adjustments)",
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


def seed() -> None:
    started = time.perf_counter()
    params = {"users": USERS, "completions": COMPLETIONS, "adjustments": ADJUSTMENTS}
    with db.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        for statement in SEED:
            connection.execute(sa.text(statement), params)
    print(
        f"seeded {USERS:,} players, {COMPLETIONS:,} completions and "
        f"{COMPLETIONS + ADJUSTMENTS:,} ledger rows in {time.perf_counter() - started:.1f} s"
    )


def archive_oldest_quarter() -> None:
    """Move the oldest quarter of the ledger with the product's own archival."""
    oldest, newest = db.session.execute(
        sa.text("SELECT min(created_at), max(created_at) FROM xp_history")
    ).one()
    db.session.rollback()
    cutoff = oldest + (newest - oldest) * ARCHIVED_SHARE
    started = time.perf_counter()
    run = archive.archive_older_than(cutoff, archive.MAX_BATCH_SIZE)
    print(
        f"archived {run.moved:,} entries in {run.batches} batches in "
        f"{time.perf_counter() - started:.1f} s ({utcnow() - cutoff} ago and older)"
    )


def vacuum() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))


def time_verify(runs: int, user_id: int | None) -> tuple[list[float], audit.LedgerReport]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        report = audit.verify_ledger(user_id)
        timings.append(time.perf_counter() - started)
        if not report.is_clean:
            raise SystemExit(f"the seeded ledger did not verify: {report.problems[:5]}")
    return timings, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    url = recreate_database(args.server_url, DATABASE)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        levels.sync_catalog()
        seed()
        written = leaderboard.rebuild_leaderboard_totals()  # the seed wrote the ledger in SQL
        print(f"rebuilt the leaderboard totals: {written}")
        archive_oldest_quarter()
        vacuum()
        for label, user_id in (("whole ledger", None), ("one player (--user)", USERS // 2)):
            timings, report = time_verify(args.runs, user_id)
            print(
                f"verify {label}: {report.users_checked:,} users, {report.entries_checked:,} "
                f"entries, clean; seconds per run {[round(t, 2) for t in timings]}, "
                f"median {statistics.median(timings):.2f} s"
            )
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
