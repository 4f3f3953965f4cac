"""The completion's hot path on PostgreSQL (docs/architecture.md, "The completion's hot path"):
the statements it costs, and the read ahead of the player's lock that must never award twice."""

from __future__ import annotations

import threading
import time
import uuid
from functools import partial

import pytest
from sqlalchemy import event, func, text, update

from app.api.levels import completion_request_schema
from app.budget import SQL_PER_NEW, SQL_PER_REPLAY
from app.extensions import db
from app.models import ApiToken
from app.services import completions
from tests.integration.test_concurrency import completion_body, ledger_problems, rows

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("unlimited_completions")]


@pytest.fixture()
def statements(app):
    """The SQL statements the app sends while the test runs, BEGIN/COMMIT/ROLLBACK aside."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def post_and_count(client, statements, body, headers=None):
    statements.clear()
    response = client.post("/api/levels/complete", json=body, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json(), len(statements)


def test_a_token_callers_completion_and_its_replay_stay_within_the_statement_budget(
    app, levels, make_api_player, statements
):
    player = make_api_player("budgeted")
    with app.app_context():  # the token's first use in a while: its last_used_at is refreshed
        db.session.execute(update(ApiToken).values(last_used_at=None))
        db.session.commit()
    body = completion_body("1", 850)
    client = app.test_client()

    new, new_count = post_and_count(client, statements, body, player.headers)
    replay, replay_count = post_and_count(client, statements, body, player.headers)

    assert new["is_new_completion"] is True and new["awarded_xp"] > 0
    assert replay["is_new_completion"] is False
    assert replay["completion_id"] == new["completion_id"]
    assert new_count <= SQL_PER_NEW
    assert replay_count <= SQL_PER_REPLAY
    [token] = rows(app, "SELECT last_used_at FROM api_tokens WHERE user_id = :u", u=player.id)
    assert token.last_used_at is not None
    assert rows(app, "SELECT count(*) AS n FROM outbox_events")[0].n == 1
    assert ledger_problems(app) == []


def test_a_signed_in_players_completion_and_its_replay_stay_within_the_statement_budget(
    app, levels, player_client, statements
):
    body = completion_body("2", 900)

    new, new_count = post_and_count(player_client, statements, body)
    replay, replay_count = post_and_count(player_client, statements, body)
    better, better_count = post_and_count(player_client, statements, completion_body("2", 1000))

    assert new["is_new_completion"] is True and replay["is_new_completion"] is False
    assert better["is_new_completion"] is True
    assert better["xp_breakdown"]["previously_credited"] == new["awarded_xp"]
    assert new_count <= SQL_PER_NEW and better_count <= SQL_PER_NEW
    assert replay_count <= SQL_PER_REPLAY
    assert ledger_problems(app) == []


def test_a_credit_that_changes_between_the_read_ahead_and_the_write_is_read_again(
    app, levels, make_api_player, complete, monkeypatch
):
    """A better run's award is computed from the XP already credited for the level, read before
    the player's lock. Another completion of the level that commits in between changes that
    credit: the write must notice and award against the new one, never twice."""
    player = make_api_player("interleaved")
    with app.app_context():  # a token refreshed just now: the two requests share no row lock
        db.session.execute(update(ApiToken).values(last_used_at=func.now()))
        db.session.commit()
    take_read_ahead = completions.take_read_ahead
    interleaved = {}

    def another_completion_first(*args, **kwargs):
        if not interleaved:
            interleaved["answer"] = None
            other = threading.Thread(
                target=lambda: interleaved.update(
                    answer=complete(player, completion_body("1", 500))
                )
            )
            other.start()
            other.join(timeout=30)
        return take_read_ahead(*args, **kwargs)

    monkeypatch.setattr(completions, "take_read_ahead", another_completion_first)
    answer = complete(player, completion_body("1", 950))
    monkeypatch.undo()

    first = interleaved["answer"]
    assert first.status == 200 and first.json["is_new_completion"] is True
    assert answer.status == 200 and answer.json["is_new_completion"] is True
    assert answer.json["xp_breakdown"]["previously_credited"] == first.json["awarded_xp"]
    best = answer.json["xp_breakdown"]["xp"]
    assert first.json["awarded_xp"] + answer.json["awarded_xp"] == best
    assert answer.json["new_total_xp"] == best
    assert ledger_problems(app) == []


def test_a_credit_that_commits_while_the_write_waits_for_the_lock_is_read_again(
    app, levels, make_api_player, complete, monkeypatch
):
    """The write right after the read ahead takes the player's lock itself. Another completion
    of the level that holds the lock when the write starts, and commits while the write waits,
    changed the credit after the write's own snapshot: the write must see that its player row
    is not the one read ahead, write nothing, and award against the new credit."""
    player = make_api_player("overtaken")
    with app.app_context():
        db.session.execute(update(ApiToken).values(last_used_at=func.now()))
        db.session.commit()
    other_body = completion_body("1", 500)
    take_read_ahead = completions.take_read_ahead
    other: dict = {}
    written = threading.Event()

    def commit_once_the_write_waits():
        with app.app_context():
            request = completions.CompletionRequest(
                **completion_request_schema.load(other_body), source="api"
            )
            other["result"] = completions.record_in_transaction(
                player.id, request, request.payload_hash()
            )
            written.set()
            for _ in range(200):  # up to 10 s for the write to queue behind this lock
                waiting = rows(
                    app,
                    "SELECT count(*) AS n FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()",
                )[0].n
                if waiting:
                    other["waited"] = True
                    break
                time.sleep(0.05)
            db.session.commit()

    def hold_the_lock_first(*args, **kwargs):
        ahead = take_read_ahead(*args, **kwargs)
        if not other:
            other["thread"] = threading.Thread(target=commit_once_the_write_waits)
            other["thread"].start()
            assert written.wait(timeout=30)
        return ahead

    monkeypatch.setattr(completions, "take_read_ahead", hold_the_lock_first)
    answer = complete(player, completion_body("1", 950))
    other["thread"].join(timeout=30)
    monkeypatch.undo()

    assert other.get("waited") is True
    first = other["result"]
    assert answer.status == 200 and answer.json["is_new_completion"] is True
    assert answer.json["xp_breakdown"]["previously_credited"] == first.awarded_xp
    best = answer.json["xp_breakdown"]["xp"]
    assert first.awarded_xp + answer.json["awarded_xp"] == best
    assert answer.json["new_total_xp"] == best
    assert ledger_problems(app) == []


def test_many_runs_of_one_level_at_once_credit_only_the_best_of_them(
    app, levels, make_api_player, complete, race
):
    player = make_api_player("racer")
    scores = [400 + 37 * i for i in range(16)]
    bodies = [completion_body("3", score, event_id=uuid.uuid4()) for score in scores]

    answers = race([partial(complete, player, body) for body in bodies])

    assert [answer.status for answer in answers] == [200] * len(bodies)
    assert all(answer.json["is_new_completion"] for answer in answers)
    best = max(answer.json["xp_breakdown"]["xp"] for answer in answers)
    [total] = rows(app, "SELECT total_xp FROM users WHERE id = :u", u=player.id)
    assert total.total_xp == best
    assert sum(answer.json["awarded_xp"] for answer in answers) == best
    assert ledger_problems(app) == []
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM outbox_events")).scalar() == 16


def test_a_level_changed_in_the_catalog_is_read_again_by_the_next_completion(
    app, levels, make_api_player, complete
):
    """The process keeps the levels it has read, by row version: a change to a level (as
    `flask levels sync` makes) is a new version, and the next completion awards by it."""
    before, after = make_api_player("before_change"), make_api_player("after_change")
    body = completion_body("2", 900)
    first = complete(before, dict(body, client_event_id=str(uuid.uuid4())))
    with app.app_context():
        db.session.execute(text("UPDATE levels SET xp_reward = xp_reward * 2 WHERE level_id = '2'"))
        db.session.commit()
    second = complete(after, dict(body, client_event_id=str(uuid.uuid4())))

    assert first.status == 200 and second.status == 200
    assert second.json["level"]["xp_reward"] == 2 * first.json["level"]["xp_reward"]
    assert second.json["xp_breakdown"]["xp"] > first.json["xp_breakdown"]["xp"]
    assert ledger_problems(app) == []
