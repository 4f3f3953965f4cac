"""Rate-limit headers describe the limit that binds the caller; only a 429 says when to retry."""

import time
import uuid
from types import SimpleNamespace

import pytest
from flask import Response
from limits import parse
from limits.errors import StorageError

from app.extensions import limiter
from app.ratelimits import binding_limit, set_retry_after

COMPLETE = "/api/levels/complete"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def completion(n: int = 0) -> dict:
    """The n-th distinct completion of level 1."""
    return {
        "level_id": 1,
        "score": 100 + n,
        "time_spent": 120,
        "client_event_id": str(uuid.uuid4()),
    }


def post_completions(client, count: int) -> list:
    return [client.post(COMPLETE, json=completion(n)) for n in range(count)]


def shown(response) -> tuple[str, str]:
    return response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]


def test_a_completion_shows_the_players_own_limit_counting_down(
    player_client, levels, config_override
):
    config_override(
        COMPLETION_RATE_LIMIT="10/minute;200/day", COMPLETION_ADDRESS_RATE_LIMIT="300/minute"
    )
    before = time.time()
    answers = post_completions(player_client, 3)
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [shown(answer) for answer in answers] == [("10", "9"), ("10", "8"), ("10", "7")]
    assert before < int(answers[0].headers["X-RateLimit-Reset"]) <= before + 62


def test_a_tighter_address_limit_is_the_one_shown(player_client, levels, config_override):
    config_override(
        COMPLETION_RATE_LIMIT="10/minute;200/day", COMPLETION_ADDRESS_RATE_LIMIT="3/minute"
    )
    answers = post_completions(player_client, 4)
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [shown(answer) for answer in answers] == [("3", "2"), ("3", "1"), ("3", "0"), ("3", "0")]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60


def test_a_longer_window_is_shown_once_it_has_fewer_left(player_client, levels, config_override):
    config_override(COMPLETION_RATE_LIMIT="10/minute;2/day")
    answers = post_completions(player_client, 3)
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [shown(answer) for answer in answers] == [("2", "1"), ("2", "0"), ("2", "0")]
    # The day's limit is the breached one: come back in a day, not in a minute.
    assert int(answers[-1].headers["Retry-After"]) > 86000
    assert int(answers[-1].headers["X-RateLimit-Reset"]) > time.time() + 86000


def test_a_429_carries_the_breached_limit_and_when_to_retry(player_client, levels, config_override):
    config_override(COMPLETION_RATE_LIMIT="2/minute", COMPLETION_ADDRESS_RATE_LIMIT="300/minute")
    post_completions(player_client, 2)
    limited = player_client.post(COMPLETE, json=completion(9))
    assert limited.status_code == 429
    assert limited.mimetype == "application/json"
    assert limited.json["error"]["code"] == "rate_limited"
    assert shown(limited) == ("2", "0")
    retry_after = int(limited.headers["Retry-After"])
    assert 0 < retry_after <= 60
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert abs(reset - (time.time() + retry_after)) <= 2


ANSWERS_WITHOUT_RETRY_AFTER = [
    # (what, signed in?, method, path, body, status)
    ("recorded completion", True, "post", COMPLETE, completion(), 200),
    ("invalid completion", True, "post", COMPLETE, {"level_id": 1, "score": "high"}, 400),
    ("anonymous completion", False, "post", COMPLETE, completion(), 401),
    ("created token", True, "post", "/api/tokens", {"name": "laptop"}, 201),
    ("invalid token name", True, "post", "/api/tokens", {"name": ""}, 400),
]


@pytest.mark.parametrize(
    ("signed_in", "method", "path", "body", "status"),
    [case[1:] for case in ANSWERS_WITHOUT_RETRY_AFTER],
    ids=[case[0] for case in ANSWERS_WITHOUT_RETRY_AFTER],
)
def test_only_a_429_tells_the_client_to_retry_later(
    client, player_client, levels, signed_in, method, path, body, status
):
    caller = player_client if signed_in else client
    response = getattr(caller, method)(path, json=body)
    assert response.status_code == status
    assert "Retry-After" not in response.headers
    assert all(name in response.headers for name in RATE_HEADERS)


def test_an_unlimited_route_carries_no_rate_limit_headers(player_client, levels):
    response = player_client.get("/api/levels")
    assert response.status_code == 200
    assert not any(name in response.headers for name in (*RATE_HEADERS, "Retry-After"))


@pytest.fixture()
def unreadable_limit_store(monkeypatch):
    """The limit store counts requests but fails when its windows are read back."""

    def fail(*args):
        raise StorageError(ConnectionError("limit store unreachable"))

    monkeypatch.setattr(limiter.limiter, "get_window_stats", fail)


def test_a_limit_store_that_cannot_be_read_costs_the_headers_not_the_answer(
    app, player_client, levels, config_override, unreadable_limit_store, caplog
):
    config_override(COMPLETION_RATE_LIMIT="1/minute")
    accepted = player_client.post(COMPLETE, json=completion(1))
    assert accepted.status_code == 200 and accepted.json["is_new_completion"] is True
    assert not any(name in accepted.headers for name in (*RATE_HEADERS, "Retry-After"))
    limited = player_client.post(COMPLETE, json=completion(2))
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == "60"  # the whole window: the most it can take
    assert not any(name in limited.headers for name in RATE_HEADERS)
    assert "rate-limit headers left out" in caplog.text
    assert "Traceback" not in caplog.text


def request_limit(amount: str, remaining: int, reset_at: int, *, breached: bool = False):
    """A stand-in for Flask-Limiter's RequestLimit: what the chooser reads of one."""
    return SimpleNamespace(
        limit=parse(amount), remaining=remaining, reset_at=reset_at, breached=breached
    )


BINDING_CASES = [
    # (what, limits, index of the one that binds)
    (
        "fewest remaining",
        [request_limit("10/minute", 7, 60), request_limit("300/minute", 297, 60)],
        0,
    ),
    (
        "fewest remaining in a longer window",
        [request_limit("10/minute", 9, 60), request_limit("2/day", 1, 86400)],
        1,
    ),
    (
        "a tie goes to the smaller limit",
        [request_limit("5/minute", 2, 60), request_limit("3/hour", 2, 3600)],
        1,
    ),
    (
        "the breached one over one with as few left",
        [request_limit("3/minute", 0, 60), request_limit("10/hour", 0, 3600, breached=True)],
        1,
    ),
    (
        "of several breached, the one that resets last",
        [
            request_limit("3/minute", 0, 50, breached=True),
            request_limit("10/hour", 0, 3000, breached=True),
            request_limit("20/day", 0, 900, breached=True),
        ],
        1,
    ),
]


@pytest.mark.parametrize(
    ("limits", "expected"),
    [case[1:] for case in BINDING_CASES],
    ids=[case[0] for case in BINDING_CASES],
)
def test_the_binding_limit_is_the_one_that_decides_when_to_come_back(limits, expected):
    assert binding_limit(limits) is limits[expected]


@pytest.mark.parametrize(
    ("status", "existing", "expected"),
    [
        (429, None, "30"),
        (429, "120", "120"),  # a view's own Retry-After is kept
        (429, "Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT"),
        (200, None, None),
        (400, None, None),
        (503, None, None),
    ],
)
def test_retry_after_is_added_only_to_a_429_that_has_none(status, existing, expected):
    response = Response(status=status)
    if existing is not None:
        response.headers["Retry-After"] = existing
    set_retry_after(response, 29.2)
    assert response.headers.get("Retry-After") == expected
