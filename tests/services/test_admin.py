"""Operator units of work: all or nothing, whatever fails inside them."""

import pytest
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import LevelCompletion, User, UserLevelProgress, XPHistory
from app.services import admin

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


def fail(*args, **kwargs):
    raise RuntimeError("injected failure")


def ledger_state(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(XPHistory)),
            db.session.scalar(select(func.sum(User.total_xp))),
            db.session.scalar(select(func.count()).where(LevelCompletion.revoked_at.is_not(None))),
            db.session.execute(
                select(UserLevelProgress.xp_earned, UserLevelProgress.completions_count)
            ).all(),
        )


def test_a_failure_after_the_adjustment_entry_leaves_nothing_behind(app, player, monkeypatch):
    before = ledger_state(app)
    monkeypatch.setattr(admin, "newest_entry", fail)
    with app.app_context(), pytest.raises(RuntimeError):
        admin.adjust_xp(player.id, 50, "bonus")
    assert ledger_state(app) == before


@pytest.mark.parametrize("step", ["newest_entry", "remove_from_progress"])
def test_a_failure_mid_revocation_leaves_nothing_behind(
    app, levels, player_client, monkeypatch, step
):
    completion_id = player_client.post("/api/levels/complete", json=BODY).json["completion_id"]
    before = ledger_state(app)
    monkeypatch.setattr(admin, step, fail)
    with app.app_context(), pytest.raises(RuntimeError):
        admin.revoke_completion(completion_id, "cheated")
    assert ledger_state(app) == before


@pytest.mark.parametrize(
    ("delta", "note", "field"),
    [
        (0, "x", "delta"),
        (True, "x", "delta"),
        (1.0, "x", "delta"),
        ("5", "x", "delta"),
        (1_000_001, "x", "delta"),
        (5, "", "note"),
        (5, "\t", "note"),
        (5, None, "note"),
        (5, "x" * 501, "note"),
    ],
)
def test_a_bad_adjustment_is_refused_before_anything_is_written(app, player, delta, note, field):
    with app.app_context():
        with pytest.raises(ValidationFailed) as raised:
            admin.adjust_xp(player.id, delta, note)
        assert field in raised.value.fields
    assert ledger_state(app)[0] == 0


def test_the_largest_adjustment_is_accepted(app, player):
    with app.app_context():
        result = admin.adjust_xp(player.id, 1_000_000, "x" * 500)
        assert result.new_total_xp == 1_000_000
        assert result.entry.balance_after == 1_000_000
