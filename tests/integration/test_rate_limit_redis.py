"""The per-player completion limit holds across processes: two real gunicorn servers count in
one Redis (COMPLETION_RATE_LIMIT=5/minute there), so switching servers buys a player nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db

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


def test_the_completion_limit_is_shared_by_both_servers(app, levels, make_api_player, servers):
    player = make_api_player("switcher")

    answers = post_alternately(servers, player, 20)

    assert [answer.status for answer in answers] == [200] * 5 + [429] * 15, answers
    accepted = answers[:5]
    assert all(answer.json["is_new_completion"] for answer in accepted)
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
