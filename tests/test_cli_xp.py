"""`flask xp verify|adjust|revoke`: what an operator types and reads, and the exit status."""

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import LevelCompletion, XPHistory

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


@pytest.fixture()
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def complete(client, **changes):
    response = client.post("/api/levels/complete", json=BODY | changes)
    assert response.status_code == 200, response.json
    return response.json


def total_xp(client):
    return client.get("/api/levels/progress").json["total_xp"]


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_verify_on_an_empty_database_reports_no_problems(cli):
    result = cli("xp", "verify")
    assert result.exit_code == 0
    assert one_line(result) == "ledger verified: 0 users, 0 entries, no problems"


def test_verify_after_real_play_exits_0_with_the_counts(cli, levels, player_client):
    complete(player_client)
    complete(player_client, level_id=2)
    result = cli("xp", "verify")
    assert result.exit_code == 0, result.output
    assert one_line(result) == "ledger verified: 1 users, 2 entries, no problems"


def test_verify_exits_1_naming_the_broken_invariant_and_player(
    app, cli, levels, player, player_client
):
    awarded = complete(player_client)["awarded_xp"]
    with app.app_context():
        db.session.execute(
            text("UPDATE users SET total_xp = total_xp + 20 WHERE id = :user"), {"user": player.id}
        )
        db.session.commit()
    result = cli("xp", "verify")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"invariant 1, user {player.id}: total_xp {awarded + 20} != sum of deltas {awarded}",
        "ledger NOT verified: 1 problems in 1 users, 1 entries",
    ]


def test_adjust_by_name_or_email_prints_the_new_total(cli, player, player_client):
    first = cli("xp", "adjust", "player1", "120", "--note", "beta tester bonus")
    assert first.exit_code == 0, first.output
    assert one_line(first).endswith("new total 120 XP")
    assert "adjusted player1 by +120 XP" in first.output
    second = cli("xp", "adjust", "PLAYER1@example.test", "-50", "--note", "refund")
    assert second.exit_code == 0, second.output
    assert one_line(second).endswith("new total 70 XP")
    assert total_xp(player_client) == 70


def test_adjust_accepts_the_note_before_a_negative_delta(cli, player, player_client):
    cli("xp", "adjust", "player1", "30", "--note", "seed")
    result = cli("xp", "adjust", "--note", "typo fix", "player1", "-30")
    assert result.exit_code == 0, result.output
    assert total_xp(player_client) == 0


def test_adjust_records_the_note_in_the_ledger(app, cli, player):
    cli("xp", "adjust", "player1", "15", "--note", "  meetup raffle ")
    with app.app_context():
        entry = db.session.scalars(select(XPHistory)).one()
        assert (entry.reason, entry.delta, entry.extra) == (
            "manual_adjustment",
            15,
            {"note": "meetup raffle", "actor_id": None},
        )


def test_revoke_reverses_the_completion_and_prints_the_new_total(app, cli, levels, player_client):
    recorded = complete(player_client)
    result = cli("xp", "revoke", str(recorded["completion_id"]), "--note", "shared account")
    assert result.exit_code == 0, result.output
    assert one_line(result) == (
        f"revoked completion {recorded['completion_id']}: "
        f"reversed {recorded['awarded_xp']} XP; new total 0 XP"
    )
    assert total_xp(player_client) == 0
    with app.app_context():
        assert db.session.get(LevelCompletion, recorded["completion_id"]).revoked_at is not None
    assert cli("xp", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["xp", "adjust", "nobody", "10", "--note", "x"], "No user named 'nobody'"),
        (["xp", "adjust", "player1", "0", "--note", "x"], "delta: Use a non-zero whole number"),
        (["xp", "adjust", "player1", "-50", "--note", "x"], "below zero"),
        (["xp", "adjust", "player1", "ten", "--note", "x"], "DELTA must be a whole number"),
        (["xp", "adjust", "player1", "2000000", "--note", "x"], "delta:"),
        (["xp", "adjust", "player1", "10", "--note", "  "], "note: Say why"),
        (["xp", "revoke", "4242", "--note", "x"], "No completion with id 4242"),
        (["xp", "revoke", "1", "--note", ""], "note: Say why"),
    ],
)
def test_bad_input_exits_1_with_a_one_line_reason(app, cli, player, args, reason):
    result = cli(*args)
    assert result.exit_code == 1
    assert reason in one_line(result)
    with app.app_context():
        assert db.session.scalars(select(XPHistory)).all() == []


def test_revoking_twice_exits_1_and_reverses_once(app, cli, levels, player_client):
    recorded = complete(player_client)
    completion_id = str(recorded["completion_id"])
    assert cli("xp", "revoke", completion_id, "--note", "x").exit_code == 0
    again = cli("xp", "revoke", completion_id, "--note", "x")
    assert again.exit_code == 1
    assert "already revoked" in one_line(again)
    with app.app_context():
        reversals = db.session.scalars(
            select(XPHistory).where(XPHistory.reason == "completion_revoked")
        ).all()
        assert [entry.delta for entry in reversals] == [-recorded["awarded_xp"]]
