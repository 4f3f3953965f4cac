"""The completion unit of work: all or nothing, replays that stay replays, signals after commit."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import LevelCompletion, User, UserLevelProgress, XPHistory
from app.models.types import utcnow
from app.services import append_only, completions, ledger
from app.signals import completion_recorded

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


def post(client, **changes):
    body = BODY | {"client_event_id": str(uuid.uuid4())} | changes
    return client.post("/api/levels/complete", json=body)


def counts(app):
    with app.app_context():
        return {
            "completions": db.session.scalar(select(func.count()).select_from(LevelCompletion)),
            "history": db.session.scalar(select(func.count()).select_from(XPHistory)),
            "progress": db.session.scalar(select(func.count()).select_from(UserLevelProgress)),
            "total_xp": db.session.scalar(select(func.sum(User.total_xp))),
        }


EMPTY = {"completions": 0, "history": 0, "progress": 0, "total_xp": 0}


def fail(*args, **kwargs):
    raise RuntimeError("injected failure")


@pytest.mark.parametrize(
    "target",
    [
        (ledger, "append_entry"),  # after the completion insert, before the history row
        (completions, "record_progress"),  # after the history row and the new total
    ],
    ids=["before-history", "before-progress"],
)
def test_a_failure_mid_transaction_leaves_nothing_behind(
    app, player_client, levels, monkeypatch, target
):
    monkeypatch.setattr(*target, fail)
    response = post(player_client)
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert counts(app) == EMPTY
    monkeypatch.undo()
    retried = post(player_client)  # the player's retry then succeeds in full
    assert retried.status_code == 200 and retried.json["is_new_completion"] is True
    # The seed's example run: 100 x 31.6 / 38 = 83.16 -> 83 (README, "XP rules").
    assert counts(app) == {"completions": 1, "history": 1, "progress": 1, "total_xp": 83}


def test_a_failure_after_earlier_completions_keeps_them_intact(
    app, player_client, levels, monkeypatch
):
    post(player_client)
    before = counts(app)
    monkeypatch.setattr(ledger, "append_entry", fail)
    assert post(player_client, score=1000).status_code == 500
    assert counts(app) == before


def age_completions(app, seconds):
    """Move every recorded completion `seconds` into the past (past the append-only triggers,
    which let nothing but revoked_at change)."""
    with app.app_context():
        with append_only.unlocked(db.session.connection(), "test clock"):
            for completion in db.session.scalars(select(LevelCompletion)):
                completion.created_at -= timedelta(seconds=seconds)
            db.session.flush()
        db.session.commit()


def test_a_replay_after_the_dedup_window_and_other_completions_returns_the_original(
    app, player_client, levels
):
    event_id = str(uuid.uuid4())
    first = post(player_client, client_event_id=event_id)
    age_completions(app, 3600)
    for level_id in (2, 3):
        assert post(player_client, level_id=level_id).json["is_new_completion"] is True
    replay = post(player_client, client_event_id=event_id)
    assert replay.json["is_new_completion"] is False
    assert replay.json["completion_id"] == first.json["completion_id"]
    assert replay.json["awarded_xp"] == first.json["awarded_xp"]
    assert replay.json["new_total_xp"] == counts(app)["total_xp"]
    assert counts(app)["completions"] == 3


def test_after_the_dedup_window_the_same_result_counts_but_earns_nothing_again(
    app, player_client, levels
):
    body = {k: v for k, v in BODY.items()}
    first = player_client.post("/api/levels/complete", json=body)
    assert first.json["awarded_xp"] == 83
    age_completions(app, 31)
    again = player_client.post("/api/levels/complete", json=body)
    assert again.json["is_new_completion"] is True
    assert again.json["awarded_xp"] == 0
    assert counts(app)["total_xp"] == 83


def test_the_dedup_window_is_configurable(app, player_client, levels, config_override):
    config_override(DEDUP_WINDOW_SECONDS=0)
    body = {k: v for k, v in BODY.items()}
    player_client.post("/api/levels/complete", json=body)
    second = player_client.post("/api/levels/complete", json=body)
    assert second.json["is_new_completion"] is True


def test_a_twin_that_slipped_past_the_check_is_answered_as_a_replay(
    app, player_client, levels, monkeypatch
):
    event_id = str(uuid.uuid4())
    first = post(player_client, client_event_id=event_id)
    # Make both lookups miss once, as if a concurrent twin committed between lookup and
    # insert: the unique index must then catch the duplicate and the answer must be a replay.
    unlocked_lookup = completions.replay_of_event
    lookups = []

    def miss_once(*args):
        lookups.append(args)
        return None if len(lookups) == 1 else unlocked_lookup(*args)

    monkeypatch.setattr(completions, "replay_of_event", miss_once)
    monkeypatch.setattr(
        completions,
        "earlier_completion_and_credit",
        lambda user_id, request, payload_hash: (None, 32),
    )
    twin = post(player_client, client_event_id=event_id)
    assert twin.status_code == 200
    assert twin.json["is_new_completion"] is False
    assert twin.json["completion_id"] == first.json["completion_id"]
    assert counts(app)["completions"] == 1
    assert len(lookups) == 2  # the missed lookup, then the one after the unique index refused


def test_the_signal_is_sent_once_per_new_completion_and_never_for_a_replay(
    app, player_client, levels
):
    received = []

    def receiver(sender, result):
        received.append((result.completion_id, result.awarded_xp))

    completion_recorded.connect(receiver, app)
    try:
        body = BODY | {"client_event_id": str(uuid.uuid4())}
        first = player_client.post("/api/levels/complete", json=body)
        player_client.post("/api/levels/complete", json=body)
        player_client.post("/api/levels/complete", json=body | {"score": 1})  # conflict
    finally:
        completion_recorded.disconnect(receiver, app)
    assert received == [(first.json["completion_id"], 83)]


def test_a_failing_signal_receiver_never_loses_the_completion(app, player_client, levels):
    def broken(sender, result):
        raise RuntimeError("achievement service down")

    completion_recorded.connect(broken, app)
    try:
        response = post(player_client)
    finally:
        completion_recorded.disconnect(broken, app)
    assert response.status_code == 200 and response.json["is_new_completion"] is True
    assert counts(app)["completions"] == 1


def test_the_award_is_fixed_when_recorded_even_if_the_level_changes_later(
    app, player_client, levels
):
    from app.models import Level

    first = post(player_client)
    with app.app_context():
        db.session.execute(update(Level).where(Level.level_id == "1").values(xp_reward=10))
        db.session.commit()
        stored = db.session.get(LevelCompletion, first.json["completion_id"])
        assert stored.awarded_xp == 83
        assert db.session.scalar(select(XPHistory.delta)) == 83


def test_xp_rules_come_from_configuration(app, player_client, levels, config_override):
    config_override(XP_RULES={"no_hint_bonus": 0, "difficulty_multipliers": {"normal": 2}})
    response = post(player_client)
    breakdown = response.json["xp_breakdown"]
    assert breakdown["difficulty_multiplier"] == "2"
    # 18 x 2 + 3.6 = 39.6; the best run is now on normal: 20 x 2 + 4.0 = 44.0; 100 x 39.6 / 44.
    assert (breakdown["raw"], breakdown["raw_best"]) == ("39.6", "44.0")
    assert response.json["awarded_xp"] == 90


def test_recording_for_a_deleted_user_is_refused(app, levels):
    with app.app_context():
        request = completions.CompletionRequest(level_id="1", score=10, time_spent=100)
        with pytest.raises(Exception) as raised:
            completions.record_completion(987654, request)
        assert getattr(raised.value, "code", None) == "unknown_user"
    assert counts(app)["completions"] == 0


def test_progress_tracks_best_score_and_counts(app, player_client, player, levels):
    post(player_client, score=400)
    post(player_client, score=900)
    post(player_client, score=600)
    with app.app_context():
        row = db.session.get(UserLevelProgress, (player.id, "1"))
        # 400: 14 + 2.8 + 10 = 26.8 -> 71; 900: 19 + 3.8 + 10 = 32.8 -> 86.3 -> 86 (of 38.0, x 100);
        # 600: 29.2 -> 77, less than 86, so the level's credit stays at the best run's.
        assert (row.best_score, row.completions_count, row.xp_earned) == (900, 3, 86)
        assert row.first_completed_at <= row.last_completed_at <= utcnow()


SEED_REQUEST = {
    "level_id": "1",
    "level_type": "simulation",
    "score": 850,
    "time_spent": 120,
    "difficulty": "normal",
    "metadata": {"hints_used": 0, "mistakes": 1},
}


@pytest.mark.parametrize(
    "changes",
    [
        {"level_id": "2"},
        {"level_type": "quiz"},
        {"level_type": None},
        {"score": 851},
        {"time_spent": 121},
        {"difficulty": "hard"},
        {"metadata": {"hints_used": 0, "mistakes": 2}},
        {"metadata": {"hints_used": 0}},
        {"metadata": {"hints_used": 0, "mistakes": 1, "accuracy": 90.0}},
    ],
    ids=lambda changes: ",".join(f"{key}={value}" for key, value in changes.items()),
)
def test_the_payload_hash_changes_with_everything_that_decides_the_award(changes):
    seed = completions.CompletionRequest(**SEED_REQUEST)
    changed = completions.CompletionRequest(**(SEED_REQUEST | changes))
    assert changed.payload_hash() != seed.payload_hash()


def test_the_payload_hash_ignores_the_event_id_the_source_and_the_metadata_order():
    seed = completions.CompletionRequest(**SEED_REQUEST)
    retried = completions.CompletionRequest(
        **(SEED_REQUEST | {"metadata": {"mistakes": 1, "hints_used": 0}}),
        client_event_id=uuid.uuid4(),
        source="api",
    )
    assert retried.payload_hash() == seed.payload_hash()


def test_within_the_window_a_harder_run_with_the_same_score_is_a_new_completion(
    app, player, levels
):
    normal = completions.CompletionRequest(**SEED_REQUEST)
    hard = completions.CompletionRequest(**(SEED_REQUEST | {"difficulty": "hard"}))
    with app.app_context():
        first = completions.record_completion(player.id, normal)
        better = completions.record_completion(player.id, hard)
        again = completions.record_completion(player.id, hard)
    # Base 18 + 3.6 time bonus + 10 for no hints = 31.6, of level 1's best 38.0: 83 of 100.
    assert first.awarded_xp == 83
    assert better.is_new_completion is True
    assert better.completion_id != first.completion_id
    # 18 x 1.2 = 21.6, + 3.6 + 10 = 35.2; 100 x 35.2 / 38 = 92.6 -> 93.
    assert better.awarded_xp == 93 - 83
    assert better.new_total_xp == 93
    assert again.is_new_completion is False
    assert again.completion_id == better.completion_id
    assert counts(app) == {"completions": 2, "history": 2, "progress": 1, "total_xp": 93}
