"""The outbox the way production runs it: real `flask outbox relay` and `flask worker` processes
(production config, PostgreSQL, Redis), killed, doubled and started late."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from redis import Redis
from sqlalchemy import func, select

from app.extensions import db
from app.models import AchievementEvent, OutboxEvent
from app.services import admin, outbox
from tests.integration.conftest import REPO_ROOT, running_server, server_environment

pytestmark = pytest.mark.postgres_only

QUEUE_REDIS = "redis://127.0.0.1:6379/9"  # this module's own logical database
TIMEOUT = 120


@pytest.fixture()
def queue_redis():
    connection = Redis.from_url(QUEUE_REDIS)
    connection.flushdb()
    yield connection
    connection.flushdb()


def flask_env() -> dict[str, str]:
    return server_environment() | {"REDIS_URL": QUEUE_REDIS, "FLASK_APP": "wsgi:app"}


def flask(*args: str) -> subprocess.CompletedProcess:
    """A `flask` command run to its end, as an operator's shell or a cron job runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=flask_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def start_flask(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=flask_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def event_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)))


def pending(app) -> int:
    with app.app_context():
        return outbox.pending_count()


def queued_event_ids(connection: Redis) -> list[int]:
    return [int(job_id.removeprefix("outbox-")) for job_id in outbox.queue(connection).job_ids]


def earned_events(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            select(AchievementEvent.user_id, AchievementEvent.key).where(
                AchievementEvent.kind == "earned"
            )
        )
        return Counter(rows.tuples())


def adjustments(app, players, count):
    with app.app_context():
        for number in range(count):
            admin.adjust_xp(players[number % len(players)].id, 60, note=f"prize {number}")


def test_a_relay_killed_half_way_and_restarted_delivers_every_event_once_in_effect(
    app, make_api_player, queue_redis
):
    players = [make_api_player(f"relay{n}") for n in range(4)]
    adjustments(app, players, 40)
    relay = start_flask("outbox", "relay", "--batch-size", "1", "--interval", "0.05")
    try:
        lines = [relay.stdout.readline() for _ in range(5)]
        assert lines[-1].startswith("relayed 1 events"), (lines, relay.stderr.read())
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=30)
    finally:
        if relay.poll() is None:
            relay.kill()
    assert 0 < pending(app) < 40
    done = flask("outbox", "relay", "--once")
    assert done.stdout.strip().splitlines()[-1].endswith("; 0 pending")
    assert set(queued_event_ids(queue_redis)) == set(event_ids(app))

    flask("worker", "--burst")
    assert outbox.queue(queue_redis).count == 0
    earned = earned_events(app)
    # 40 x 60 XP over 4 players: 600 each, past the 100 and 500 milestones, each earned once.
    assert earned == Counter({(p.id, key): 1 for p in players for key in ("xp-100", "xp-500")}), (
        earned
    )


def test_two_relays_at_once_queue_each_event_once(app, make_api_player, queue_redis):
    """Two relays poll while events keep arriving; between them every event is queued exactly
    once (each locks rows the other skips)."""
    players = [make_api_player(f"twin{n}") for n in range(3)]
    relays = [
        start_flask("outbox", "relay", "--batch-size", "5", "--interval", "0.05") for _ in range(2)
    ]
    try:
        adjustments(app, players, 60)
        deadline = time.monotonic() + TIMEOUT
        while pending(app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [relay.poll() for relay in relays] == [None, None]  # both ran the whole time
    finally:
        for relay in relays:
            relay.terminate()
        outputs = [relay.communicate(timeout=30) for relay in relays]
    assert pending(app) == 0, outputs
    queued = queued_event_ids(queue_redis)
    assert sorted(queued) == event_ids(app), outputs
    relayed = [int(line.split()[1]) for out, _ in outputs for line in out.splitlines() if line]
    assert sum(relayed) == 60, outputs


def test_a_worker_started_after_fifty_completions_catches_up_and_awards_each_once(
    app, levels, make_api_player, queue_redis
):
    players = [make_api_player(f"late{n}") for n in range(10)]
    body = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}
    with running_server(
        env={"REDIS_URL": QUEUE_REDIS, "COMPLETION_RATE_LIMIT": "1000/minute"}, workers=3
    ) as server:
        for round_ in range(5):
            for player in players:
                answer = server.request(
                    "POST",
                    "/api/levels/complete",
                    body | {"level_id": round_ + 1, "client_event_id": str(uuid.uuid4())},
                    player.headers,
                )
                assert answer.status == 200, answer.json
        # No relay and no worker yet: the completions succeeded and the outbox grew.
        assert pending(app) == 50
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AchievementEvent)) == 0
        flask("outbox", "relay", "--once")
        workers = [start_flask("worker", "--burst") for _ in range(2)]
        outputs = [worker.communicate(timeout=TIMEOUT) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs
        progress = server.request("GET", "/api/achievements", None, players[0].headers)
    assert outbox.queue(queue_redis).count == 0
    expected = {
        (p.id, key): 1
        for p in players
        for key in (
            "first-completion",
            "level-1",
            "level-2",
            "level-3",
            "level-4",
            "level-5",
            "all-levels",
            "hint-free",
        )
    }
    earned = earned_events(app)
    assert {k: v for k, v in earned.items() if k in expected} == expected, outputs
    assert max(earned.values()) == 1
    shown = {a["key"] for a in progress.json["achievements"] if a["earned_at"]}
    assert set(key for _, key in expected) <= shown
