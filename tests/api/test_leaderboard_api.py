"""GET /api/leaderboard: public, validated, and the caller's own standing when signed in."""

import pytest

from app.services import admin
from tests import factories

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


@pytest.fixture()
def rival(app):
    with app.app_context():
        user = factories.make_user("rival")
        admin.adjust_xp(user.id, 100, "seeded standing")
        return user


def test_anyone_may_read_the_board_and_has_no_standing(client, rival):
    response = client.get("/api/leaderboard")
    assert response.status_code == 200
    assert response.json == {
        "period": "all",
        "starts_at": None,
        "ends_at": None,
        "entries": [{"rank": 1, "username": "rival", "xp": 100}],
        "me": None,
    }


def test_a_signed_in_player_sees_their_award_and_their_rank_at_once(player_client, levels, rival):
    awarded = player_client.post("/api/levels/complete", json=BODY).json["awarded_xp"]
    assert 0 < awarded < 100
    for period in ("all", "week", "month"):
        board = player_client.get(f"/api/leaderboard?period={period}").json
        assert board["entries"] == [
            {"rank": 1, "username": "rival", "xp": 100},
            {"rank": 2, "username": "player1", "xp": awarded},
        ]
        assert board["me"] == {"rank": 2, "xp": awarded}


def test_a_bearer_token_caller_gets_their_standing(app, client, player, rival):
    with app.app_context():
        admin.adjust_xp(player.id, 40, "seeded standing")
        headers = factories.bearer(factories.make_token(player))
    board = client.get("/api/leaderboard?limit=1", headers=headers).json
    assert board["entries"] == [{"rank": 1, "username": "rival", "xp": 100}]
    assert board["me"] == {"rank": 2, "xp": 40}


def test_a_week_board_reports_its_bounds(client, rival):
    board = client.get("/api/leaderboard?period=week").json
    assert board["period"] == "week"
    assert board["starts_at"].endswith("T00:00:00+00:00")
    assert board["ends_at"] > board["starts_at"]
    assert board["entries"] == [{"rank": 1, "username": "rival", "xp": 100}]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=year", "period"),
        ("period=", "period"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_bad_queries_are_refused(client, query, field):
    response = client.get(f"/api/leaderboard?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]


def test_a_revocation_takes_the_award_off_every_board_at_once(app, player_client, levels, rival):
    completion_id = player_client.post("/api/levels/complete", json=BODY).json["completion_id"]
    with app.app_context():
        admin.revoke_completion(completion_id, "replayed a recording")
    for period in ("all", "week", "month"):
        board = player_client.get(f"/api/leaderboard?period={period}").json
        assert board["entries"] == [{"rank": 1, "username": "rival", "xp": 100}]
        assert board["me"] is None


def test_an_adjustment_moves_a_player_up_at_once(app, player, player_client, levels, rival):
    awarded = player_client.post("/api/levels/complete", json=BODY).json["awarded_xp"]
    with app.app_context():
        admin.adjust_xp(player.id, 100, "tournament prize")
    for period in ("all", "week", "month"):
        board = player_client.get(f"/api/leaderboard?period={period}").json
        assert board["entries"][0] == {"rank": 1, "username": "player1", "xp": awarded + 100}
        assert board["me"] == {"rank": 1, "xp": awarded + 100}
