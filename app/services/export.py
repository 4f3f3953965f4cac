"""Exporting a user's XP ledger: every entry, oldest first, with its note and its admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import User
from app.services import archive


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    created_at: datetime
    delta: int
    balance_after: int
    reason: str
    reference_id: int | None
    note: str | None
    admin: str | None
    archived: bool


def ledger_entries(user_id: int) -> list[LedgerEntry]:
    """Every ledger entry of the user, archived ones included, in ledger order (by id, so
    oldest first).

    `note` and `admin` come from the entry's metadata, where operator changes record them
    (`admin` is None when no admin was recorded, as for a change made from the command line).
    """
    e = archive.whole_ledger(user_id).c
    actor = aliased(User)
    rows = db.session.execute(
        select(
            e.id,
            e.created_at,
            e.delta,
            e.balance_after,
            e.reason,
            e.reference_id,
            e.metadata["note"].as_string().label("note"),
            actor.username.label("admin"),
            e.archived,
        )
        .outerjoin(actor, actor.id == e.metadata["actor_id"].as_integer())
        .order_by(e.id)
    )
    return [LedgerEntry(**row._mapping) for row in rows]
