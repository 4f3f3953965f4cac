"""Post-processing through a transactional outbox (docs/architecture.md, "Post-processing").

A change that matters afterwards (a completion, a revocation, an adjustment, a reset) writes an
`outbox_events` row in its own transaction: the event exists exactly when the change does, and
nothing is sent to the queue while a transaction is open. `relay` moves pending rows to the RQ
queue on REDIS_URL and marks them sent; several relays can run at once, each taking rows the
others have not locked (FOR UPDATE SKIP LOCKED). Delivery is at least once (a relay that dies
between enqueueing and committing enqueues again), so every job is idempotent.

We use RQ rather than Celery: the queue lives on the Redis the app already runs for its limits,
the worker is one `flask worker` process that runs plain functions inside the app, and there is
no broker, result backend or beat scheduler to operate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import OutboxEvent
from app.models.types import utcnow

QUEUE_NAME = "cyberquest"
DEFAULT_BATCH_SIZE = 100
JOB = "app.jobs.process_event"

events = OutboxEvent.__table__
ADD = events.insert()
PENDING = (
    select(events.c.id, events.c.kind, events.c.user_id)
    .where(events.c.sent_at.is_(None))
    .order_by(events.c.id)
    .limit(bindparam("batch_size"))
    .with_for_update(skip_locked=True)
)
MARK_SENT = (
    update(events)
    .where(events.c.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("sent_at"))
)


def add(kind: str, user_id: int, payload: dict[str, Any], now: datetime) -> None:
    """Write an event in the caller's transaction (the caller commits or rolls back)."""
    db.session.connection().execute(
        ADD, {"kind": kind, "user_id": user_id, "payload": payload, "created_at": now}
    )


def redis_connection() -> Redis:
    return Redis.from_url(
        current_app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2
    )


def queue(connection: Redis | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=connection or redis_connection())


@dataclass(frozen=True)
class RelayBatch:
    relayed: int
    ids: list[int]


def relay_batch(target: Queue, batch_size: int = DEFAULT_BATCH_SIZE) -> RelayBatch:
    """One transaction: lock up to `batch_size` of the oldest pending events no other relay holds,
    put a job for each on the queue, in id order, and mark them sent."""
    try:
        connection = db.session.connection()
        rows = connection.execute(PENDING, {"batch_size": batch_size}).all()
        for row in rows:
            # The job id names the event: a job enqueued again after a relay died replaces its
            # twin while both are queued, and the job itself is idempotent for the rest.
            target.enqueue(
                JOB, row.id, job_id=f"outbox-{row.id}", description=f"{row.kind} {row.user_id}"
            )
        ids = [row.id for row in rows]
        if ids:
            connection.execute(MARK_SENT, {"ids": ids, "sent_at": utcnow()})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return RelayBatch(relayed=len(ids), ids=ids)


def pending_count() -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(events).where(events.c.sent_at.is_(None))
    )
