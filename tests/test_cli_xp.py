"""`flask xp verify|adjust|revoke|reset|export`: what an operator types and reads, and the exit
status."""

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import LevelCompletion, XPHistory
from tests import factories

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


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


def test_revoke_after_a_penalty_takes_back_the_whole_award_below_zero(cli, levels, player_client):
    recorded = complete(player_client)
    assert cli("xp", "adjust", "player1", "-10", "--note", "penalty").exit_code == 0
    result = cli("xp", "revoke", str(recorded["completion_id"]), "--note", "shared account")
    assert one_line(result) == (
        f"revoked completion {recorded['completion_id']}: "
        f"reversed {recorded['awarded_xp']} XP; new total -10 XP"
    )
    assert cli("xp", "verify").exit_code == 0


def test_reset_revokes_every_completion_and_prints_what_is_left(cli, levels, player_client):
    first = complete(player_client)
    second = complete(player_client, level_id=2)
    assert cli("xp", "adjust", "player1", "12", "--note", "prize").exit_code == 0
    result = cli("xp", "reset", "PLAYER1", "--note", "season restart")
    assert result.exit_code == 0, result.output
    assert one_line(result) == (
        "reset player1: revoked 2 completions, reversed "
        f"{first['awarded_xp'] + second['awarded_xp']} XP; new total 12 XP"
    )
    assert total_xp(player_client) == 12
    again = cli("xp", "reset", "player1", "--note", "again")
    assert one_line(again) == "reset player1: revoked 0 completions, reversed 0 XP; new total 12 XP"
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
        (["xp", "reset", "nobody", "--note", "x"], "No user named 'nobody'"),
        (["xp", "reset", "player1", "--note", " "], "note: Say why"),
        (["xp", "verify", "--user", "nobody"], "No user named 'nobody'"),
        (["xp", "verify", "--user", "nobody", "--json"], "No user named 'nobody'"),
        (["xp", "export", "nobody"], "No user named 'nobody'"),
        (["xp", "export", "nobody", "--format", "json"], "No user named 'nobody'"),
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


def bump_total(app, user_id, by=20):
    with app.app_context():
        db.session.execute(
            text("UPDATE users SET total_xp = total_xp + :by WHERE id = :user"),
            {"by": by, "user": user_id},
        )
        db.session.commit()


@pytest.fixture()
def bystander(app, cli):
    """A second player with one entry of their own."""
    with app.app_context():
        user = factories.make_user("bystander")
    assert cli("xp", "adjust", "bystander", "5", "--note", "welcome").exit_code == 0
    return user


def test_verify_user_checks_only_that_users_ledger(
    app, cli, levels, player, player_client, bystander
):
    complete(player_client)
    bump_total(app, bystander.id)
    mine = cli("xp", "verify", "--user", "player1")
    assert mine.exit_code == 0, mine.output
    assert one_line(mine) == "ledger verified: 1 users, 1 entries, no problems"
    theirs = cli("xp", "verify", "--user", "BYSTANDER@example.test")
    assert theirs.exit_code == 1
    assert theirs.output.strip().splitlines() == [
        f"invariant 1, user {bystander.id}: total_xp 25 != sum of deltas 5",
        "ledger NOT verified: 1 problems in 1 users, 1 entries",
    ]


def test_verify_json_on_a_clean_ledger_is_ok(cli, levels, player_client, bystander):
    complete(player_client)
    result = cli("xp", "verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "users_checked": 2, "violations": []}


def test_verify_json_lists_each_violation_by_invariant_user_and_detail(
    app, cli, levels, player, player_client, bystander
):
    awarded = complete(player_client)["awarded_xp"]
    bump_total(app, player.id, by=3)
    result = cli("xp", "verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "ok": False,
        "users_checked": 2,
        "violations": [
            {
                "invariant": 1,
                "user": "player1",
                "detail": f"total_xp {awarded + 3} != sum of deltas {awarded}",
            }
        ],
    }


def test_verify_user_and_json_combine(app, cli, player, bystander):
    bump_total(app, bystander.id)
    clean = cli("xp", "verify", "--json", "--user", "player1")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output) == {"ok": True, "users_checked": 1, "violations": []}
    broken = cli("xp", "verify", "--user", "bystander", "--json")
    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert (report["ok"], report["users_checked"]) == (False, 1)
    assert [(v["invariant"], v["user"]) for v in report["violations"]] == [(1, "bystander")]


@pytest.fixture()
def ledger(app, cli, levels, player, player_client, bystander):
    """player1's ledger: two awards, a revocation and an adjustment by the admin 'boss', and an
    adjustment from the command line; returns the entries expected in an export, oldest first."""
    with app.app_context():
        factories.make_user("boss", is_admin=True)
    admin_client = app.test_client()
    factories.sign_in(admin_client, "boss")
    first = complete(player_client)
    second = complete(player_client, level_id=2)
    revoked = admin_client.post(
        f"/api/admin/completions/{second['completion_id']}/revoke", json={"note": "shared answers"}
    )
    assert revoked.status_code == 200, revoked.json
    assert cli("xp", "adjust", "player1", "40", "--note", "meetup raffle").exit_code == 0
    adjusted = admin_client.post(
        f"/api/admin/users/{player.id}/xp-adjustments",
        json={"delta": 25, "note": "tournament prize"},
    )
    assert adjusted.status_code == 201, adjusted.json
    a1, a2 = first["awarded_xp"], second["awarded_xp"]
    with app.app_context():
        ids = db.session.scalars(
            select(XPHistory.id).where(XPHistory.user_id == player.id).order_by(XPHistory.id)
        ).all()
    rows = [
        ("level_completion", a1, a1, first["completion_id"], None, None),
        ("level_completion", a2, a1 + a2, second["completion_id"], None, None),
        ("completion_revoked", -a2, a1, second["completion_id"], "shared answers", "boss"),
        ("manual_adjustment", 40, a1 + 40, None, "meetup raffle", None),
        ("manual_adjustment", 25, a1 + 65, None, "tournament prize", "boss"),
    ]
    assert len(ids) == len(rows)
    return [
        {
            "id": entry_id,
            "delta": delta,
            "balance_after": balance,
            "reason": reason,
            "reference_id": reference_id,
            "note": note,
            "admin": admin,
            "archived": False,
        }
        for entry_id, (reason, delta, balance, reference_id, note, admin) in zip(
            ids, rows, strict=True
        )
    ]


EXPORT_COLUMNS = [
    "id",
    "created_at",
    "delta",
    "balance_after",
    "reason",
    "reference_id",
    "note",
    "admin",
    "archived",
]


def assert_utc_timestamps(created_at: list[str]):
    stamps = [datetime.fromisoformat(value) for value in created_at]
    assert all(stamp.utcoffset() == timedelta(0) for stamp in stamps), created_at
    assert stamps == sorted(stamps)


def as_csv(value) -> str:
    if value is None:
        return ""
    if value is False:
        return "false"
    return str(value)


def test_export_csv_lists_the_users_ledger_oldest_first(cli, player_client, ledger):
    result = cli("xp", "export", "player1")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.output))
    assert reader.fieldnames == EXPORT_COLUMNS
    rows = list(reader)
    assert_utc_timestamps([row.pop("created_at") for row in rows])
    assert rows == [{key: as_csv(value) for key, value in entry.items()} for entry in ledger]
    assert sum(int(row["delta"]) for row in rows) == total_xp(player_client)
    assert int(rows[-1]["balance_after"]) == total_xp(player_client)


def test_export_json_holds_the_user_and_the_same_entries(cli, player_client, ledger):
    result = cli("xp", "export", "PLAYER1", "--format", "json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    assert exported["user"] == "player1"
    entries = exported["entries"]
    assert_utc_timestamps([entry.pop("created_at") for entry in entries])
    assert entries == ledger
    assert sum(entry["delta"] for entry in entries) == total_xp(player_client)


def test_export_of_a_user_without_entries_is_just_the_header(cli, player):
    csv_result = cli("xp", "export", "player1")
    assert csv_result.exit_code == 0, csv_result.output
    assert csv_result.output == ",".join(EXPORT_COLUMNS) + "\n"
    json_result = cli("xp", "export", "player1", "--format", "json")
    assert json.loads(json_result.output) == {"user": "player1", "entries": []}
