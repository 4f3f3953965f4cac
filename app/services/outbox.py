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

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import String, bindparam, func, literal, select, update

from app.extensions import db
from app.models import OutboxEvent
from app.models.types import JSONType, utcnow
from app.services import write_batch

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


def add(
    kind: str,
    user_id: int,
    payload: dict[str, Any],
    now: datetime,
    batch: write_batch.WriteBatch | None = None,
) -> None:
    """Write an event in the caller's transaction (the caller commits or rolls back).

    With a `batch`, the event is a step of it instead; a payload value may then be
    write_batch.ANCHOR_ID, the id of the batch's anchor row."""
    params = {"kind": kind, "user_id": user_id, "created_at": now}
    if batch is None:
        db.session.connection().execute(ADD, params | {"payload": payload})
        return
    if (user_id, now) != (batch.user_id, batch.now):
        raise ValueError("A batched event is the batch's player's, at the batch's time.")
    keys = tuple(payload)
    anchored = tuple(key for key in keys if payload[key] is write_batch.ANCHOR_ID)
    values = {f"o_{i}": payload[key] for i, key in enumerate(keys) if key not in anchored}
    batch.add(batched_add(keys, anchored), {"o_kind": kind})
    batch.params.update(values)


@functools.cache
def batched_add(keys: tuple[str, ...], anchored: tuple[str, ...]):
    """The batch step writing an event whose payload has `keys`, those in `anchored` holding
    the anchor row's id and the others their own (JSON) parameter."""
    members = []
    for i, key in enumerate(keys):
        value = write_batch.ANCHOR_ID if key in anchored else bindparam(f"o_{i}", type_=JSONType)
        members += [literal(key, String), value]
    row = select(
        bindparam("o_kind", type_=String),
        write_batch.PLAYER,
        func.jsonb_build_object(*members),
        write_batch.NOW,
    ).where(write_batch.GATE)
    return ADD.from_select(["kind", "user_id", "payload", "created_at"], row).cte(
        f"outbox_added_{len(keys)}"
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
