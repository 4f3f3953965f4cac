"""verify_ledger: a ledger built by real play verifies clean; each corruption is named and pinned
on the player it belongs to."""

import uuid

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import User
from app.services import append_only, audit
from tests import factories
from tests.conftest import empty_every_table

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}
EVENT_ID_INDEX = "uq_level_completions_user_id_client_event_id"


def complete(client, **changes):
    body = BODY | {"client_event_id": str(uuid.uuid4())} | changes
    response = client.post("/api/levels/complete", json=body)
    assert response.status_code == 200, response.json
    assert response.json["awarded_xp"] > 0
    return response.json


def play(client):
    """Level 1 twice (the second run better, so it earns the difference) and level 2 once."""
    complete(client)
    complete(client, score=950)
    complete(client, level_id=2, score=600)


@pytest.fixture()
def played(app, levels, player, player_client):
    """The player and a bystander, each with three awarding completions over two levels."""
    play(player_client)
    with app.app_context():
        bystander = factories.make_user("bystander")
    bystander_client = app.test_client()
    factories.sign_in(bystander_client, bystander.username)
    play(bystander_client)
    return player


def corrupt(app, statement, **params):
    """Change rows behind the app's back, as an operator who lifted the ledger's lock could."""
    with app.app_context():
        with append_only.unlocked(db.session.connection(), "test corruption"):
            db.session.execute(text(statement), params)
        db.session.commit()


def verify(app, user_id=None):
    with app.app_context():
        return audit.verify_ledger(user_id)


def user_id_of(app, username):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def total_xp(app, user_id):
    with app.app_context():
        return db.session.scalar(select(User.total_xp).where(User.id == user_id))


def test_an_empty_database_verifies_clean(app):
    report = verify(app)
    assert report.is_clean
    assert (report.users_checked, report.entries_checked) == (0, 0)


def test_a_ledger_built_by_real_completions_verifies_clean(app, played):
    report = verify(app)
    assert report.problems == []
    assert report.is_clean
    assert (report.users_checked, report.entries_checked) == (2, 6)


FIRST_ENTRY = "(SELECT MIN(id) FROM xp_history WHERE user_id = :user)"
LAST_ENTRY = "(SELECT MAX(id) FROM xp_history WHERE user_id = :user)"
FIRST_COMPLETION = "(SELECT MIN(id) FROM level_completions WHERE user_id = :user)"
HISTORY_COLUMNS = "user_id, delta, reason, reference_id, balance_after, metadata, created_at"

CORRUPTIONS = [
    pytest.param(
        "UPDATE users SET total_xp = total_xp + 20 WHERE id = :user",
        1,
        "!= sum of deltas",
        id="total_xp-bumped",
    ),
    pytest.param(
        f"UPDATE xp_history SET balance_after = balance_after + 7 WHERE id = {FIRST_ENTRY}",
        2,
        "!= running sum of deltas",
        id="balance_after-changed",
    ),
    pytest.param(
        f"UPDATE xp_history SET delta = delta + 1, balance_after = balance_after + 1 "
        f"WHERE id = {LAST_ENTRY}",
        3,
        "!= level_completion delta",
        id="award-entry-amount-changed",
    ),
    pytest.param(
        f"INSERT INTO xp_history ({HISTORY_COLUMNS}) SELECT {HISTORY_COLUMNS} FROM xp_history "
        f"WHERE id = {FIRST_ENTRY}",
        3,
        "2 level_completion entries (expected 1)",
        id="award-entry-duplicated",
    ),
    pytest.param(
        f"DELETE FROM xp_history WHERE id = {LAST_ENTRY}",
        3,
        "but no level_completion entry",
        id="award-entry-deleted",
    ),
    pytest.param(
        f"UPDATE xp_history SET reference_id = 999999 WHERE id = {LAST_ENTRY}",
        3,
        "reference_id 999999 is not a completion of this user",
        id="award-entry-points-nowhere",
    ),
    pytest.param(
        f"INSERT INTO xp_history ({HISTORY_COLUMNS}) SELECT user_id, -1, 'completion_revoked', "
        f"reference_id, balance_after - 1, metadata, created_at FROM xp_history "
        f"WHERE id = {LAST_ENTRY}",
        5,
        "not revoked but has 1 completion_revoked entries",
        id="reversal-of-a-live-completion",
    ),
    pytest.param(
        "UPDATE user_level_progress SET xp_earned = 1000 WHERE user_id = :user AND level_id = '1'",
        3,
        "level 1: xp_earned 1000 > xp_reward 100",
        id="xp_earned-above-reward",
    ),
    pytest.param(
        "UPDATE user_level_progress SET completions_count = completions_count + 1 "
        "WHERE user_id = :user AND level_id = '1'",
        4,
        "level 1: completions_count 3 != 2 non-revoked completions",
        id="completions_count-changed",
    ),
    pytest.param(
        "UPDATE user_level_progress SET best_score = 949 WHERE user_id = :user AND level_id = '1'",
        4,
        "level 1: best_score 949 != best non-revoked score 950",
        id="best_score-changed",
    ),
    pytest.param(
        "UPDATE user_level_progress SET xp_earned = xp_earned - 1 "
        "WHERE user_id = :user AND level_id = '2'",
        4,
        "!= sum of awarded_xp",
        id="xp_earned-changed",
    ),
    pytest.param(
        "DELETE FROM user_level_progress WHERE user_id = :user AND level_id = '2'",
        4,
        "level 2: no progress row for 1 non-revoked completions",
        id="progress-row-deleted",
    ),
    pytest.param(
        "UPDATE level_completions SET revoked_at = created_at "
        "WHERE user_id = :user AND level_id = '2'",
        4,
        "level 2: xp_earned",
        id="revoked-behind-the-progress-back",
    ),
    pytest.param(
        f"UPDATE level_completions SET awarded_xp = awarded_xp + 1 WHERE id = {FIRST_COMPLETION}",
        3,
        "!= level_completion delta",
        id="awarded_xp-changed",
    ),
]


@pytest.mark.parametrize(("statement", "invariant", "detail"), CORRUPTIONS)
def test_a_corruption_is_reported_against_its_invariant_and_player(
    app, played, statement, invariant, detail
):
    corrupt(app, statement, user=played.id)
    report = verify(app)
    assert not report.is_clean
    mine = [p for p in report.problems if (p.invariant, p.user_id) == (invariant, played.id)]
    assert mine, report.problems
    assert any(detail in p.detail for p in mine), mine
    assert {p.user_id for p in report.problems} == {played.id}


def test_a_total_that_disagrees_names_both_numbers(app, played):
    total = total_xp(app, played.id)
    corrupt(app, "UPDATE users SET total_xp = total_xp + 20 WHERE id = :user", user=played.id)
    assert verify(app).problems == [
        audit.LedgerProblem(1, played.id, f"total_xp {total + 20} != sum of deltas {total}")
    ]


def test_a_changed_balance_is_pinned_on_its_entry_and_breaks_the_next_link(app, played):
    with app.app_context():
        first, second = db.session.execute(
            text("SELECT id, delta FROM xp_history WHERE user_id = :user ORDER BY id LIMIT 2"),
            {"user": played.id},
        ).all()
    corrupt(app, "UPDATE xp_history SET balance_after = 999 WHERE id = :entry", entry=first.id)
    details = [p.detail for p in verify(app).problems if p.invariant == 2]
    assert details == [
        f"entry {first.id}: balance_after 999 != running sum of deltas {first.delta}, "
        f"!= its delta {first.delta} (first entry)",
        f"entry {second.id}: balance_after {first.delta + second.delta} "
        f"!= previous balance_after 999 + delta {second.delta} = {999 + second.delta}",
    ]


def test_a_user_with_history_but_no_total_is_reported(app, levels, player, player_client):
    complete(player_client)
    corrupt(app, "UPDATE users SET total_xp = 0 WHERE id = :user", user=player.id)
    problems = verify(app).problems
    assert [(p.invariant, p.user_id) for p in problems] == [(1, player.id)]
    assert problems[0].detail.startswith("total_xp 0 != sum of deltas ")


@pytest.fixture()
def without_event_id_index(app):
    """Drop the exactly-once index so a duplicate can be written, and restore it afterwards."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"DROP INDEX {EVENT_ID_INDEX}"))
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            empty_every_table(connection)
            connection.execute(
                text(
                    f"CREATE UNIQUE INDEX {EVENT_ID_INDEX} ON level_completions "
                    "(user_id, client_event_id) WHERE client_event_id IS NOT NULL"
                )
            )


def test_two_live_completions_with_one_event_id_are_reported(
    app, levels, player, player_client, without_event_id_index
):
    completion_id = complete(player_client)["completion_id"]
    columns = (
        "user_id, level_id, level_type, score, time_spent, difficulty, metadata, "
        "client_event_id, source, awarded_xp, xp_breakdown, payload_hash, created_at"
    )
    corrupt(
        app,
        f"INSERT INTO level_completions ({columns}) SELECT {columns} FROM level_completions "
        "WHERE id = :completion",
        completion=completion_id,
    )
    problems = [p for p in verify(app).problems if p.invariant == 3]
    assert any(
        p.user_id == player.id
        and p.detail.startswith(f"2 non-revoked completions (ids {completion_id} to ")
        for p in problems
    ), problems


@pytest.mark.parametrize(("statement", "invariant", "detail"), CORRUPTIONS)
def test_checking_one_user_reports_only_that_users_corruption(
    app, played, statement, invariant, detail
):
    corrupt(app, statement, user=played.id)
    bystander = verify(app, user_id_of(app, "bystander"))
    assert bystander.problems == []
    assert (bystander.users_checked, bystander.entries_checked) == (1, 3)
    mine = verify(app, played.id)
    assert {p.user_id for p in mine.problems} == {played.id}
    assert any(p.invariant == invariant and detail in p.detail for p in mine.problems), mine
    assert mine.usernames == {played.id: "player1"}


def test_one_users_report_counts_that_user_and_their_entries(app, played):
    report = verify(app, played.id)
    assert report.is_clean
    assert (report.users_checked, report.entries_checked) == (1, 3)


def test_checking_one_user_filters_every_statement_on_that_user(app, played):
    """Each check narrows its own SQL, so a large ledger is not read to report one player. The id
    is one no constant of the checks could be mistaken for."""
    absent_user = 987_654
    corrupt(app, "UPDATE users SET total_xp = total_xp + 1 WHERE id = :user", user=played.id)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            statements.append((statement, list(values)))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            report = audit.verify_ledger(absent_user)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert (report.problems, report.users_checked, report.entries_checked) == ([], 0, 0)
    # The counts, then one statement per check; usernames are read only when there are problems.
    assert len(statements) == 9, statements
    assert all(absent_user in values for _, values in statements), statements


def test_the_report_names_the_users_its_problems_are_pinned_on(app, played):
    corrupt(app, "UPDATE users SET total_xp = total_xp + 1 WHERE id = :user", user=played.id)
    report = verify(app)
    assert report.usernames == {played.id: "player1"}
