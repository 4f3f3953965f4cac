"""GET /metrics (only for the metrics token) and what the app counts, in this process.

The counters are the process's own and every test adds to them, so a test compares two readings.
"""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from tests.metric_samples import counter_values, moved

TOKEN = "metrics-token-for-tests"
COMPLETE = "/api/levels/complete"
SEED_RUN = {
    "level_id": "level-1",
    "level_type": "simulation",
    "score": 850,
    "time_spent": 120,
    "difficulty": "normal",
    "metadata": {"hints_used": 0, "mistakes": 1},
}


@pytest.fixture()
def metrics_token(config_override):
    config_override(METRICS_TOKEN=TOKEN)


def counters() -> dict[str, float]:
    return counter_values(REGISTRY.collect())


def timed(endpoint: str, method: str, status: int) -> float:
    labels = {"endpoint": endpoint, "method": method, "status": str(status)}
    return REGISTRY.get_sample_value("cyberquest_http_request_duration_seconds_count", labels) or 0


# --- the endpoint ---------------------------------------------------------------------------


def test_metrics_do_not_exist_while_no_token_is_set(client, config_override):
    config_override(METRICS_TOKEN="")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_metrics_refuse_a_caller_without_the_token(client, metrics_token, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "cyberquest_" not in response.get_data(as_text=True)


def test_metrics_serve_the_prometheus_text_format_to_the_token(client, metrics_token):
    response = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "cyberquest_completions",
        "cyberquest_completions_refused",
        "cyberquest_xp_awarded",
        "cyberquest_http_request_duration_seconds",
        "cyberquest_rate_limited",
        "cyberquest_database_errors",
        "cyberquest_rate_limiter_fallbacks",
        "cyberquest_tracking_rollout_percent",
    } <= families


def test_every_outcome_is_exported_before_any_completion(client, metrics_token):
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    shown = counter_values(text_string_to_metric_families(text))
    for outcome in ("new", "replay", "duplicate", "conflict", "refused"):
        assert f'cyberquest_completions_total{{outcome="{outcome}"}}' in shown


def test_requests_are_timed_by_endpoint_never_by_path(client, levels):
    before = timed("levels_api.list_levels", "GET", 200)
    unmatched = timed("unmatched", "GET", 404)

    client.get("/api/levels")
    client.get("/api/levels?page=2")
    client.get("/no/such/page/1234")

    assert timed("levels_api.list_levels", "GET", 200) == before + 2
    assert timed("unmatched", "GET", 404) == unmatched + 1
    paths = {
        sample.labels["endpoint"]
        for family in REGISTRY.collect()
        if family.name == "cyberquest_http_request_duration_seconds"
        for sample in family.samples
    }
    assert not any("/" in endpoint for endpoint in paths)


def test_an_unknown_method_is_one_label_value(client):
    before = timed("unmatched", "other", 405)
    client.open("/api/levels", method="BREW")
    assert timed("unmatched", "other", 405) == before + 1


def test_scrapes_are_not_timed(client, metrics_token):
    client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert timed("metrics.scrape", "GET", 200) == 0


# --- what became of each completion ---------------------------------------------------------


def test_each_completion_moves_its_outcome_by_exactly_one(player_client, levels, config_override):
    config_override(COMPLETION_RATE_LIMIT="7/minute")
    event_id = str(uuid.uuid4())
    better_run = SEED_RUN | {"score": 950}  # no event id: deduplicated by its payload
    before = counters()
    timed_before = timed("levels_api.complete_level", "POST", 200)

    statuses = [
        player_client.post(COMPLETE, json=body).status_code
        for body in [
            SEED_RUN | {"client_event_id": event_id},  # new: 83 XP (100 x 31.6 / 38 = 83.2)
            SEED_RUN | {"client_event_id": event_id},  # replay
            # new: 19 + 3.8 + 10 = 32.8 -> 100 x 32.8 / 38 = 86.3 -> 86, less the 83 credited: 3
            better_run,
            better_run,  # duplicate
            SEED_RUN | {"client_event_id": event_id, "score": 100},  # conflict
            SEED_RUN | {"level_id": 999},  # refused: unknown level
            SEED_RUN | {"score": 5000},  # refused: validation error
            SEED_RUN,  # the 8th in a minute: refused, rate limited
        ]
    ]

    assert statuses == [200, 200, 200, 200, 409, 400, 400, 429]
    assert moved(before, counters()) == {
        'cyberquest_completions_total{outcome="new"}': 2,
        'cyberquest_completions_total{outcome="replay"}': 1,
        'cyberquest_completions_total{outcome="duplicate"}': 1,
        'cyberquest_completions_total{outcome="conflict"}': 1,
        'cyberquest_completions_total{outcome="refused"}': 3,
        'cyberquest_completions_refused_total{code="unknown_level"}': 1,
        'cyberquest_completions_refused_total{code="validation_error"}': 1,
        'cyberquest_completions_refused_total{code="rate_limited"}': 1,
        "cyberquest_xp_awarded_total": 83 + 3,
        'cyberquest_rate_limited_total{limit="levels_api.complete_level: 7 per 1 minute"}': 1,
    }
    assert timed("levels_api.complete_level", "POST", 200) == timed_before + 4


def test_a_completion_from_a_player_outside_the_rollout_is_refused(
    player_client, levels, config_override
):
    config_override(SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=0)
    before = counters()

    assert player_client.post(COMPLETE, json=SEED_RUN).status_code == 404

    assert moved(before, counters()) == {
        'cyberquest_completions_total{outcome="refused"}': 1,
        'cyberquest_completions_refused_total{code="tracking_disabled"}': 1,
    }


def test_an_anonymous_completion_is_refused(client, levels):
    before = counters()

    assert client.post(COMPLETE, json=SEED_RUN).status_code == 401

    assert moved(before, counters()) == {
        'cyberquest_completions_total{outcome="refused"}': 1,
        'cyberquest_completions_refused_total{code="authentication_required"}': 1,
    }


def test_other_requests_count_no_completion(player_client, levels):
    before = counters()

    player_client.get("/api/levels/progress")
    player_client.get(COMPLETE)  # 405: only POST records a completion

    assert moved(before, counters()) == {}


def test_a_429_of_a_page_is_counted_by_its_limit(client, config_override):
    config_override(REGISTER_RATE_LIMIT="1/hour")
    before = counters()

    statuses = [client.post("/register", data={}).status_code for _ in range(2)]

    assert statuses[-1] == 429
    assert moved(before, counters()) == {
        'cyberquest_rate_limited_total{limit="auth.register: 1 per 1 hour"}': 1
    }


def test_the_failed_sign_in_that_spends_the_budget_counts_for_the_account_limit(
    client, player, config_override
):
    # That 429 is the view's own (no limit was breached yet): the spent budget is the reason.
    config_override(LOGIN_ACCOUNT_RATE_LIMIT="1/minute")
    before = counters()

    response = client.post("/login", data={"login": player.username, "password": "wrong-guess"})

    assert response.status_code == 429
    assert moved(before, counters()) == {
        'cyberquest_rate_limited_total{limit="password-checks: 1 per 1 minute"}': 1
    }


# --- the rollout gauge ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "shown"),
    [
        ({"ENABLE_SERVER_SIDE_TRACKING": True, "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT": 37}, 37),
        ({"ENABLE_SERVER_SIDE_TRACKING": True, "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT": 250}, 100),
        ({"ENABLE_SERVER_SIDE_TRACKING": False, "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT": 37}, 0),
    ],
)
def test_the_rollout_gauge_shows_the_share_tracked_when_the_app_starts(app, settings, shown):
    create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})
    assert REGISTRY.get_sample_value("cyberquest_tracking_rollout_percent") == shown
