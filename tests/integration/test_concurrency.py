"""Concurrent completions on real PostgreSQL: real threads, each with its own client, racing
POST /api/levels/complete; afterwards the rows and the ledger are checked with plain SQL."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from functools import partial
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.integration.conftest import Answer

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("unlimited_completions")]

MAX_SCORE = {"1": 1000, "2": 1000, "3": 1000, "4": 1000, "5": 1500}
EXPECTED_SECONDS = {"1": 900, "2": 1200, "3": 1500, "4": 1800, "5": 2400}


def completion_body(
    level_id: str = "1",
    score: int = 850,
    *,
    time_spent: int = 120,
    difficulty: str = "normal",
    hints_used: int = 0,
    event_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "level_id": int(level_id),
        "level_type": "simulation",
        "score": score,
        "time_spent": time_spent,
        "difficulty": difficulty,
        "metadata": {"hints_used": hints_used},
        "client_event_id": str(event_id or uuid.uuid4()),
    }


def rows(app, sql: str, **params: Any) -> list[Any]:
    with app.app_context():
        return list(db.session.execute(text(sql), params))


def user_rows(app, user_id: int) -> dict[str, Any]:
    """What the database holds for one player."""
    [total] = rows(app, "SELECT total_xp FROM users WHERE id = :u", u=user_id)
    return {
        "total_xp": total.total_xp,
        "completions": rows(
            app, "SELECT * FROM level_completions WHERE user_id = :u ORDER BY id", u=user_id
        ),
        "history": rows(app, "SELECT * FROM xp_history WHERE user_id = :u ORDER BY id", u=user_id),
        "progress": rows(
            app, "SELECT * FROM user_level_progress WHERE user_id = :u ORDER BY level_id", u=user_id
        ),
    }


def ledger_problems(app) -> list[str]:
    """Every broken invariant (docs/architecture.md), by plain SQL; empty for a sound ledger."""
    problems: list[str] = []
    totals = rows(
        app,
        "SELECT u.id, u.total_xp, COALESCE(SUM(h.delta), 0) AS history_sum"
        " FROM users u LEFT JOIN xp_history h ON h.user_id = u.id GROUP BY u.id, u.total_xp",
    )
    for user in totals:
        if user.total_xp != user.history_sum:
            problems.append(f"user {user.id}: total_xp {user.total_xp} != {user.history_sum}")

    balance: dict[int, int] = defaultdict(int)
    for entry in rows(app, "SELECT * FROM xp_history ORDER BY user_id, id"):
        balance[entry.user_id] += entry.delta
        if entry.balance_after != balance[entry.user_id] or entry.balance_after < 0:
            problems.append(
                f"history {entry.id}: balance_after {entry.balance_after},"
                f" expected {balance[entry.user_id]}"
            )
            balance[entry.user_id] = entry.balance_after

    completions = rows(app, "SELECT * FROM level_completions WHERE revoked_at IS NULL ORDER BY id")
    awards = {
        entry.reference_id: entry
        for entry in rows(app, "SELECT * FROM xp_history WHERE reason = 'level_completion'")
    }
    event_ids = defaultdict(list)
    for completion in completions:
        event_ids[(completion.user_id, completion.client_event_id)].append(completion.id)
        award = awards.get(completion.id)
        if completion.awarded_xp > 0 and (award is None or award.delta != completion.awarded_xp):
            problems.append(f"completion {completion.id}: no history entry for its award")
        if completion.awarded_xp == 0 and award is not None:
            problems.append(f"completion {completion.id}: history entry for a zero award")
    problems += [
        f"event {key}: completions {ids}" for key, ids in event_ids.items() if len(ids) > 1
    ]

    rewards = {level.level_id: level.xp_reward for level in rows(app, "SELECT * FROM levels")}
    by_level = defaultdict(list)
    for completion in completions:
        by_level[(completion.user_id, completion.level_id)].append(completion)
    progress = {(p.user_id, p.level_id): p for p in rows(app, "SELECT * FROM user_level_progress")}
    for key in sorted(set(by_level) | set(progress)):
        done, summary = by_level.get(key, []), progress.get(key)
        implied = {
            "xp_earned": sum(c.awarded_xp for c in done),
            "completions_count": len(done),
            "best_score": max((c.score for c in done), default=None),
        }
        recorded = {name: getattr(summary, name, None) for name in implied}
        if recorded != implied:
            problems.append(f"progress {key}: {recorded}, completions imply {implied}")
        best_run = max((c.xp_breakdown["xp"] for c in done), default=0)
        if implied["xp_earned"] > min(rewards[key[1]], best_run):
            problems.append(
                f"progress {key}: {implied['xp_earned']} XP credited, more than the level's"
                f" {rewards[key[1]]} or the best run's {best_run}"
            )
    return problems


def test_fifty_simultaneous_retries_record_one_completion_and_award_once(
    app, levels, make_api_player, complete, race, overlap
):
    player = make_api_player("retrier")
    body = completion_body("1", 850, event_id=uuid.uuid4())

    answers = race([partial(complete, player, body) for _ in range(50)])

    assert [answer.status for answer in answers] == [200] * 50
    [first] = [answer for answer in answers if answer.json["is_new_completion"]]
    replays = [answer for answer in answers if answer is not first]
    assert {answer.json["completion_id"] for answer in answers} == {first.json["completion_id"]}
    assert {answer.json["awarded_xp"] for answer in answers} == {first.json["awarded_xp"]}
    assert {answer.json["new_total_xp"] for answer in answers} == {first.json["awarded_xp"]}
    assert first.json["awarded_xp"] > 0
    assert "idempotent-replayed" not in first.headers
    assert all(answer.headers["idempotent-replayed"] == "true" for answer in replays)

    stored = user_rows(app, player.id)
    assert [c.id for c in stored["completions"]] == [first.json["completion_id"]]
    assert [(h.delta, h.balance_after) for h in stored["history"]] == [
        (first.json["awarded_xp"], first.json["awarded_xp"])
    ]
    assert stored["total_xp"] == first.json["awarded_xp"]
    assert [p.completions_count for p in stored["progress"]] == [1]
    assert ledger_problems(app) == []
    # The race was real: many requests were inside the app, and the pool's connections
    # (5 + 10 overflow) were in use together, while the user's row lock was contended.
    assert overlap.peak_requests >= 10, overlap
    assert overlap.peak_connections >= 5, overlap


def test_an_event_id_reused_concurrently_for_different_results_records_only_one(
    app, levels, make_api_player, complete, race, overlap
):
    player = make_api_player("reuser")
    event_id = uuid.uuid4()
    bodies = [completion_body("2", 500 if n % 2 else 900, event_id=event_id) for n in range(20)]

    answers = race([partial(complete, player, body) for body in bodies])

    stored = user_rows(app, player.id)
    [recorded] = stored["completions"]
    assert {answer.status for answer in answers} <= {200, 409}
    for body, answer in zip(bodies, answers, strict=True):
        if body["score"] == recorded.score:
            assert answer.status == 200, answer
            assert answer.json["completion_id"] == recorded.id
            assert answer.json["awarded_xp"] == recorded.awarded_xp
        else:
            assert answer.status == 409, answer
            assert answer.json["error"]["code"] == "idempotency_conflict"
            assert answer.json["error"]["original_completion_id"] == recorded.id
    assert sum(answer.status == 200 and answer.json["is_new_completion"] for answer in answers) == 1
    assert stored["total_xp"] == sum(h.delta for h in stored["history"]) == recorded.awarded_xp
    assert ledger_problems(app) == []
    assert overlap.peak_connections >= 5, overlap


def varied_completions(players: list, level_ids: list[str], count: int, seed: int) -> list:
    """`count` (player, body) pairs: every player plays every level several times, with
    scores, modes, speeds and hints that sometimes beat an earlier run and sometimes do not."""
    rng = random.Random(seed)
    plan = []
    for n in range(count):
        level_id = rng.choice(level_ids)
        expected = EXPECTED_SECONDS[level_id]
        body = completion_body(
            level_id,
            rng.randint(0, MAX_SCORE[level_id]),
            time_spent=rng.choice([rng.randint(60, expected - 1), rng.randint(expected, 7200)]),
            difficulty=rng.choice(["easy", "normal", "hard"]),
            hints_used=rng.choice([0, 0, 1, 3]),
        )
        plan.append((players[n % len(players)], body))
    rng.shuffle(plan)
    return plan


def test_five_hundred_completions_from_twenty_players_keep_every_ledger_consistent(
    app, levels, make_api_player, complete, in_parallel, overlap
):
    players = [make_api_player(f"player{n:02d}") for n in range(20)]
    plan = varied_completions(players, levels, 500, seed=20240611)

    answers = in_parallel([partial(complete, p, body) for p, body in plan], workers=32)

    assert [answer.status for answer in answers] == [200] * 500
    assert all(answer.json["is_new_completion"] for answer in answers)
    assert len({answer.json["completion_id"] for answer in answers}) == 500
    assert 2 <= overlap.peak_requests <= 32, overlap

    improved = not_improved = 0
    for player in players:
        stored = user_rows(app, player.id)
        completions = {c.id: c for c in stored["completions"]}
        mine = [answer for (p, _), answer in zip(plan, answers, strict=True) if p is player]
        assert sorted(completions) == sorted(answer.json["completion_id"] for answer in mine)
        for answer in mine:
            row = completions[answer.json["completion_id"]]
            assert answer.json["awarded_xp"] == row.awarded_xp
            assert answer.json["xp_breakdown"] == row.xp_breakdown
        # The totals players were shown are the balances the ledger walked through.
        balances = [h.balance_after for h in stored["history"]]
        assert sorted(a.json["new_total_xp"] for a in mine if a.json["awarded_xp"] > 0) == balances
        assert {a.json["new_total_xp"] for a in mine} <= set(balances)
        assert stored["total_xp"] == sum(h.delta for h in stored["history"]) == balances[-1]
        seen_levels = set()
        for completion in stored["completions"]:
            if completion.level_id in seen_levels:
                improved += completion.awarded_xp > 0
                not_improved += completion.awarded_xp == 0
            seen_levels.add(completion.level_id)
    # The plan exercised the repeat policy both ways.
    assert improved > 0
    assert not_improved > 0

    assert ledger_problems(app) == []
    verify = app.test_cli_runner().invoke(args=["xp", "verify"])
    assert verify.exit_code == 0, verify.output


def test_revocations_adjustments_and_new_completions_racing_for_one_player_stay_consistent(
    app, levels, make_api_player, complete, in_parallel, overlap
):
    """An admin revokes a player's runs and takes XP away while the player goes on playing:
    every revocation takes back exactly its award, whichever order the locks give, and the ledger
    verifies clean (penalties and revocations never cancel each other)."""
    player = make_api_player("racer")
    admin = make_api_player("referee")
    with app.app_context():
        db.session.execute(text("UPDATE users SET is_admin = true WHERE id = :u"), {"u": admin.id})
        db.session.commit()
    first_runs = [
        complete(player, completion_body(level_id, 800 if n < 5 else 300))
        for n, level_id in enumerate(["1", "2", "3", "4", "5"] * 2)
    ]
    assert [answer.status for answer in first_runs] == [200] * 10
    awarded = {a.json["completion_id"]: a.json["awarded_xp"] for a in first_runs}
    assert sum(awarded.values()) > 0 and 0 in awarded.values()

    def post(path: str, body: dict[str, Any]) -> Answer:
        response = app.test_client().post(path, json=body, headers=admin.headers)
        return Answer(response.status_code, {}, response.get_json(silent=True))

    revocations = [
        partial(post, f"/api/admin/completions/{cid}/revoke", {"note": "review"}) for cid in awarded
    ]
    penalties = [
        partial(post, f"/api/admin/users/{player.id}/xp-adjustments", {"delta": -3, "note": "late"})
        for _ in range(10)
    ]
    replays = [
        partial(complete, player, completion_body(level_id, 900 + n))
        for n, level_id in enumerate(["1", "2", "3", "4", "5"] * 2)
    ]
    actions = [
        action for trio in zip(revocations, penalties, replays, strict=True) for action in trio
    ]
    answers = in_parallel(actions, workers=16)
    assert 2 <= overlap.peak_requests <= 16, overlap

    revoked = [a for a in answers if a.json and "reversed_xp" in a.json]
    assert len(revoked) == 10 and all(a.status == 200 for a in revoked)
    assert {a.json["completion_id"]: a.json["reversed_xp"] for a in revoked} == awarded
    adjusted = [a for a in answers if a.json and "entry" in a.json and "reversed_xp" not in a.json]
    refused = [a for a in answers if a.status == 409]
    assert all(a.json["error"]["code"] == "negative_balance" for a in refused)
    assert len(adjusted) + len(refused) == 10
    replayed = [a for a in answers if a.json and "is_new_completion" in a.json]
    assert [a.status for a in replayed] == [200] * 10

    stored = user_rows(app, player.id)
    reversals = [h for h in stored["history"] if h.reason == "completion_revoked"]
    assert sorted((h.reference_id, -h.delta) for h in reversals) == sorted(
        (cid, xp) for cid, xp in awarded.items() if xp > 0
    )
    assert stored["total_xp"] == sum(h.delta for h in stored["history"])
    assert stored["total_xp"] == (sum(a.json["awarded_xp"] for a in replayed) - 3 * len(adjusted))
    verify = app.test_cli_runner().invoke(args=["xp", "verify", "--json"])
    assert verify.exit_code == 0, verify.output
