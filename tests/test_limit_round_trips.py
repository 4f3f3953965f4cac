"""With Redis as the limit store, all of a request's rate limits cost one round trip, and they
answer exactly as Flask-Limiter's own one-call-per-limit checks did: the same statuses, the same
X-RateLimit headers and Retry-After, the same counts kept in Redis, the same fall back to memory
when Redis goes away."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import request
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import REGISTRY
from redis.connection import Connection

from app import limit_batch
from app.extensions import limiter
from app.views.auth_views import WRONG_CREDENTIALS
from tests import factories
from tests.outages import REDIS_ADDRESS, forwarder_to, sample

COMPLETE = "/api/levels/complete"
REDIS_DB = 7  # this module's own logical database
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")
FALLBACKS = "cyberquest_rate_limiter_fallbacks_total"


def completion() -> dict:
    return {"level_id": 1, "score": 500, "time_spent": 120, "client_event_id": str(uuid.uuid4())}


@pytest.fixture()
def store() -> Iterator[redis.Redis]:
    """The limits' Redis database, empty at the start and at the end of the test."""
    client = redis.Redis(*REDIS_ADDRESS, db=REDIS_DB, socket_timeout=5, socket_connect_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture()
def round_trips(monkeypatch) -> list[tuple[int, int]]:
    """Every command sent to a Redis server, as (port, database); one per round trip."""
    sent: list[tuple[int, int]] = []
    send = Connection.send_packed_command

    def counted(connection, command, check_health=True):
        sent.append((connection.port, connection.db))
        return send(connection, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


def to_the_store(sent: list[tuple[int, int]], port: int = REDIS_ADDRESS[1]) -> int:
    return sum(1 for sent_to in sent if sent_to == (port, REDIS_DB))


@pytest.fixture()
def limited_app(app, build_app, store, levels, player):
    """limited_app(batched=True, port=6379, **settings): an app of the test's own whose limits
    count in Redis, and the player's API token headers. batched=False builds it with
    Flask-Limiter's own moving window, one call per limit: the behaviour to match."""
    with app.app_context():
        headers = factories.bearer(factories.make_token(player))

    def make(*, batched: bool = True, port: int = REDIS_ADDRESS[1], **settings):
        with pytest.MonkeyPatch.context() as patch:
            if not batched:
                patch.setattr(limit_batch, "batches", lambda *_: False)
            own = build_app(
                app.config["SQLALCHEMY_DATABASE_URI"],
                RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/{REDIS_DB}",
                **settings,
            )
        return own, headers

    return make


def shown(response) -> dict[str, str]:
    return {name: response.headers[name] for name in RATE_HEADERS if name in response.headers}


def counts(store: redis.Redis) -> dict[str, int]:
    """How many entries each of Redis's moving windows holds."""
    return {key.decode(): store.llen(key) for key in store.keys("LIMITS:*")}


def assert_same_answers(batched: list, unbatched: list) -> None:
    """The same statuses, limits and remaining, the same refusals; times within the seconds the
    runs are apart."""
    assert [answer.status_code for answer in batched] == [
        answer.status_code for answer in unbatched
    ]
    for ours, theirs in zip(batched, unbatched, strict=True):
        mine, reference = shown(ours), shown(theirs)
        assert mine.keys() == reference.keys()
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining"):
            assert mine[name] == reference[name]
        for name in ("X-RateLimit-Reset", "Retry-After"):
            if name in mine:
                assert abs(int(mine[name]) - int(reference[name])) <= 2
        if ours.status_code == 429:
            assert ours.get_json(silent=True) == theirs.get_json(silent=True)


def test_a_completion_costs_one_redis_round_trip_for_all_its_limits(
    limited_app, store, round_trips
):
    trips = {}
    for batched in (False, True):
        store.flushdb()
        own, headers = limited_app(
            batched=batched,
            COMPLETION_RATE_LIMIT="3/minute;200/day",
            COMPLETION_ADDRESS_RATE_LIMIT="300/minute",
        )
        client = own.test_client()
        client.post(COMPLETE, json=completion(), headers=headers)  # connected, script known
        answers, trips[batched] = [], []
        for _ in range(3):
            round_trips.clear()
            answers.append(client.post(COMPLETE, json=completion(), headers=headers))
            trips[batched].append(to_the_store(round_trips))
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert [shown(answer)["X-RateLimit-Remaining"] for answer in answers] == ["1", "0", "0"]
        assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    # Three limits each time, whether counted or refused, and the headers read none again.
    assert trips[True] == [1, 1, 1]
    assert all(before > 1 for before in trips[False])  # one call per limit, and per header read


SCENARIOS = [
    # (what, completion limits, address limit, completions posted)
    ("the players limit binds", "3/minute;200/day", "300/minute", 5),
    ("the address limit binds first", "10/minute;200/day", "2/minute", 4),
    ("the days limit binds", "10/minute;2/day", "300/minute", 4),
    ("everything at once", "2/minute;2/day", "2/minute", 3),
]


@pytest.mark.parametrize(
    ("player_limit", "address_limit", "posted"),
    [scenario[1:] for scenario in SCENARIOS],
    ids=[scenario[0] for scenario in SCENARIOS],
)
def test_completions_answer_as_flask_limiter_alone_did(
    limited_app, store, player_limit, address_limit, posted
):
    settings = {
        "COMPLETION_RATE_LIMIT": player_limit,
        "COMPLETION_ADDRESS_RATE_LIMIT": address_limit,
    }
    runs = {}
    for batched in (False, True):
        store.flushdb()
        own, headers = limited_app(batched=batched, **settings)
        client = own.test_client()
        answers = [client.post(COMPLETE, json=completion(), headers=headers) for _ in range(posted)]
        runs[batched] = answers, counts(store)
    (ours, our_counts), (theirs, their_counts) = runs[True], runs[False]
    assert_same_answers(ours, theirs)
    assert 429 in [answer.status_code for answer in ours]
    # The same entries kept in Redis: a refused request took no slot Flask-Limiter never took.
    assert our_counts == their_counts


def test_exactly_the_players_limit_is_accepted(limited_app):
    own, headers = limited_app(
        COMPLETION_RATE_LIMIT="10/minute;200/day", COMPLETION_ADDRESS_RATE_LIMIT="300/minute"
    )
    client = own.test_client()
    answers = [client.post(COMPLETE, json=completion(), headers=headers) for _ in range(14)]
    assert [answer.status_code for answer in answers] == [200] * 10 + [429] * 4
    assert [shown(answer)["X-RateLimit-Remaining"] for answer in answers[:10]] == [
        str(left) for left in range(9, -1, -1)
    ]
    assert all(answer.json["error"]["code"] == "rate_limited" for answer in answers[10:])
    assert all(shown(answer)["X-RateLimit-Limit"] == "10" for answer in answers)


def test_requests_refused_by_the_minute_do_not_spend_the_days_budget(limited_app, config_override):
    own, headers = limited_app(
        COMPLETION_RATE_LIMIT="2/minute;5/day", COMPLETION_ADDRESS_RATE_LIMIT="300/minute"
    )
    client = own.test_client()
    statuses = [client.post(COMPLETE, json=completion(), headers=headers).status_code]
    statuses += [
        client.post(COMPLETE, json=completion(), headers=headers).status_code for _ in "abc"
    ]
    assert statuses == [200, 200, 429, 429]
    # A roomier minute (a window of its own): the day has counted the two accepted only.
    own.config["COMPLETION_RATE_LIMIT"] = "10/minute;5/day"
    later = client.post(COMPLETE, json=completion(), headers=headers)
    assert later.status_code == 200
    assert (shown(later)["X-RateLimit-Limit"], shown(later)["X-RateLimit-Remaining"]) == ("5", "2")


def test_requests_refused_by_the_address_limit_spend_none_of_the_players(limited_app):
    own, headers = limited_app(
        COMPLETION_RATE_LIMIT="10/minute;200/day", COMPLETION_ADDRESS_RATE_LIMIT="2/minute"
    )
    client = own.test_client()
    statuses = [
        client.post(COMPLETE, json=completion(), headers=headers).status_code for _ in "abcd"
    ]
    assert statuses == [200, 200, 429, 429]
    refused = REGISTRY.get_sample_value(
        "cyberquest_rate_limited_total", {"limit": "levels_api.complete_level: 2 per 1 minute"}
    )
    assert refused is not None and refused >= 2  # the metric names the limit that refused
    own.config["COMPLETION_ADDRESS_RATE_LIMIT"] = "300/minute"
    later = client.post(COMPLETE, json=completion(), headers=headers)
    assert later.status_code == 200
    assert (shown(later)["X-RateLimit-Limit"], shown(later)["X-RateLimit-Remaining"]) == ("10", "7")


def attempt(client, login, password, address="127.0.0.1"):
    return client.post(
        "/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_sign_in_budgets_answer_as_flask_limiter_alone_did(limited_app, store, round_trips):
    runs = {}
    for batched in (False, True):
        store.flushdb()
        own, _ = limited_app(batched=batched)
        client = own.test_client()
        answers = [attempt(client, "player1", "wrong-password", f"127.0.0.{n}") for n in (2, 3)]
        answers.append(attempt(own.test_client(), "player1", factories.DEFAULT_PASSWORD))
        round_trips.clear()
        answers += [attempt(client, "player1", "wrong-password") for _ in range(6)]
        trips = to_the_store(round_trips)
        runs[batched] = answers, counts(store), trips
    (ours, our_counts, our_trips), (theirs, their_counts, _) = runs[True], runs[False]
    assert_same_answers(ours, theirs)
    # A right password gave the budget back, then the fifth failure is refused.
    assert [answer.status_code for answer in ours] == [400, 400, 302, 400, 400, 400, 400, 429, 429]
    assert WRONG_CREDENTIALS in ours[-2].get_data(as_text=True)  # checked: the fifth failure
    assert WRONG_CREDENTIALS not in ours[-1].get_data(as_text=True)  # refused unchecked
    assert our_counts == their_counts
    # A checked failure: its address and account limits at once, then the account's window read
    # again after the password check (concurrent guesses count); a refused one: the limits.
    assert our_trips == 5 * 2 + 1


def test_parallel_guesses_on_redis_check_exactly_the_budget(limited_app):
    own, _ = limited_app()
    assert attempt(own.test_client(), "player1", "wrong-password").status_code == 400
    start = threading.Barrier(12, timeout=30)
    answers = []

    def guess(n: int) -> None:
        client = own.test_client()
        start.wait()
        answers.append(attempt(client, "PLAYER1", "wrong-password", f"127.0.0.{n % 3 + 2}"))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    checked = [answer for answer in answers if WRONG_CREDENTIALS in answer.get_data(as_text=True)]
    assert len(answers) == 12 and len(checked) == 4
    assert sum(answer.status_code == 429 for answer in answers) >= 8


def test_limits_that_are_not_plain_keep_flask_limiters_own_calls(limited_app, round_trips):
    """A cost above 1 or a deduction decided by the answer: counted as Flask-Limiter counts."""
    own, headers = limited_app()

    @own.post("/api/_test/costly")
    @limiter.limit("5/minute", cost=2)
    def costly():
        return {"ok": True}

    @own.post("/api/_test/only-failures")
    @limiter.limit("2/minute", deduct_when=lambda response: response.status_code == 400)
    def only_failures():
        failed = request.get_json()["fail"]
        return {"failed": failed}, 400 if failed else 200

    client = own.test_client()
    costly_answers = [client.post("/api/_test/costly", headers=headers) for _ in range(3)]
    assert [answer.status_code for answer in costly_answers] == [200, 200, 429]
    assert [shown(answer)["X-RateLimit-Remaining"] for answer in costly_answers] == ["3", "1", "1"]
    answers = [
        client.post("/api/_test/only-failures", json={"fail": fail}, headers=headers)
        for fail in (False, False, False, True, True, True)
    ]
    # Only the failures count: the third is refused, the successes before them were free.
    assert [answer.status_code for answer in answers] == [200, 200, 200, 400, 400, 429]
    assert shown(answers[0])["X-RateLimit-Remaining"] == "2"


@pytest.fixture()
def relay(store):
    with forwarder_to(REDIS_ADDRESS) as relay:
        yield relay


@pytest.mark.parametrize("failure", ["refuse", "hang"])
def test_with_redis_gone_mid_run_limits_fall_back_to_memory_after_one_attempt(
    limited_app, relay, round_trips, caplog, failure
):
    own, headers = limited_app(port=relay.port, COMPLETION_RATE_LIMIT="3/minute")
    client = own.test_client()
    assert client.post(COMPLETE, json=completion(), headers=headers).status_code == 200
    fallbacks = sample(FALLBACKS)
    getattr(relay, failure)()
    round_trips.clear()
    first = client.post(COMPLETE, json=completion(), headers=headers)
    assert to_the_store(round_trips, relay.port) == 1  # one wait for Redis, not one per limit
    statuses = [first.status_code]
    statuses += [
        client.post(COMPLETE, json=completion(), headers=headers).status_code for _ in "abc"
    ]
    # Memory starts counting afresh: three accepted there, then refused.
    assert statuses == [200, 200, 200, 429]
    assert shown(first)["X-RateLimit-Remaining"] == "2"
    assert sample(FALLBACKS) == fallbacks + 1
    assert "falling back to in-memory storage" in caplog.text


def test_failing_closed_with_redis_gone_mid_run_answers_503_after_one_attempt(
    limited_app, relay, round_trips
):
    own, headers = limited_app(port=relay.port, RATELIMIT_FAIL_CLOSED=True)
    client = own.test_client()
    assert client.post(COMPLETE, json=completion(), headers=headers).status_code == 200
    relay.refuse()
    round_trips.clear()
    refused = client.post(COMPLETE, json=completion(), headers=headers)
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "rate_limiter_unavailable"
    assert refused.headers["Retry-After"] == "5"
    assert to_the_store(round_trips, relay.port) == 1


@pytest.mark.parametrize(
    ("limit", "ages"),
    [
        ("10/minute", [50, 30, 10]),  # every entry in the window
        ("10/minute", [300, 200, 61, 59, 20, 1]),  # the older ones out of it
        ("10/minute", [600, 500, 400]),  # none left in it
        ("3/minute", [50, 40, 30, 20, 10]),  # a list left by a higher limit
        ("5/minute", [90, 58, 57, 56, 55, 54, 53]),  # full, the oldest just out
    ],
)
def test_the_window_read_with_an_acquisition_is_the_one_limits_reads(store, limit, ages):
    """What the script reports of a window after acquiring in it (remaining, reset) is what
    limits' own moving window reads from the same list, whatever its entries' ages."""
    storage = RedisStorage(f"redis://{REDIS_ADDRESS[0]}:{REDIS_ADDRESS[1]}/{REDIS_DB}")
    item = parse(limit)
    now = time.time()
    # Newest first, as the moving window keeps them.
    store.lpush(storage.prefixed_key(item.key_for("player")), *[now - age for age in ages])
    record = limit_batch.RequestLimits()
    batched = limit_batch.BatchedMovingWindow(storage)
    hit = limit_batch.Hit(item, item.key_for("player"))
    batched.acquire([hit], stop_at_refusal=True, limits=record)
    ours = record.windows[hit.key]
    theirs = MovingWindowRateLimiter(storage).get_window_stats(item, "player")
    assert ours.remaining == theirs.remaining
    assert ours.reset_time == pytest.approx(theirs.reset_time, abs=0.5)
