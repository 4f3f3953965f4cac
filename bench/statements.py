"""What PostgreSQL itself spent per statement during a run, from pg_stat_statements, when the
server loads it (shared_preload_libraries; it takes a restart, so the bench never does it).

Reset before a run and read after it, for the run's database only: per request, how often
each statement ran, its mean execution time, the rows it touched and the WAL it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from common import shorten

RESET = sa.text(
    "SELECT pg_stat_statements_reset(0, oid, 0) FROM pg_database WHERE datname = current_database()"
)
READ = sa.text(
    "SELECT query, calls, total_exec_time, rows, wal_bytes FROM pg_stat_statements"
    " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " ORDER BY total_exec_time DESC"
)
# The bench's own statements between runs, and the extension's.
OWN = ("pg_stat_statements", "VACUUM", "TRUNCATE", "ledger_unlocks", "pg_current_xact_id")


@dataclass
class Statement:
    per_request: float  # calls per request
    exec_us: float  # mean execution time per call
    rows: float  # rows per call
    wal_bytes: float  # WAL per call
    query: str


def loaded(conn: sa.Connection) -> bool:
    """Whether the server loads the extension; if so, it is created in the connection's
    database."""
    libraries = conn.execute(sa.text("SHOW shared_preload_libraries")).scalar_one()
    if "pg_stat_statements" not in libraries:
        return False
    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    return True


def available(*dbs: sa.Engine) -> bool:
    """Whether the server loads the extension, created then in each of these databases."""
    for db in dbs:
        with db.connect() as conn:
            if not loaded(conn):
                return False
    return True


def reset(db: sa.Engine) -> None:
    with db.connect() as conn:
        conn.execute(RESET)


def read(db: sa.Engine, requests: float) -> list[Statement]:
    """The statements since the last reset, costliest first, ones a request runs."""
    with db.connect() as conn:
        rows = conn.execute(READ).all()
    found = []
    for query, calls, total_ms, touched, wal in rows:
        if any(own in query for own in OWN) or calls < requests / 2:
            continue
        found.append(
            Statement(
                calls / requests,
                1000 * total_ms / calls,
                touched / calls,
                float(wal) / calls,
                shorten(query, 90),
            )
        )
    return found
