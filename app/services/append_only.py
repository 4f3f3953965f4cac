"""The one way past the ledger's append-only triggers (migration 0005, docs/architecture.md).

The triggers refuse UPDATE and DELETE on xp_history and xp_history_archive, DELETE on
level_completions and any change there but setting revoked_at once, unless the transaction
holds a row in ledger_unlocks. `unlocked` inserts that row and deletes it again before the block
ends, so the row is never committed and no other transaction ever sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, insert

from app.models import LedgerUnlock

ARCHIVAL = "archival"
unlocks = LedgerUnlock.__table__


@contextmanager
def unlocked(connection: Connection, purpose: str) -> Iterator[None]:
    """Let the statements run on `connection` inside this block move or delete ledger rows.

    Run it inside a transaction that the caller commits after the block: if the block raises,
    the caller rolls back, and the unlock row goes with it.
    """
    connection.execute(insert(unlocks).values(purpose=purpose))
    yield
    connection.execute(delete(unlocks).where(unlocks.c.purpose == purpose))
