"""The transactional outbox: every completion, revocation, adjustment and reset writes its event
in its own transaction (and only then); `flask outbox relay --once` puts pending events on the
real Redis queue, and `flask worker --burst` runs them into achievements."""

from __future__ import annotations

import pytest
from redis import Redis
from sqlalchemy import func, select

from app.extensions import db
from app.models import LevelCompletion, OutboxEvent
from app.services import outbox

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}
REDIS_DB = 15  # a logical database of the outbox tests' own


@pytest.fixture()
def queue_redis(config_override):
    """REDIS_URL on an empty database of its own, emptied again afterwards."""
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    config_override(REDIS_URL=url)
    connection = Redis.from_url(url)
    connection.flushdb()
    yield connection
    connection.flushdb()


def complete(client, **changes):
    response = client.post("/api/levels/complete", json=BODY | changes)
    assert response.status_code == 200, response.json
    return response.json


def events(app):
    with app.app_context():
        rows = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        return [(e.kind, e.user_id, e.payload, e.sent_at is not None) for e in rows]


def test_a_completion_writes_one_event_and_its_replay_none(app, levels, player, player_client):
    body = BODY | {"client_event_id": "0b6f7a04-4c52-4a53-9a8b-8f1d2d7b9a11"}
    first = player_client.post("/api/levels/complete", json=body).json
    again = player_client.post("/api/levels/complete", json=body)
    assert again.status_code == 200 and again.json["is_new_completion"] is False
    assert events(app) == [
        ("completion_recorded", player.id, {"completion_id": first["completion_id"]}, False)
    ]


def test_a_refused_completion_writes_no_event(app, levels, player_client):
    response = player_client.post("/api/levels/complete", json=BODY | {"score": -1})
    assert response.status_code == 400
    assert events(app) == []


def test_a_completion_whose_transaction_rolls_back_leaves_no_event(
    app, levels, player_client, monkeypatch
):
    written = outbox.add

    def add_then_fail(*args, **kwargs):
        written(*args, **kwargs)
        raise RuntimeError("the transaction fails after its event was written")

    monkeypatch.setattr(outbox, "add", add_then_fail)
    response = player_client.post("/api/levels/complete", json=BODY)
    assert response.status_code == 500
    assert events(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LevelCompletion)) == 0


def test_corrections_write_their_events(app, admin_client, levels, player, player_client):
    first = complete(player_client)
    second = complete(player_client, level_id=2)
    adjusted = admin_client.post(
        f"/api/admin/users/{player.id}/xp-adjustments", json={"delta": 5, "note": "prize"}
    ).json
    admin_client.post(
        f"/api/admin/completions/{first['completion_id']}/revoke", json={"note": "cheated"}
    )
    admin_client.post(f"/api/admin/users/{player.id}/reset", json={"note": "restart"})
    assert events(app) == [
        ("completion_recorded", player.id, {"completion_id": first["completion_id"]}, False),
        ("completion_recorded", player.id, {"completion_id": second["completion_id"]}, False),
        ("xp_adjusted", player.id, {"entry_id": adjusted["entry"]["id"], "delta": 5}, False),
        ("completion_revoked", player.id, {"completion_id": first["completion_id"]}, False),
        ("player_reset", player.id, {"revoked_completions": 1}, False),
    ]


def test_relay_once_queues_every_pending_event_in_order_and_marks_it_sent(
    app, cli, levels, player_client, queue_redis
):
    for level_id in (1, 2, 3):
        complete(player_client, level_id=level_id)
    result = cli("outbox", "relay", "--once", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "relayed 3 events in all; 0 pending"
    assert all(sent for *_, sent in events(app))
    with app.app_context():
        ids = db.session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)).all()
        assert outbox.queue(queue_redis).job_ids == [f"outbox-{i}" for i in ids]
    again = cli("outbox", "relay", "--once")
    assert again.output.strip() == "relayed 0 events in all; 0 pending"
    assert outbox.queue(queue_redis).count == 3


def test_the_worker_turns_queued_events_into_achievements_once(
    app, cli, levels, player_client, queue_redis
):
    complete(player_client)
    cli("outbox", "relay", "--once")
    result = cli("worker", "--burst")
    assert result.exit_code == 0, result.output
    assert outbox.queue(queue_redis).count == 0
    earned = player_client.get("/api/achievements").json["achievements"]
    first = {a["key"]: a["earned_at"] for a in earned}
    assert first["first-completion"] is not None and first["level-1"] is not None
    # The same events again (a relay that died before committing): nothing changes.
    with app.app_context():
        for event_id in db.session.scalars(select(OutboxEvent.id)):
            outbox.queue(queue_redis).enqueue(outbox.JOB, event_id)
    assert cli("worker", "--burst").exit_code == 0
    again = player_client.get("/api/achievements").json["achievements"]
    assert {a["key"]: a["earned_at"] for a in again} == first


def test_metrics_show_the_outbox_backlog(
    app, cli, client, levels, player_client, queue_redis, config_override
):
    config_override(METRICS_TOKEN="scrape-token")
    for level_id in (1, 2):
        complete(player_client, level_id=level_id)

    def gauges():
        text = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).text
        return {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("cyberquest_outbox_")
            and not line.startswith("cyberquest_outbox_jobs")
        }

    assert gauges() == {
        "cyberquest_outbox_pending": 2,
        "cyberquest_outbox_queued": 0,
        "cyberquest_outbox_failed": 0,
    }
    cli("outbox", "relay", "--once")
    assert gauges() == {
        "cyberquest_outbox_pending": 0,
        "cyberquest_outbox_queued": 2,
        "cyberquest_outbox_failed": 0,
    }
