"""Exporting a user's XP ledger: every entry, oldest first, with its note and its admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, literal, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import User, XPHistory


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
    """Every ledger entry of the user in ledger order (by id, so oldest first).

    `note` and `admin` come from the entry's metadata, where operator changes record them
    (`admin` is None when no admin was recorded, as for a change made from the command line).
    """
    h = XPHistory
    actor = aliased(User)
    actor_id = h.extra["actor_id"].as_integer()
    rows = db.session.execute(
        select(
            h.id,
            h.created_at,
            h.delta,
            h.balance_after,
            h.reason,
            h.reference_id,
            h.extra["note"].as_string().label("note"),
            actor.username.label("admin"),
            # Entries moved to xp_history_archive, once archival exists, are to be read by a
            # UNION ALL of the same columns with this one true; until then every entry is live.
            literal(False, Boolean()).label("archived"),
        )
        .outerjoin(actor, actor.id == actor_id)
        .where(h.user_id == user_id)
        .order_by(h.id)
    )
    return [LedgerEntry(**row._mapping) for row in rows]
