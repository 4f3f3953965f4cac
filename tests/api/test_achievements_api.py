"""GET /api/achievements: the whole catalog for the caller, each with when they earned it."""

from datetime import datetime

from app.services import achievements
from tests import factories

BODY = {"level_id": 1, "score": 1000, "time_spent": 300, "metadata": {"hints_used": 0}}


def test_an_anonymous_caller_is_401_json(client):
    response = client.get("/api/achievements")
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "authentication_required"


def test_a_new_player_sees_every_achievement_unearned(player_client):
    response = player_client.get("/api/achievements")
    assert response.status_code == 200
    listed = response.json["achievements"]
    assert set(response.json) == {"achievements"}
    assert [entry["key"] for entry in listed] == factories.ACHIEVEMENT_KEYS
    for entry in listed:
        assert set(entry) == {"key", "name", "description", "icon", "earned_at"}
        assert entry["earned_at"] is None
        assert entry["name"] and entry["description"]
        assert entry["icon"].startswith("bi-")


def test_an_earned_achievement_says_when(app, levels, player, player_client):
    assert player_client.post("/api/levels/complete", json=BODY).status_code == 200
    with app.app_context():
        achievements.evaluate(player.id)
    listed = {
        entry["key"]: entry for entry in player_client.get("/api/achievements").json["achievements"]
    }
    for key in ("first-completion", "level-1", "hint-free", "perfect-score"):
        assert datetime.fromisoformat(listed[key]["earned_at"]).tzinfo is not None, key
    for key in ("level-2", "all-levels", "xp-1000"):
        assert listed[key]["earned_at"] is None, key
    assert listed["level-1"] | {"earned_at": None} == {
        "key": "level-1",
        "name": "The Misinformation Maze",
        "description": "Complete level 1, The Misinformation Maze.",
        "icon": "bi-newspaper",
        "earned_at": None,
    }


def test_a_bearer_token_reads_its_own_player_s_achievements(app, levels, player):
    with app.app_context():
        rival = factories.make_user("rival")
        secret = factories.make_token(rival)
    player_client = app.test_client()
    factories.sign_in(player_client, player.username)
    assert player_client.post("/api/levels/complete", json=BODY).status_code == 200
    with app.app_context():
        achievements.evaluate(player.id)
        achievements.evaluate(rival.id)
    listed = app.test_client().get("/api/achievements", headers=factories.bearer(secret)).json
    assert all(entry["earned_at"] is None for entry in listed["achievements"])
