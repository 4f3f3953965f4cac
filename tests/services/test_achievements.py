"""Achievements: earned by real completions, taken away by revocations, each change recorded
once as an event, however often (or however concurrently) a player is evaluated."""

import threading
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AchievementEvent, UserAchievement
from app.services import achievements
from tests import factories

# Levels 1 to 4 score up to 1000 and level 5 up to 1500 (app/levels_catalog.py).
MAX_SCORE = {1: 1000, 2: 1000, 3: 1000, 4: 1000, 5: 1500}


def complete(client, level_id=1, score=700, hints_used=2, **metadata):
    body = {
        "level_id": level_id,
        "score": score,
        "time_spent": 300,
        "metadata": {"hints_used": hints_used, **metadata} if hints_used is not None else metadata,
        "client_event_id": str(uuid.uuid4()),
    }
    response = client.post("/api/levels/complete", json=body)
    assert response.status_code == 200, response.json
    return response.json


def revoke(admin_client, completion_id):
    response = admin_client.post(
        f"/api/admin/completions/{completion_id}/revoke", json={"note": "cheated"}
    )
    assert response.status_code == 200, response.json


def adjust(admin_client, user_id, delta):
    response = admin_client.post(
        f"/api/admin/users/{user_id}/xp-adjustments", json={"delta": delta, "note": "prize"}
    )
    assert response.status_code == 201, response.json
    return response.json["new_total_xp"]


def milestones(total_xp):
    """The XP milestone keys a total reaches, worked out here: 100, 500 and 1000 XP."""
    return [f"xp-{xp}" for xp in (100, 500, 1000) if total_xp >= xp]


def evaluate(app, user_id):
    with app.app_context():
        return achievements.evaluate(user_id)


def held(app, user_id):
    with app.app_context():
        return set(
            db.session.scalars(
                select(UserAchievement.key).where(UserAchievement.user_id == user_id)
            )
        )


def events(app, user_id):
    with app.app_context():
        return [
            (row.key, row.kind)
            for row in db.session.scalars(
                select(AchievementEvent)
                .where(AchievementEvent.user_id == user_id)
                .order_by(AchievementEvent.id)
            )
        ]


def test_a_first_completion_earns_first_completion_and_its_level(
    app, levels, player, player_client
):
    total = complete(player_client, level_id=1)["new_total_xp"]
    result = evaluate(app, player.id)
    assert result.earned == ["first-completion", "level-1", *milestones(total)]
    assert result.revoked == []
    assert held(app, player.id) == set(result.earned)
    assert events(app, player.id) == [(key, "earned") for key in result.earned]


@pytest.mark.parametrize("level_id", [1, 2, 3, 4, 5])
def test_each_level_earns_its_own_achievement(app, levels, player, player_client, level_id):
    complete(player_client, level_id=level_id)
    earned = evaluate(app, player.id).earned
    assert f"level-{level_id}" in earned
    assert [key for key in earned if key.startswith("level-")] == [f"level-{level_id}"]


def test_all_levels_is_earned_by_the_fifth_level_not_before(app, levels, player, player_client):
    for level_id in (1, 2, 3, 4):
        complete(player_client, level_id=level_id)
    assert "all-levels" not in evaluate(app, player.id).earned
    total = complete(player_client, level_id=5)["new_total_xp"]
    earned = evaluate(app, player.id).earned
    assert "all-levels" in earned and "level-5" in earned
    assert held(app, player.id) == {
        "first-completion",
        "level-1",
        "level-2",
        "level-3",
        "level-4",
        "level-5",
        "all-levels",
        *milestones(total),
    }


@pytest.mark.parametrize(
    ("hints_used", "is_hint_free"),
    [(0, True), (1, False), (None, False)],
    ids=["no-hints", "one-hint", "hints-not-reported"],
)
def test_a_run_without_hints_earns_hint_free(
    app, levels, player, player_client, hints_used, is_hint_free
):
    complete(player_client, hints_used=hints_used)
    assert ("hint-free" in evaluate(app, player.id).earned) is is_hint_free


@pytest.mark.parametrize(
    ("level_id", "score", "is_perfect"),
    [(1, 1000, True), (1, 999, False), (5, 1000, False), (5, 1500, True)],
)
def test_the_level_s_highest_score_earns_perfect_score(
    app, levels, player, player_client, level_id, score, is_perfect
):
    complete(player_client, level_id=level_id, score=score)
    assert ("perfect-score" in evaluate(app, player.id).earned) is is_perfect


def test_evaluating_again_changes_nothing(app, levels, player, player_client):
    complete(player_client, level_id=1, score=MAX_SCORE[1], hints_used=0)
    first = evaluate(app, player.id)
    assert {"first-completion", "level-1", "hint-free", "perfect-score"} <= set(first.earned)
    rows, recorded = held(app, player.id), events(app, player.id)
    for _ in range(3):
        again = evaluate(app, player.id)
        assert (again.earned, again.revoked) == ([], [])
    assert held(app, player.id) == rows
    assert events(app, player.id) == recorded


def test_a_revocation_takes_away_what_depended_on_the_completion(
    app, levels, player, player_client, admin_client
):
    perfect = complete(player_client, level_id=1, score=MAX_SCORE[1], hints_used=0)
    complete(player_client, level_id=2, score=500, hints_used=3)
    evaluate(app, player.id)
    revoke(admin_client, perfect["completion_id"])
    total = player_client.get("/api/levels/progress").json["total_xp"]
    result = evaluate(app, player.id)
    assert result.earned == []
    taken = [key for key in result.revoked if not key.startswith("xp-")]
    assert taken == ["level-1", "hint-free", "perfect-score"]
    assert held(app, player.id) == {"first-completion", "level-2", *milestones(total)}
    assert events(app, player.id)[-len(result.revoked) :] == [
        (key, "revoked") for key in result.revoked
    ]
    assert evaluate(app, player.id) == achievements.Evaluation(earned=[], revoked=[])


def test_a_level_done_twice_keeps_its_achievement_when_one_run_is_revoked(
    app, levels, player, player_client, admin_client
):
    first = complete(player_client, level_id=3, score=600)
    complete(player_client, level_id=3, score=650)
    evaluate(app, player.id)
    revoke(admin_client, first["completion_id"])
    assert "level-3" not in evaluate(app, player.id).revoked
    assert {"first-completion", "level-3"} <= held(app, player.id)


def test_a_reset_takes_away_every_completion_s_achievements(
    app, levels, player, player_client, admin_client
):
    complete(player_client, level_id=1, hints_used=0)
    complete(player_client, level_id=4)
    evaluate(app, player.id)
    response = admin_client.post(f"/api/admin/users/{player.id}/reset", json={"note": "reset"})
    assert response.status_code == 200
    result = evaluate(app, player.id)
    assert [key for key in result.revoked if not key.startswith("xp-")] == [
        "first-completion",
        "level-1",
        "level-4",
        "hint-free",
    ]
    assert held(app, player.id) == set(milestones(response.json["new_total_xp"]))


def test_xp_milestones_follow_the_total_both_ways(app, player, admin_client):
    adjust(admin_client, player.id, 99)
    assert evaluate(app, player.id).earned == []
    adjust(admin_client, player.id, 1)
    assert evaluate(app, player.id).earned == ["xp-100"]
    adjust(admin_client, player.id, 900)
    assert evaluate(app, player.id).earned == ["xp-500", "xp-1000"]
    adjust(admin_client, player.id, -501)  # 499 left
    result = evaluate(app, player.id)
    assert (result.earned, result.revoked) == ([], ["xp-500", "xp-1000"])
    assert held(app, player.id) == {"xp-100"}
    assert events(app, player.id) == [
        ("xp-100", "earned"),
        ("xp-500", "earned"),
        ("xp-1000", "earned"),
        ("xp-500", "revoked"),
        ("xp-1000", "revoked"),
    ]


def test_an_unknown_player_changes_nothing(app, levels):
    assert evaluate(app, 987654) == achievements.Evaluation(earned=[], revoked=[])


def test_for_player_lists_the_whole_catalog_with_what_was_earned(
    app, levels, player, player_client
):
    complete(player_client, level_id=2)
    evaluate(app, player.id)
    with app.app_context():
        listed = achievements.for_player(player.id)
    assert [entry.key for entry in listed] == factories.ACHIEVEMENT_KEYS
    earned = {entry.key for entry in listed if entry.earned_at is not None}
    assert earned == held(app, player.id) and {"first-completion", "level-2"} <= earned


def test_a_notice_is_marked_seen_once(app, levels, player, player_client):
    complete(player_client, level_id=1)
    evaluate(app, player.id)
    with app.app_context():
        news = [achievement.key for achievement in achievements.unseen(player.id)]
        assert news[:2] == ["first-completion", "level-1"]
        assert [a.key for a in achievements.mark_seen(player.id, news)] == news
        assert achievements.mark_seen(player.id, news) == []
        assert achievements.unseen(player.id) == []


def test_another_player_s_evaluation_leaves_mine_alone(app, levels, player, player_client):
    with app.app_context():
        rival = factories.make_user("rival")
    complete(player_client, level_id=1)
    assert evaluate(app, rival.id) == achievements.Evaluation(earned=[], revoked=[])
    assert held(app, rival.id) == set()
    assert "level-1" in evaluate(app, player.id).earned


@pytest.mark.postgres_only
def test_fifty_concurrent_evaluations_award_each_achievement_once(
    app, levels, player, player_client
):
    complete(player_client, level_id=1, score=MAX_SCORE[1], hints_used=0)
    total = complete(player_client, level_id=2)["new_total_xp"]
    expected = {
        "first-completion",
        "level-1",
        "level-2",
        "hint-free",
        "perfect-score",
        *milestones(total),
    }
    runs = 50
    start = threading.Barrier(runs, timeout=30)
    results, failures = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(achievements.evaluate(player.id))
            except Exception as error:  # a thread cannot fail the test itself: collected
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == runs
    awarded = [key for result in results for key in result.earned]
    assert sorted(awarded) == sorted(expected)
    assert all(result.revoked == [] for result in results)
    assert held(app, player.id) == expected
    assert sorted(events(app, player.id)) == sorted((key, "earned") for key in expected)
