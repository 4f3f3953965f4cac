"""`flask leaderboard rebuild|prune`, and `flask xp verify` catching totals the boards read that
the ledger does not add up to (invariant 6)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from app.extensions import db
from app.models import LeaderboardTotal
from app.models.types import utcnow
from app.services import leaderboard

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


@pytest.fixture()
def awarded(levels, player_client):
    response = player_client.post("/api/levels/complete", json=BODY)
    assert response.status_code == 200, response.json
    return response.json["awarded_xp"]


def board(client, period):
    return client.get(f"/api/leaderboard?period={period}").json["entries"]


def test_totals_changed_behind_the_apps_back_fail_verify_until_rebuilt(
    app, cli, player, player_client, awarded
):
    with app.app_context():
        db.session.execute(text("UPDATE leaderboard_totals SET xp = xp + 5 WHERE period = 'week'"))
        db.session.commit()
    assert board(player_client, "week")[0]["xp"] == awarded + 5
    result = cli("xp", "verify")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"invariant 6, user {player.id}: week board from ")
    assert f"{awarded + 5} XP" in lines[0] and f"the ledger's {awarded} XP" in lines[0]
    assert lines[-1] == "ledger NOT verified: 1 problems in 1 users, 1 entries"

    rebuilt = cli("leaderboard", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.output.strip() == "leaderboard totals rebuilt: all 1, week 1, month 1"
    assert board(player_client, "week")[0]["xp"] == awarded
    assert cli("xp", "verify").exit_code == 0


def test_prune_deletes_only_the_totals_of_ended_periods(app, cli, player, player_client, awarded):
    with app.app_context():
        starts = leaderboard.period_starts(utcnow())
        db.session.execute(
            insert(LeaderboardTotal),
            [
                {
                    "period": period,
                    "starts_at": starts[period] - timedelta(days=40),
                    "user_id": player.id,
                    "xp": 7,
                    "last_entry_id": 1,
                }
                for period in ("week", "month")
            ],
        )
        db.session.commit()
    result = cli("leaderboard", "prune")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "pruned 2 totals of ended periods"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LeaderboardTotal)) == 3
    assert [entry["xp"] for entry in board(player_client, "month")] == [awarded]
    assert cli("xp", "verify").exit_code == 0
