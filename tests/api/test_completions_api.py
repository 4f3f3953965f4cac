"""POST /api/levels/complete: the seed's contract, exactly-once answers, and every bad input."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Level, LevelCompletion, User, XPHistory
from tests import factories

SEED_EXAMPLE = {
    "level_id": "level-1",
    "level_type": "simulation",
    "score": 850,
    "time_spent": 120,
    "difficulty": "normal",
    "metadata": {"hints_used": 0, "mistakes": 1},
}


def completion(**changes):
    return {**SEED_EXAMPLE, "client_event_id": str(uuid.uuid4())} | changes


def ledger_state(app, username="player1"):
    """What an operator would look at: rows recorded and the player's total."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(LevelCompletion)),
            db.session.scalar(select(func.count()).select_from(XPHistory)),
            db.session.scalar(select(User.total_xp).where(User.username == username)),
        )


def test_the_seed_example_returns_the_seed_response_shape(player_client, levels):
    response = player_client.post("/api/levels/complete", json=completion())
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True
    assert body["is_new_completion"] is True
    # Raw: base 18 x 1.0 + 20% time bonus 3.6 + 10 for no hints = 31.6. Level 1's best run:
    # 20 x 1.2 + 4.0 + 10 = 38.0. Scaled to its 100 XP: 100 x 31.6 / 38 = 83.16 -> 83.
    assert body["awarded_xp"] == 83
    assert body["new_total_xp"] == 83
    assert isinstance(body["completion_id"], int)
    assert body["level"] == {
        "level_id": 1,
        "name": "The Misinformation Maze",
        "xp_reward": 100,
        "icon": "bi-newspaper",
        "category": "Information Literacy",
        "estimated_time": "15 minutes",
        "skills": ["Critical Thinking", "Source Verification", "Fact Checking"],
        "unlocked": True,
        "coming_soon": False,
    }
    assert body["xp_breakdown"] == {
        "base": 18,
        "difficulty": "normal",
        "difficulty_multiplier": "1.0",
        "time_bonus": "3.6",
        "no_hint_bonus": 10,
        "raw": "31.6",
        "raw_best": "38.0",
        "xp_reward": 100,
        "scale_to_reward": True,
        "scale": "2.6316",
        "xp": 83,
        "previously_credited": 0,
        "awarded": 83,
    }
    assert "Idempotent-Replayed" not in response.headers


def test_the_seed_plain_fetch_snippet_body_is_accepted_as_is(player_client, levels):
    # The seed's client sends exactly these keys, with metadata {hints_used, mistakes}.
    body = {
        "level_id": 1,
        "level_type": "simulation",
        "score": 700,
        "time_spent": 300,
        "difficulty": "normal",
        "metadata": {"hints_used": 2, "mistakes": 3},
        "client_event_id": str(uuid.uuid4()),
    }
    response = player_client.post(
        "/api/levels/complete", data=json.dumps(body), content_type="application/json"
    )
    # 17 x 1.0 + 3.4 time bonus, hints used: 20.4; 100 x 20.4 / 38 = 53.68 -> 54.
    assert response.status_code == 200 and response.json["awarded_xp"] == 54


@pytest.mark.parametrize("level_ref", [1, "1", "level-1", " level-1 "])
def test_a_level_can_be_named_as_number_string_or_slug(player_client, levels, level_ref):
    response = player_client.post("/api/levels/complete", json=completion(level_id=level_ref))
    assert response.status_code == 200
    assert response.json["level"]["level_id"] == 1


def test_a_retry_returns_the_original_result_marked_as_replayed(app, player_client, levels):
    body = completion()
    first = player_client.post("/api/levels/complete", json=body)
    again = player_client.post("/api/levels/complete", json=body)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["is_new_completion"] is False
    for key in ("completion_id", "awarded_xp", "new_total_xp", "xp_breakdown"):
        assert again.json[key] == first.json[key]
    assert ledger_state(app) == (1, 1, 83)


def test_reusing_an_event_id_for_a_different_result_is_a_conflict(app, player_client, levels):
    body = completion()
    first = player_client.post("/api/levels/complete", json=body)
    response = player_client.post("/api/levels/complete", json=body | {"score": 990})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["original_completion_id"] == first.json["completion_id"]
    assert ledger_state(app) == (1, 1, 83)


def test_without_an_event_id_a_quick_duplicate_is_answered_as_a_replay(app, player_client, levels):
    body = {key: value for key, value in SEED_EXAMPLE.items()}
    first = player_client.post("/api/levels/complete", json=body)
    second = player_client.post("/api/levels/complete", json=body)
    assert second.json["is_new_completion"] is False
    assert second.json["completion_id"] == first.json["completion_id"]
    assert ledger_state(app) == (1, 1, 83)


WINDOW_REPEATS = [
    # (what, changes to the seed body, recorded as a new completion?, XP the repeat adds)
    ("the identical body", {}, False, 0),
    ("the level named by number", {"level_id": 1}, False, 0),
    (
        "only unlisted metadata added",
        {"metadata": {"hints_used": 0, "mistakes": 1, "xp": 9}},
        False,
        0,
    ),
    # 18 x 1.2 = 21.6, + 3.6 time bonus + 10 for no hints = 35.2; 3520 / 38 = 92.6 -> 93:
    # 10 more than the normal run's 83. Easy: 14.4 + 3.6 + 10 = 28.0 -> 74, less than 83.
    ("a harder difficulty", {"difficulty": "hard"}, True, 10),
    ("an easier difficulty", {"difficulty": "easy"}, True, 0),
    ("another time", {"time_spent": 130}, True, 0),
    ("other metadata", {"metadata": {"hints_used": 0, "mistakes": 2}}, True, 0),
    ("another level type", {"level_type": "quiz"}, True, 0),
]


@pytest.mark.parametrize(
    ("changes", "is_new", "added_xp"),
    [case[1:] for case in WINDOW_REPEATS],
    ids=[case[0] for case in WINDOW_REPEATS],
)
def test_without_an_event_id_only_the_same_payload_in_the_window_is_a_duplicate(
    app, player_client, levels, changes, is_new, added_xp
):
    first = player_client.post("/api/levels/complete", json=SEED_EXAMPLE)
    assert first.json["awarded_xp"] == 83
    second = player_client.post("/api/levels/complete", json=SEED_EXAMPLE | changes)
    assert second.status_code == 200
    assert second.json["is_new_completion"] is is_new
    if is_new:
        assert second.json["completion_id"] != first.json["completion_id"]
        assert second.json["awarded_xp"] == added_xp
        assert "Idempotent-Replayed" not in second.headers
    else:
        assert second.json["completion_id"] == first.json["completion_id"]
        assert second.json["awarded_xp"] == 83  # the original answer, replayed
        assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json["new_total_xp"] == 83 + added_xp
    assert ledger_state(app) == (2 if is_new else 1, 2 if added_xp else 1, 83 + added_xp)


def test_a_replayed_level_earns_only_the_improvement(app, player_client, levels):
    first = player_client.post("/api/levels/complete", json=completion(score=500))
    # Base 15 + 20% of it for speed + 10 for no hints = 28.0; 100 x 28 / 38 = 73.7 -> 74.
    assert first.json["awarded_xp"] == 74
    same = player_client.post("/api/levels/complete", json=completion(score=500))
    assert same.json["is_new_completion"] is True and same.json["awarded_xp"] == 0
    better = player_client.post(
        "/api/levels/complete", json=completion(score=1000, difficulty="hard")
    )
    # The best possible run earns the level's whole 100 XP, of which 74 were credited.
    assert better.json["awarded_xp"] == 100 - 74
    assert better.json["xp_breakdown"]["previously_credited"] == 74
    worse = player_client.post("/api/levels/complete", json=completion(score=100))
    assert worse.json["awarded_xp"] == 0
    assert ledger_state(app) == (4, 2, 100)  # a zero award writes no ledger entry


def test_the_best_possible_run_earns_exactly_the_level_reward(app, player_client, levels):
    with app.app_context():
        db.session.execute(Level.__table__.update().values(xp_reward=25))
        db.session.commit()
    best = completion(score=1000, time_spent=60, difficulty="hard")
    response = player_client.post("/api/levels/complete", json=best)
    assert response.json["awarded_xp"] == 25
    assert response.json["xp_breakdown"]["xp_reward"] == 25
    # The same score on normal: 20 + 4.0 + 10 = 34.0 of 38.0; 25 x 34 / 38 = 22.4 -> 22.
    normal = completion(score=1000, time_spent=60, difficulty="normal")
    assert player_client.post("/api/levels/complete", json=normal).json["xp_breakdown"]["xp"] == 22


def test_unscaled_rules_cap_the_raw_value_at_the_level_reward(
    app, player_client, levels, config_override
):
    config_override(XP_RULES={"scale_to_reward": False})
    with app.app_context():
        db.session.execute(Level.__table__.update().values(xp_reward=25))
        db.session.commit()
    response = player_client.post("/api/levels/complete", json=completion(score=1000))
    breakdown = response.json["xp_breakdown"]
    # 20 + 4.0 + 10 = 34.0, capped at 25; the seed's example alone would be 31.6 -> 32.
    assert (breakdown["raw"], breakdown["scale"], breakdown["xp"]) == ("34.0", "1", 25)
    assert response.json["awarded_xp"] == 25
    seed_run = player_client.post("/api/levels/complete", json=completion(level_id="level-2"))
    assert seed_run.json["awarded_xp"] == 25


def test_a_token_client_records_as_an_api_source(app, client, player, levels):
    with app.app_context():
        secret = factories.make_token(player)
    response = client.post(
        "/api/levels/complete", json=completion(), headers=factories.bearer(secret)
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(LevelCompletion.source)) == "api"


def test_the_callers_own_user_id_is_accepted(player_client, player, levels):
    response = player_client.post("/api/levels/complete", json=completion(user_id=player.id))
    assert response.status_code == 200


def test_unlisted_metadata_is_dropped_and_listed_metadata_kept(app, player_client, levels):
    body = completion(metadata={"hints_used": 1, "accuracy": 87.5, "xp": 9999, "admin": True})
    assert player_client.post("/api/levels/complete", json=body).status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(LevelCompletion.extra))
    assert stored == {"hints_used": 1, "accuracy": 87.5}


BAD_INPUTS = [
    # (what, changes to a valid body or a raw body, status, code, field)
    ("score as a string", {"score": "850"}, 400, "validation_error", "score"),
    ("score as a float", {"score": 850.5}, 400, "validation_error", "score"),
    ("negative score", {"score": -1}, 400, "validation_error", "score"),
    ("score above the level's maximum", {"score": 1001}, 400, "validation_error", "score"),
    ("huge score", {"score": 10**12}, 400, "validation_error", "score"),
    ("missing score", {"score": None}, 400, "validation_error", "score"),
    ("boolean score", {"score": True}, 400, "validation_error", "score"),
    ("negative time", {"time_spent": -5}, 400, "validation_error", "time_spent"),
    ("impossibly fast time", {"time_spent": 3}, 400, "validation_error", "time_spent"),
    ("time over a day", {"time_spent": 86401}, 400, "validation_error", "time_spent"),
    ("missing time", {"time_spent": None}, 400, "validation_error", "time_spent"),
    ("unknown difficulty", {"difficulty": "nightmare"}, 400, "validation_error", "difficulty"),
    ("difficulty multiplier", {"difficulty": 2.5}, 400, "validation_error", "difficulty"),
    ("unknown level", {"level_id": 99}, 400, "unknown_level", "level_id"),
    ("malformed level", {"level_id": "level-one"}, 400, "validation_error", "level_id"),
    ("level as a list", {"level_id": [1]}, 400, "validation_error", "level_id"),
    ("missing level", {"level_id": None}, 400, "validation_error", "level_id"),
    ("bad uuid", {"client_event_id": "not-a-uuid"}, 400, "validation_error", "client_event_id"),
    ("uuid as number", {"client_event_id": 12345}, 400, "validation_error", "client_event_id"),
    ("metadata as a list", {"metadata": [1]}, 400, "validation_error", "metadata"),
    (
        "negative hints",
        {"metadata": {"hints_used": -1}},
        400,
        "validation_error",
        "metadata.hints_used",
    ),
    ("client-chosen xp", {"xp": 500}, 400, "validation_error", "xp"),
    ("client-chosen award", {"awarded_xp": 500}, 400, "validation_error", "awarded_xp"),
    ("someone else's user_id", {"user_id": 424242}, 403, "not_your_user_id", None),
    ("user_id as a string", {"user_id": "1"}, 400, "validation_error", "user_id"),
]


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_refused_and_records_nothing(
    app, player_client, levels, changes, status, code, field
):
    body = {k: v for k, v in (completion() | changes).items() if v is not None}
    response = player_client.post("/api/levels/complete", json=body)
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    assert response.json["error"]["code"] == code
    if field is not None:
        assert field in response.json["error"]["fields"]
    assert ledger_state(app) == (0, 0, 0)


RAW_BAD_REQUESTS = [
    ("malformed json", '{"level_id": 1,', "application/json", 400, "invalid_json"),
    ("json array", "[]", "application/json", 400, "invalid_json"),
    ("empty body", "", "application/json", 400, "invalid_json"),
    (
        "form post",
        "level_id=1&score=850",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    ("text body", json.dumps(SEED_EXAMPLE), "text/plain", 415, "unsupported_media_type"),
    (
        "too large",
        json.dumps(SEED_EXAMPLE | {"level_type": "x" * 20000}),
        "application/json",
        413,
        "payload_too_large",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [case[1:] for case in RAW_BAD_REQUESTS],
    ids=[case[0] for case in RAW_BAD_REQUESTS],
)
def test_malformed_requests_are_refused_and_record_nothing(
    app, player_client, levels, body, content_type, status, code
):
    response = player_client.post("/api/levels/complete", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert ledger_state(app) == (0, 0, 0)


def test_a_locked_level_is_forbidden(app, player_client, levels):
    with app.app_context():
        db.session.execute(
            Level.__table__.update().where(Level.level_id == "2").values(unlocked=False)
        )
        db.session.execute(
            Level.__table__.update().where(Level.level_id == "3").values(coming_soon=True)
        )
        db.session.commit()
    for level_id in (2, 3):
        response = player_client.post("/api/levels/complete", json=completion(level_id=level_id))
        assert response.status_code == 403
        assert response.json["error"]["code"] == "level_locked"
    assert ledger_state(app) == (0, 0, 0)


def test_an_anonymous_completion_is_refused_with_401(app, client, levels, player):
    response = client.post("/api/levels/complete", json=completion())
    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_required"
    assert ledger_state(app) == (0, 0, 0)


def test_a_revoked_token_cannot_record(app, client, player, levels):
    with app.app_context():
        secret = factories.make_token(player)
    headers = factories.bearer(secret)
    token_id = client.get("/api/tokens", headers=headers).json["tokens"][0]["id"]
    client.delete(f"/api/tokens/{token_id}", headers=headers)
    response = client.post("/api/levels/complete", json=completion(), headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
    assert ledger_state(app) == (0, 0, 0)


def test_a_cross_site_page_cannot_record_with_the_players_cookie(app, player_client, levels):
    response = player_client.post(
        "/api/levels/complete",
        json=completion(),
        headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "cross_origin_forbidden"
    assert ledger_state(app) == (0, 0, 0)


def test_completions_are_rate_limited_per_player(app, player_client, levels, config_override):
    config_override(COMPLETION_RATE_LIMIT="3/minute")
    statuses = [
        player_client.post("/api/levels/complete", json=completion(score=100 * n)).status_code
        for n in range(1, 6)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    limited = player_client.post("/api/levels/complete", json=completion())
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert ledger_state(app)[0] == 3


def test_with_tracking_off_the_endpoint_answers_tracking_disabled(
    app, player_client, levels, config_override
):
    config_override(ENABLE_SERVER_SIDE_TRACKING=False)
    response = player_client.post("/api/levels/complete", json=completion())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "tracking_disabled"
    assert ledger_state(app) == (0, 0, 0)


def test_a_player_outside_the_rollout_cohort_is_not_tracked(
    app, player_client, player, levels, config_override
):
    from app.services.rollout import rollout_bucket

    bucket = rollout_bucket(player.id)
    config_override(SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=bucket)  # cohort is buckets < percent
    refused = player_client.post("/api/levels/complete", json=completion())
    assert refused.json["error"]["code"] == "tracking_disabled"
    config_override(SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=bucket + 1)
    accepted = player_client.post("/api/levels/complete", json=completion())
    assert accepted.status_code == 200
