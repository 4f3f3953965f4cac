"""Metrics add up across gunicorn workers: a server started with gunicorn.conf.py and two workers
serves one completion of each outcome and a 429, and every scrape, whichever worker answers it,
shows each count moved by exactly what was sent. A killed worker's counts stay counted."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import (
    HTTP_TIMEOUT,
    SERVER_START_TIMEOUT,
    Answer,
    Server,
    running_server,
)
from tests.metric_samples import moved, scraped_counters

pytestmark = pytest.mark.postgres_only

REDIS_DB = 11  # this module's own logical database, for the servers' rate limits
TOKEN = "metrics-token-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COMPLETE = "/api/levels/complete"
# Six completions a minute for a player: the seventh of the test is the 429.
COMPLETION_LIMIT = "6/minute"
PRODUCTION_CONFIG = ["-c", "gunicorn.conf.py"]
# Long enough for the second worker, woken with the first, to accept its connection.
ACCEPT_GRACE = 0.5
SEED_RUN = {
    "level_id": "level-1",
    "level_type": "simulation",
    "score": 850,
    "time_spent": 120,
    "difficulty": "normal",
    "metadata": {"hints_used": 0, "mistakes": 1},
}


@pytest.fixture(scope="module")
def metrics_server(app) -> Iterator[Server]:
    """Production settings (gunicorn.conf.py, no metrics directory given), two sync workers."""
    env = {"METRICS_TOKEN": TOKEN, "COMPLETION_RATE_LIMIT": COMPLETION_LIMIT}
    with running_server(
        env=env, extra_args=PRODUCTION_CONFIG, workers=2, redis_db=REDIS_DB
    ) as server:
        wait_for_both_workers(server)
        yield server


@pytest.fixture()
def server(metrics_server) -> Iterator[Server]:
    """The server, with empty rate-limit counters for this test."""
    limits = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}", socket_timeout=5)
    limits.flushdb()
    yield metrics_server
    limits.flushdb()
    limits.close()


@contextlib.contextmanager
def one_connection_per_worker(server: Server) -> Iterator[list[http.client.HTTPConnection]]:
    """Two connections open at once, each held by a worker of its own.

    A sync worker that accepts a connection reads it until its request arrives and serves
    nothing else meanwhile, so the second connection can only be accepted by the other worker.
    A request sent on each is therefore answered by each of the two workers.
    """
    connections = [
        http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT) for _ in range(2)
    ]
    try:
        for connection in connections:
            connection.connect()
        time.sleep(ACCEPT_GRACE)
        yield connections
    finally:
        for connection in connections:
            connection.close()


def wait_for_both_workers(server: Server) -> None:
    """With one worker held, a request is answered only once the other has booted."""
    with one_connection_per_worker(server) as (_held, probe):
        answer = server.request("GET", "/api/levels", connection=probe)
    assert answer.status == 200, (answer, server.log())


def scrape_each_worker(server: Server, times: int = 2) -> list[Answer]:
    scrapes = []
    for _ in range(times):
        with one_connection_per_worker(server) as connections:
            scrapes += [
                server.request("GET", "/metrics", headers=AUTH, connection=connection)
                for connection in connections
            ]
    assert [scrape.status for scrape in scrapes] == [200] * len(scrapes), scrapes
    return scrapes


def agreed_counters(scrapes: list[Answer]) -> dict[str, float]:
    """The counters every scrape shows; each worker adds up the files of all of them."""
    readings = [scraped_counters(scrape.json.decode()) for scrape in scrapes]
    assert all(reading == readings[0] for reading in readings), readings
    return readings[0]


def test_every_outcome_moves_by_exactly_one_whichever_worker_counts_it(
    server, levels, make_api_player
):
    player = make_api_player("counted")
    event_id = str(uuid.uuid4())
    better_run = SEED_RUN | {"score": 950}  # no event id: deduplicated by its payload
    baseline = scrape_each_worker(server)
    before = agreed_counters(baseline)

    # Each pair of requests is answered by the two workers, one each.
    pairs = [
        # new (83 XP: 100 x 31.6 / 38 = 83.2), then its replay, on the other worker
        (SEED_RUN | {"client_event_id": event_id}, SEED_RUN | {"client_event_id": event_id}),
        # new (100 x 32.8 / 38 = 86.3 -> 86 XP for 950, less the 83 already credited: 3), then
        # its duplicate
        (better_run, better_run),
        # the event id reused for another payload; a level that does not exist
        (SEED_RUN | {"client_event_id": event_id, "score": 100}, SEED_RUN | {"level_id": 999}),
    ]
    statuses = []
    for first, second in pairs:
        with one_connection_per_worker(server) as connections:
            for body, connection in zip((first, second), connections, strict=True):
                answer = server.request(
                    "POST", COMPLETE, body, player.headers, connection=connection
                )
                statuses.append(answer.status)
    statuses.append(server.request("POST", COMPLETE, SEED_RUN, player.headers).status)

    assert statuses == [200, 200, 200, 200, 409, 400, 429], server.log()
    scrapes = scrape_each_worker(server, times=3)
    assert moved(before, agreed_counters(scrapes)) == {
        'cyberquest_completions_total{outcome="new"}': 2,
        'cyberquest_completions_total{outcome="replay"}': 1,
        'cyberquest_completions_total{outcome="duplicate"}': 1,
        'cyberquest_completions_total{outcome="conflict"}': 1,
        'cyberquest_completions_total{outcome="refused"}': 2,
        'cyberquest_completions_refused_total{code="unknown_level"}': 1,
        'cyberquest_completions_refused_total{code="rate_limited"}': 1,
        "cyberquest_xp_awarded_total": 83 + 3,
        'cyberquest_rate_limited_total{limit="levels_api.complete_level: 6 per 1 minute"}': 1,
    }
    assert moved(completion_timings(baseline[0]), completion_timings(scrapes[-1])) == {
        "200": 4,
        "409": 1,
        "400": 1,
        "429": 1,
    }
    assert rollout_percent(scrapes[-1]) == 100


def test_a_killed_workers_counts_stay_counted(server, levels, make_api_player):
    player = make_api_player("survivor")
    with one_connection_per_worker(server) as connections:
        for connection in connections:
            body = SEED_RUN | {"client_event_id": str(uuid.uuid4())}
            assert (
                server.request("POST", COMPLETE, body, player.headers, connection=connection).status
                == 200
            )
    before = agreed_counters(scrape_each_worker(server))
    victim = worker_pids(server)[0]

    os.kill(victim, signal.SIGKILL)
    wait_for_replacement(server, victim)
    wait_for_both_workers(server)

    scrapes = scrape_each_worker(server)
    assert agreed_counters(scrapes) == before
    assert rollout_percent(scrapes[-1]) == 100


def test_metrics_need_the_token(server):
    assert server.request("GET", "/metrics").status == 401
    assert server.request("GET", "/metrics", headers={"Authorization": "Bearer nope"}).status == 401
    assert server.request("GET", "/metrics", headers=AUTH).status == 200


def test_metrics_do_not_exist_without_a_token(app):
    env = {"METRICS_TOKEN": ""}
    with running_server(env=env, extra_args=PRODUCTION_CONFIG, redis_db=REDIS_DB) as server:
        assert server.request("GET", "/metrics").status == 404
        assert server.request("GET", "/metrics", headers=AUTH).status == 404


def completion_timings(scrape: Answer) -> dict[str, float]:
    """How many complete_level requests the histogram timed, by status."""
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(scrape.json.decode())
        if family.name == "cyberquest_http_request_duration_seconds"
        for sample in family.samples
        if sample.name.endswith("_count")
        and sample.labels["endpoint"] == "levels_api.complete_level"
        and sample.labels["method"] == "POST"
    }


def rollout_percent(scrape: Answer) -> float:
    [value] = [
        sample.value
        for family in text_string_to_metric_families(scrape.json.decode())
        if family.name == "cyberquest_tracking_rollout_percent"
        for sample in family.samples
    ]
    return value


def worker_pids(server: Server) -> list[int]:
    """The gunicorn master's children, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):  # the process may have gone meanwhile
            # pid (comm) state ppid ...: comm may hold spaces, so split after its last paren.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.process.pid:
                children.append(int(stat.parent.name))
    return sorted(children)


def wait_for_replacement(server: Server, dead: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        workers = worker_pids(server)
        if len(workers) == 2 and dead not in workers:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker {dead} not replaced: {worker_pids(server)}\n{server.log()}")
