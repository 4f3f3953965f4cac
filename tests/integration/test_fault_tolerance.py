"""Faults under load: while players keep posting completions, and retrying each with its event id
until it is answered, gunicorn workers are killed with SIGKILL and PostgreSQL is restarted.
Afterwards every event is recorded exactly once and the ledger verifies clean."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.integration.conftest import REPO_ROOT, running_server

pytestmark = pytest.mark.postgres_only

PLAYERS = 12
EVENTS_PER_PLAYER = 15
WORKERS = 3
WORKER_KILLS = 4
RUN_DEADLINE = 150  # seconds for every event to be answered
REDIS_DB = 8  # a logical database of this test's own
ARTIFACT = REPO_ROOT / "test-artifacts" / "fault-tolerance.json"


@dataclass
class Tally:
    """What the clients and the chaos saw; shared by the threads, guarded by a lock."""

    answers: Counter = field(default_factory=Counter)
    answered_events: int = 0
    retries: int = 0
    worker_kills: int = 0
    database_restarts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, answer: str, *, retry: bool) -> None:
        with self.lock:
            self.answers[answer] += 1
            self.retries += retry
            self.answered_events += answer == "200"


def events_for(player_index: int) -> list[dict]:
    rng = random.Random(player_index)
    return [
        {
            "level_id": rng.randint(1, 5),
            "score": rng.randint(0, 1000),
            "time_spent": rng.randint(60, 3000),
            "difficulty": rng.choice(["easy", "normal", "hard"]),
            "metadata": {"hints_used": rng.randint(0, 3)},
            "client_event_id": str(uuid.uuid4()),
        }
        for _ in range(EVENTS_PER_PLAYER)
    ]


def send_until_answered(server, player, body, tally: Tally, deadline: float) -> None:
    """What the completion client does: the same event id again until a 200 answers it."""
    delay = 0.05
    retry = False
    while time.monotonic() < deadline:
        try:
            answer = server.request("POST", "/api/levels/complete", body, player.headers)
            outcome = str(answer.status)
        # Refused, reset, or cut off by a killed worker, possibly half-way through the body.
        except (OSError, http.client.HTTPException) as error:
            answer, outcome = None, type(error).__name__
        tally.note(outcome, retry=retry)
        if answer is not None and answer.status == 200:
            return
        retry = True
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 1.0)
    raise AssertionError(f"event {body['client_event_id']} unanswered by the deadline")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's children, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
            children.append(int(entry.name))
    return children


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for _ in range(60):
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"])
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back within 30 s")


def cause_trouble(server, tally: Tally, done: threading.Event) -> None:
    """Kill a worker each time another share of the events has been answered, and restart
    PostgreSQL half-way, so that every fault lands while the players are busy."""
    total = PLAYERS * EVENTS_PER_PLAYER
    for kill in range(WORKER_KILLS):
        mark = total * (kill + 1) // (WORKER_KILLS + 2)
        while tally.answered_events < mark:
            if done.wait(0.02):
                return
        workers = worker_pids(server.process.pid)
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)
            tally.worker_kills += 1
        if kill == WORKER_KILLS // 2 - 1:
            restart_postgresql()
            tally.database_restarts += 1


@pytest.fixture()
def chaos_server(app):
    limits = {
        "COMPLETION_RATE_LIMIT": "100000/minute",
        "COMPLETION_ADDRESS_RATE_LIMIT": "100000/minute",
    }
    with running_server(env=limits, workers=WORKERS, redis_db=REDIS_DB) as server:
        yield server


def stored_completions(app, user_ids: list[int]) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT client_event_id FROM level_completions WHERE user_id = ANY(:ids)"),
            {"ids": user_ids},
        )
        return Counter(str(row.client_event_id) for row in rows)


def test_killed_workers_and_a_database_restart_count_every_event_once(
    app, levels, make_api_player, chaos_server
):
    players = [make_api_player(f"chaos{n}") for n in range(PLAYERS)]
    plans = {player.id: events_for(n) for n, player in enumerate(players)}
    tally = Tally()
    deadline = time.monotonic() + RUN_DEADLINE
    failures: list[BaseException] = []

    def play(player) -> None:
        try:
            for body in plans[player.id]:
                send_until_answered(chaos_server, player, body, tally, deadline)
        except BaseException as error:  # reported after the run
            failures.append(error)

    done = threading.Event()
    chaos = threading.Thread(target=cause_trouble, args=(chaos_server, tally, done))
    clients = [threading.Thread(target=play, args=(player,)) for player in players]
    started = time.monotonic()
    chaos.start()
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=RUN_DEADLINE + 30)
    done.set()
    chaos.join(timeout=90)
    elapsed = time.monotonic() - started

    sent = Counter(body["client_event_id"] for events in plans.values() for body in events)
    stored = stored_completions(app, [player.id for player in players])
    figures = {
        "events": sum(sent.values()),
        "stored": sum(stored.values()),
        "double_counted": sum(1 for count in stored.values() if count > 1),
        "missing": len(set(sent) - set(stored)),
        "requests": sum(tally.answers.values()),
        "retries": tally.retries,
        "answers": dict(tally.answers),
        "worker_kills": tally.worker_kills,
        "database_restarts": tally.database_restarts,
        "seconds": round(elapsed, 1),
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2))
    print("fault tolerance:", json.dumps(figures))

    assert failures == []
    assert tally.worker_kills == WORKER_KILLS and tally.database_restarts == 1
    assert figures["missing"] == 0 and figures["double_counted"] == 0
    assert stored == sent
    verify = app.test_cli_runner().invoke(args=["xp", "verify"])
    assert verify.exit_code == 0, verify.output
