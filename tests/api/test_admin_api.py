"""The admin API: XP adjustments, completion revocations and resets, by administrators only,
always as appended ledger entries; corrections never cancel one another."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LevelCompletion, User, XPHistory
from app.services import audit
from tests import factories

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


def complete(client, **changes):
    response = client.post("/api/levels/complete", json=BODY | changes)
    assert response.status_code == 200, response.json
    return response.json


def adjust(client, user_id, delta, note="goodwill"):
    return client.post(
        f"/api/admin/users/{user_id}/xp-adjustments", json={"delta": delta, "note": note}
    )


def revoke(client, completion_id, note="cheated"):
    return client.post(f"/api/admin/completions/{completion_id}/revoke", json={"note": note})


def player_total(client):
    return client.get("/api/levels/progress").json["total_xp"]


def level_standing(client, level_id=1):
    levels = client.get("/api/levels/progress").json["levels"]
    return next(level for level in levels if level["level_id"] == level_id)


def history(client):
    return client.get("/api/xp/history").json["items"]


def ledger_rows(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(LevelCompletion)),
            db.session.scalar(select(func.count()).select_from(XPHistory)),
            db.session.scalar(select(func.sum(User.total_xp))),
        )


def test_an_adjustment_appends_an_entry_and_raises_the_total(
    app, admin_client, admin_user, player, player_client
):
    response = adjust(admin_client, player.id, 75, note="  tournament prize  ")
    assert response.status_code == 201
    body = response.json
    assert body["success"] is True and body["new_total_xp"] == 75
    entry = body["entry"]
    assert set(entry) == {"id", "delta", "balance_after", "reason", "reference_id", "created_at"}
    assert entry | {"id": 0, "created_at": ""} == {
        "id": 0,
        "delta": 75,
        "balance_after": 75,
        "reason": "manual_adjustment",
        "reference_id": None,
        "created_at": "",
    }
    assert player_total(player_client) == 75
    assert [item["id"] for item in history(player_client)] == [entry["id"]]
    with app.app_context():
        stored = db.session.get(XPHistory, entry["id"])
        assert stored.extra == {"note": "tournament prize", "actor_id": admin_user.id}


def test_a_negative_adjustment_takes_xp_away(admin_client, player, player_client):
    adjust(admin_client, player.id, 100)
    response = adjust(admin_client, player.id, -40)
    assert response.status_code == 201
    assert response.json["new_total_xp"] == 60
    assert response.json["entry"]["delta"] == -40
    assert [item["balance_after"] for item in history(player_client)] == [60, 100]


def test_an_adjustment_below_zero_is_refused_and_writes_nothing(
    app, admin_client, player, player_client
):
    adjust(admin_client, player.id, 30)
    before = ledger_rows(app)
    response = adjust(admin_client, player.id, -31)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "negative_balance"
    assert response.json["error"]["balance"] == 30
    assert ledger_rows(app) == before
    assert player_total(player_client) == 30


def test_revoking_reverses_the_xp_and_keeps_the_completion_row(
    app, admin_client, levels, player_client
):
    recorded = complete(player_client)
    awarded, completion_id = recorded["awarded_xp"], recorded["completion_id"]
    response = revoke(admin_client, completion_id)
    assert response.status_code == 200
    body = response.json
    assert body | {"entry": None} == {
        "success": True,
        "completion_id": completion_id,
        "reversed_xp": awarded,
        "new_total_xp": 0,
        "entry": None,
    }
    assert body["entry"]["delta"] == -awarded
    assert body["entry"]["reason"] == "completion_revoked"
    assert body["entry"]["reference_id"] == completion_id
    assert body["entry"]["balance_after"] == 0
    assert [item["reason"] for item in history(player_client)] == [
        "completion_revoked",
        "level_completion",
    ]
    assert player_total(player_client) == 0
    standing = level_standing(player_client)
    assert standing | {"first_completed_at": None, "last_completed_at": None} == standing | {
        "completed": False,
        "best_score": None,
        "xp_earned": 0,
        "completions": 0,
        "first_completed_at": None,
        "last_completed_at": None,
    }
    with app.app_context():
        row = db.session.get(LevelCompletion, completion_id)
        assert row is not None and row.revoked_at is not None
        assert row.awarded_xp == awarded


def test_after_a_revocation_replaying_the_level_earns_its_xp_again(
    admin_client, levels, player_client
):
    first = complete(player_client)
    revoke(admin_client, first["completion_id"])
    again = complete(player_client)
    assert again["is_new_completion"] is True
    assert again["completion_id"] != first["completion_id"]
    assert again["awarded_xp"] == first["awarded_xp"]
    assert again["new_total_xp"] == first["awarded_xp"]
    assert level_standing(player_client)["completions"] == 1


def test_revoking_the_best_run_restores_the_best_remaining_score(
    admin_client, levels, player_client
):
    first = complete(player_client)
    better = complete(player_client, score=950)
    assert better["awarded_xp"] > 0
    response = revoke(admin_client, better["completion_id"])
    assert response.json["reversed_xp"] == better["awarded_xp"]
    assert response.json["new_total_xp"] == first["awarded_xp"]
    standing = level_standing(player_client)
    assert (standing["best_score"], standing["xp_earned"], standing["completions"]) == (
        850,
        first["awarded_xp"],
        1,
    )


def test_revoking_a_completion_that_earned_nothing_appends_no_entry(
    app, admin_client, levels, player_client
):
    best = complete(player_client, score=950)
    worse = complete(player_client, score=850)
    assert worse["awarded_xp"] == 0
    before = ledger_rows(app)
    response = revoke(admin_client, worse["completion_id"])
    assert response.status_code == 200
    assert response.json["reversed_xp"] == 0 and response.json["entry"] is None
    assert response.json["new_total_xp"] == best["awarded_xp"]
    assert ledger_rows(app) == before
    standing = level_standing(player_client)
    assert (standing["best_score"], standing["completions"]) == (950, 1)


def test_a_reversal_takes_back_exactly_the_award_even_below_zero(
    app, admin_client, levels, player, player_client
):
    recorded = complete(player_client)
    adjust(admin_client, player.id, -(recorded["awarded_xp"] - 5))
    response = revoke(admin_client, recorded["completion_id"])
    assert response.status_code == 200
    assert response.json["reversed_xp"] == recorded["awarded_xp"]
    assert response.json["entry"]["delta"] == -recorded["awarded_xp"]
    assert response.json["new_total_xp"] == 5 - recorded["awarded_xp"]
    assert player_total(player_client) == 5 - recorded["awarded_xp"]
    assert level_standing(player_client)["xp_earned"] == 0
    with app.app_context():
        assert audit.verify_ledger().problems == []


def test_a_penalty_survives_a_revocation_and_a_replay(
    app, admin_client, levels, player, player_client
):
    """The measured case: a penalty, then the revocation of the run it was taken from, then a
    replay of the level. Before, the reversal was capped and the replay gave the penalty back."""
    recorded = complete(player_client)
    earned, completion_id = recorded["awarded_xp"], recorded["completion_id"]
    assert earned > 30
    assert adjust(admin_client, player.id, -30, note="penalty").status_code == 201
    assert revoke(admin_client, completion_id).json["reversed_xp"] == earned
    assert player_total(player_client) == -30
    replay = complete(player_client)
    assert replay["awarded_xp"] == earned
    assert player_total(player_client) == earned - 30
    assert [entry["delta"] for entry in reversed(history(player_client))] == [
        earned,
        -30,
        -earned,
        earned,
    ]
    with app.app_context():
        assert audit.verify_ledger().problems == []


def test_an_adjustment_may_raise_a_total_that_is_below_zero(
    admin_client, levels, player, player_client
):
    recorded = complete(player_client)
    adjust(admin_client, player.id, -recorded["awarded_xp"])
    revoke(admin_client, recorded["completion_id"])
    assert player_total(player_client) == -recorded["awarded_xp"]
    response = adjust(admin_client, player.id, -1)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "negative_balance"
    response = adjust(admin_client, player.id, 10)
    assert response.status_code == 201
    assert response.json["new_total_xp"] == 10 - recorded["awarded_xp"]


def reset(client, user_id, note="start over"):
    return client.post(f"/api/admin/users/{user_id}/reset", json={"note": note})


def test_a_reset_revokes_every_standing_completion_and_leaves_the_adjustments(
    app, admin_client, admin_user, levels, player, player_client
):
    first = complete(player_client)
    complete(player_client, level_id=2, score=700)
    adjust(admin_client, player.id, 40, note="prize")
    adjust(admin_client, player.id, -15, note="penalty")
    assert revoke(admin_client, first["completion_id"]).status_code == 200
    complete(player_client, score=900)
    response = reset(admin_client, player.id, note="season reset")
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True and body["user_id"] == player.id
    assert body["revoked_completions"] == 2
    assert body["new_total_xp"] == 40 - 15
    assert player_total(player_client) == 25
    progress = player_client.get("/api/levels/progress").json
    assert progress["completed_levels"] == 0
    assert all(level["xp_earned"] == 0 for level in progress["levels"])
    with app.app_context():
        reversals = db.session.scalars(
            select(XPHistory)
            .where(XPHistory.reason == "completion_revoked")
            .order_by(XPHistory.id)  # the ledger's order, not wherever PostgreSQL put the rows
        ).all()
        assert all(entry.extra["actor_id"] == admin_user.id for entry in reversals)
        assert [entry.extra.get("reset") for entry in reversals] == [None, True, True]
        assert {entry.extra["note"] for entry in reversals[1:]} == {"season reset"}
        assert audit.verify_ledger().problems == []


def test_resetting_a_player_with_nothing_to_revoke_changes_nothing(
    app, admin_client, player, player_client
):
    before = ledger_rows(app)
    response = reset(admin_client, player.id)
    assert response.status_code == 200
    assert (response.json["revoked_completions"], response.json["new_total_xp"]) == (0, 0)
    assert ledger_rows(app) == before


def test_a_reset_without_a_note_is_a_400_and_revokes_nothing(
    app, admin_client, levels, player, player_client
):
    complete(player_client)
    before = ledger_rows(app)
    response = admin_client.post(f"/api/admin/users/{player.id}/reset", json={})
    assert response.status_code == 400
    assert "note" in response.json["error"]["fields"]
    assert ledger_rows(app) == before
    assert player_total(player_client) > 0


def test_revoking_twice_is_a_conflict_and_reverses_once(app, admin_client, levels, player_client):
    completion_id = complete(player_client)["completion_id"]
    assert revoke(admin_client, completion_id).status_code == 200
    before = ledger_rows(app)
    response = revoke(admin_client, completion_id)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "already_revoked"
    assert ledger_rows(app) == before


def test_the_ledger_verifies_clean_after_adjustments_and_revocations(
    app, admin_client, levels, player, player_client
):
    first = complete(player_client)
    better = complete(player_client, score=950)
    other = complete(player_client, level_id=2, score=700)
    adjust(admin_client, player.id, 40)
    revoke(admin_client, better["completion_id"])
    adjust(admin_client, player.id, -(first["awarded_xp"] + other["awarded_xp"] + 35))
    revoke(admin_client, other["completion_id"])  # capped: only 5 XP left to take
    revoke(admin_client, first["completion_id"])
    complete(player_client)
    with app.app_context():
        report = audit.verify_ledger()
    assert report.problems == []
    assert report.entries_checked == len(history(player_client))


def test_a_player_gets_403_and_changes_nothing(app, levels, player, player_client):
    completion_id = complete(player_client)["completion_id"]
    before = ledger_rows(app)
    for response in (
        adjust(player_client, player.id, 1000),
        revoke(player_client, completion_id),
        reset(player_client, player.id),
    ):
        assert response.status_code == 403
        assert response.json["error"]["code"] == "admin_only"
    assert ledger_rows(app) == before
    with app.app_context():
        assert db.session.get(LevelCompletion, completion_id).revoked_at is None


def test_a_player_token_gets_403_too(app, player, levels):
    with app.app_context():
        secret = factories.make_token(player)
    response = app.test_client().post(
        f"/api/admin/users/{player.id}/xp-adjustments",
        json={"delta": 5, "note": "me"},
        headers=factories.bearer(secret),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "admin_only"


def test_an_admin_token_can_adjust(app, admin_user, player):
    with app.app_context():
        secret = factories.make_token(admin_user)
    response = app.test_client().post(
        f"/api/admin/users/{player.id}/xp-adjustments",
        json={"delta": 5, "note": "scripted"},
        headers=factories.bearer(secret),
    )
    assert response.status_code == 201 and response.json["new_total_xp"] == 5


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/users/1/xp-adjustments",
        "/api/admin/completions/1/revoke",
        "/api/admin/users/1/reset",
    ],
)
def test_an_anonymous_caller_gets_401(client, path):
    response = client.post(path, json={"delta": 5, "note": "x"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_required"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "delta"),
        ({"note": "x"}, "delta"),
        ({"delta": 5}, "note"),
        ({"delta": 0, "note": "x"}, "delta"),
        ({"delta": "5", "note": "x"}, "delta"),
        ({"delta": 1.5, "note": "x"}, "delta"),
        ({"delta": True, "note": "x"}, "delta"),
        ({"delta": None, "note": "x"}, "delta"),
        ({"delta": 1_000_001, "note": "x"}, "delta"),
        ({"delta": -1_000_001, "note": "x"}, "delta"),
        ({"delta": 5, "note": ""}, "note"),
        ({"delta": 5, "note": "   "}, "note"),
        ({"delta": 5, "note": "x" * 501}, "note"),
        ({"delta": 5, "note": 7}, "note"),
        ({"delta": 5, "note": "x", "user_id": 1}, "user_id"),
    ],
)
def test_a_bad_adjustment_body_is_a_400_naming_the_field(app, admin_client, player, body, field):
    before = ledger_rows(app)
    response = admin_client.post(f"/api/admin/users/{player.id}/xp-adjustments", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]
    assert ledger_rows(app) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "note"),
        ({"note": ""}, "note"),
        ({"note": " \n "}, "note"),
        ({"note": None}, "note"),
        ({"note": "x" * 501}, "note"),
        ({"note": "x", "reversed_xp": 0}, "reversed_xp"),
    ],
)
def test_a_bad_revocation_body_is_a_400_naming_the_field(
    app, admin_client, levels, player_client, body, field
):
    completion_id = complete(player_client)["completion_id"]
    response = admin_client.post(f"/api/admin/completions/{completion_id}/revoke", json=body)
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]
    with app.app_context():
        assert db.session.get(LevelCompletion, completion_id).revoked_at is None


@pytest.mark.parametrize("body", ["[1, 2]", "not json"])
def test_a_body_that_is_not_a_json_object_is_a_400(admin_client, player, body):
    response = admin_client.post(
        f"/api/admin/users/{player.id}/xp-adjustments",
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/admin/users/999999/xp-adjustments", {"delta": 5, "note": "x"}, "user_not_found"),
        ("/api/admin/completions/999999/revoke", {"note": "x"}, "completion_not_found"),
        ("/api/admin/users/999999/reset", {"note": "x"}, "user_not_found"),
    ],
)
def test_an_unknown_id_is_a_404(admin_client, path, body, code):
    response = admin_client.post(path, json=body)
    assert response.status_code == 404
    assert response.json["error"]["code"] == code
