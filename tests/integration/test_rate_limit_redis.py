"""The per-player completion limit holds across processes: two real gunicorn servers count in
one Redis (COMPLETION_RATE_LIMIT=5/minute there), so switching servers buys a player nothing;
a server whose Redis is down keeps limiting from its own memory."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.integration.conftest import (
    SERVER_START_TIMEOUT,
    Server,
    free_loopback_ports,
    server_environment,
    start_server,
    stop_server,
    wait_until_ready,
)

pytestmark = pytest.mark.postgres_only

COMPLETE = "/api/levels/complete"


def completion_body(n: int) -> dict[str, Any]:
    """The n-th distinct completion: its own event id, level and score."""
    return {
        "level_id": n % 5 + 1,
        "level_type": "simulation",
        "score": (100 + 37 * n) % 1001,
        "time_spent": 120 + n,
        "difficulty": "normal",
        "metadata": {"hints_used": 0},
        "client_event_id": str(uuid.uuid4()),
    }


def post_alternately(servers, player, count: int, *, first: int = 0) -> list:
    """`count` distinct completions, sent in turn to one server and then the other."""
    return [
        servers.servers[n % 2].request("POST", COMPLETE, completion_body(first + n), player.headers)
        for n in range(count)
    ]


def stored_for(app, user_id: int) -> dict[str, int]:
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT u.total_xp,"
                " (SELECT COUNT(*) FROM level_completions c WHERE c.user_id = u.id) AS completions,"
                " (SELECT COALESCE(SUM(h.delta), 0) FROM xp_history h WHERE h.user_id = u.id)"
                " AS history_sum FROM users u WHERE u.id = :u"
            ),
            {"u": user_id},
        ).one()
    return dict(row._mapping)


def assert_rate_limited(answer) -> None:
    assert answer.status == 429, answer
    assert 0 < int(answer.headers["retry-after"]) <= 60
    assert answer.json["success"] is False
    assert answer.json["error"]["code"] == "rate_limited"
    assert shown_limit(answer) == ("5", "0")


def shown_limit(answer) -> tuple[str, str]:
    return answer.headers["x-ratelimit-limit"], answer.headers["x-ratelimit-remaining"]


def assert_counts_down_the_player_limit(accepted) -> None:
    """Five accepted answers, each showing the player's 5/minute and what is left of it."""
    assert [shown_limit(answer) for answer in accepted] == [("5", str(n)) for n in range(4, -1, -1)]
    assert not any("retry-after" in answer.headers for answer in accepted)


def test_the_completion_limit_is_shared_by_both_servers(app, levels, make_api_player, servers):
    player = make_api_player("switcher")

    answers = post_alternately(servers, player, 20)

    assert [answer.status for answer in answers] == [200] * 5 + [429] * 15, answers
    accepted = answers[:5]
    assert all(answer.json["is_new_completion"] for answer in accepted)
    # Each server reads the remaining count from the shared store, not from its own requests.
    assert_counts_down_the_player_limit(accepted)
    for answer in answers[5:]:
        assert_rate_limited(answer)
    stored = stored_for(app, player.id)
    assert stored["completions"] == 5
    assert stored["total_xp"] == stored["history_sum"] == accepted[-1].json["new_total_xp"]


def test_one_players_usage_leaves_another_players_limit_untouched(
    app, levels, make_api_player, servers
):
    busy, fresh = make_api_player("busy"), make_api_player("fresh")
    busy_answers = post_alternately(servers, busy, 6)
    assert [answer.status for answer in busy_answers] == [200] * 5 + [429]

    fresh_answers = post_alternately(servers, fresh, 6, first=100)

    assert [answer.status for answer in fresh_answers] == [200] * 5 + [429], fresh_answers
    assert_rate_limited(fresh_answers[-1])
    assert stored_for(app, busy.id)["completions"] == 5
    assert stored_for(app, fresh.id)["completions"] == 5


@pytest.fixture(scope="module")
def server_without_redis(app) -> Iterator[Server]:
    """One gunicorn server whose rate-limit store is a Redis address where nothing listens."""
    port, dead_port = free_loopback_ports(2)
    env = server_environment() | {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{dead_port}/13"}
    log_dir = Path(tempfile.mkdtemp(prefix="cyberquest-gunicorn-"))
    server = start_server(port, log_dir, env)
    try:
        wait_until_ready(server, time.monotonic() + SERVER_START_TIMEOUT)
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(log_dir, ignore_errors=True)


def test_with_redis_down_limits_fall_back_to_the_servers_memory(
    app, levels, make_api_player, server_without_redis
):
    player = make_api_player("offline")

    answers = [
        server_without_redis.request("POST", COMPLETE, completion_body(n), player.headers)
        for n in range(7)
    ]

    assert [answer.status for answer in answers] == [200] * 5 + [429] * 2, (
        answers,
        server_without_redis.log(),
    )
    assert_counts_down_the_player_limit(answers[:5])
    for answer in answers[5:]:
        assert_rate_limited(answer)
    assert stored_for(app, player.id)["completions"] == 5
