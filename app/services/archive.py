"""Retention: moving old ledger entries from xp_history to xp_history_archive (`flask xp archive`).

Entries move unchanged, ids and balances included, oldest first, a batch per transaction: a run
killed half-way has moved whole batches and nothing else, and running it again carries on where
it stopped. Totals never change; the audit and the export read both tables (docs/operations.md,
"Retention").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Subquery, bindparam, delete, insert, literal, select, union_all

from app.extensions import db
from app.models import XPHistory, XPHistoryArchive
from app.models.types import UTCDateTime, utcnow
from app.services import append_only

DEFAULT_BATCH_SIZE = 1_000
MAX_BATCH_SIZE = 10_000

history = XPHistory.__table__
archive = XPHistoryArchive.__table__
MOVED_COLUMNS = [column.name for column in history.columns]


def whole_ledger(user_id: int | None = None) -> Subquery:
    """Every ledger entry, live and archived (of one user, when given), as one subquery with
    xp_history's columns and `archived`. Ids are unique across the two tables."""
    parts = []
    for table, archived in ((history, False), (archive, True)):
        part = select(
            *(table.c[name] for name in MOVED_COLUMNS),
            literal(archived, Boolean()).label("archived"),
        )
        if user_id is not None:
            part = part.where(table.c.user_id == user_id)
        parts.append(part)
    return union_all(*parts).subquery("ledger")


@dataclass(frozen=True)
class ArchiveRun:
    cutoff: datetime
    batches: int
    moved: int


def archive_older_than(
    cutoff: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int, int], None] | None = None,
) -> ArchiveRun:
    """Move every entry recorded before `cutoff` to the archive, `batch_size` at a time; call
    `on_batch(batch_number, moved_in_it)` after each batch commits."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"The batch size must be from 1 to {MAX_BATCH_SIZE}.")
    batches = moved = 0
    while True:
        count = move_batch(cutoff, batch_size)
        if count == 0:
            break
        batches += 1
        moved += count
        if on_batch is not None:
            on_batch(batches, count)
        if count < batch_size:
            break
    return ArchiveRun(cutoff=cutoff, batches=batches, moved=moved)


def move_batch(cutoff: datetime, batch_size: int) -> int:
    """One transaction: copy the oldest `batch_size` entries before `cutoff` into the archive and
    delete them from xp_history, by the same list of ids; return how many moved."""
    with db.engine.begin() as connection:
        ids = list(
            connection.scalars(
                select(history.c.id)
                .where(history.c.created_at < cutoff)
                .order_by(history.c.id)
                .limit(batch_size)
            )
        )
        if not ids:
            return 0
        chosen = history.c.id.in_(bindparam("ids", expanding=True))
        with append_only.unlocked(connection, append_only.ARCHIVAL):
            connection.execute(
                insert(archive).from_select(
                    [*MOVED_COLUMNS, "archived_at"],
                    select(*history.c, literal(utcnow(), UTCDateTime()).label("archived_at")).where(
                        chosen
                    ),
                ),
                {"ids": ids},
            )
            connection.execute(delete(history).where(chosen), {"ids": ids})
    return len(ids)
