"""The jobs the worker runs (`flask worker`), one per outbox event (app/services/outbox.py).

A job may run more than once for one event (delivery is at least once) and jobs of one player
may run in any order: each recomputes what follows from the database as it stands, so running it
again, or fifty times at once, changes nothing more.
"""

from __future__ import annotations

import structlog

from app.extensions import db
from app.metrics import OUTBOX_JOBS
from app.models import OutboxEvent

log = structlog.stdlib.get_logger("app.jobs")


def process_event(event_id: int) -> dict[str, list[str]] | None:
    """Bring the event's player's achievements up to date; None when the event is gone (its
    player was deleted)."""
    from app.services import achievements  # the worker imports jobs before the app is built

    try:
        event = db.session.get(OutboxEvent, event_id)
        if event is None:
            OUTBOX_JOBS.labels("done").inc()
            return None
        user_id, kind = event.user_id, event.kind
        db.session.rollback()
        result = achievements.evaluate(user_id)
    except BaseException:
        OUTBOX_JOBS.labels("failed").inc()
        raise
    finally:
        db.session.remove()
    OUTBOX_JOBS.labels("done").inc()
    log.info(
        "outbox event processed",
        event_id=event_id,
        kind=kind,
        user_id=user_id,
        earned=result.earned,
        revoked=result.revoked,
    )
    return {"earned": result.earned, "revoked": result.revoked}
