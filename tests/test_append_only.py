"""The ledger is append-only in the database itself: statements typed by hand, as from psql or
sqlite3, cannot edit or delete it; only the documented unlock lets archival move rows."""

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import LedgerUnlock, LevelCompletion, XPHistory
from app.models.types import utcnow
from app.services import append_only, archive

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


@pytest.fixture()
def recorded(app, levels, player_client):
    """One completion and its award entry, committed."""
    response = player_client.post("/api/levels/complete", json=BODY)
    assert response.status_code == 200, response.json
    return response.json


def run_raw(app, statement):
    """Run one statement on a connection of its own and commit, as an operator at a prompt."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement))


def ledger_state(app):
    with app.app_context():
        return (
            db.session.execute(
                select(XPHistory.id, XPHistory.delta, XPHistory.balance_after).order_by(
                    XPHistory.id
                )
            ).all(),
            db.session.execute(
                select(
                    LevelCompletion.id,
                    LevelCompletion.score,
                    LevelCompletion.awarded_xp,
                    LevelCompletion.revoked_at,
                )
            ).all(),
        )


FORBIDDEN = [
    "UPDATE xp_history SET delta = delta + 100, balance_after = balance_after + 100",
    "UPDATE xp_history SET metadata = metadata",
    "DELETE FROM xp_history",
    "DELETE FROM level_completions",
    "UPDATE level_completions SET score = 1000",
    "UPDATE level_completions SET awarded_xp = 0, revoked_at = CURRENT_TIMESTAMP",
    "UPDATE level_completions SET time_spent = time_spent + 1",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_editing_or_deleting_the_ledger_by_hand_fails(app, recorded, statement):
    before = ledger_state(app)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_raw(app, statement)
    assert ledger_state(app) == before


@pytest.mark.postgres_only  # SQLite has no TRUNCATE; its DELETE is refused above
@pytest.mark.parametrize("table", ["xp_history", "xp_history_archive", "level_completions"])
def test_truncating_the_ledger_fails_on_postgresql(app, recorded, table):
    before = ledger_state(app)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_raw(app, f"TRUNCATE {table} CASCADE")
    assert ledger_state(app) == before


def test_setting_revoked_at_once_is_allowed_and_changing_it_again_is_not(app, recorded):
    completion_id = recorded["completion_id"]
    run_raw(
        app,
        f"UPDATE level_completions SET revoked_at = CURRENT_TIMESTAMP WHERE id = {completion_id}",
    )
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_raw(app, "UPDATE level_completions SET revoked_at = NULL")
    _history, completions = ledger_state(app)
    assert completions[0].revoked_at is not None


def test_the_archive_cannot_be_edited_or_deleted_either(app, recorded):
    with app.app_context():
        archive.archive_older_than(utcnow())
    for statement in ("UPDATE xp_history_archive SET delta = 1", "DELETE FROM xp_history_archive"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            run_raw(app, statement)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(archive.archive)) == 1


def test_the_unlock_lets_its_own_transaction_through_and_leaves_nothing_behind(app, recorded):
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        with append_only.unlocked(connection, "a test"):
            connection.execute(text("UPDATE xp_history SET metadata = metadata"))
        transaction.rollback()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerUnlock)) == 0
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_raw(app, "DELETE FROM xp_history")


def test_a_revocation_through_the_product_still_works(app, admin_client, recorded):
    response = admin_client.post(
        f"/api/admin/completions/{recorded['completion_id']}/revoke", json={"note": "cheated"}
    )
    assert response.status_code == 200, response.json
    _history, completions = ledger_state(app)
    assert completions[0].revoked_at is not None
