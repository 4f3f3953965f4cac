"""`flask xp archive`: old ledger entries move to xp_history_archive in batches; totals, the audit,
the export and what a player's history adds up to stay the same, even when a run is killed."""

import csv
import io
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LedgerUnlock, User, XPHistory, XPHistoryArchive
from app.services import admin, append_only, audit, leaderboard
from tests import factories

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


def complete(client, **changes):
    response = client.post("/api/levels/complete", json=BODY | changes)
    assert response.status_code == 200, response.json
    return response.json


def backdate(app, days):
    """Move every ledger entry `days` into the past, as if recorded then (a test's clock), and
    recount the leaderboards' totals for the periods the entries now fall in."""
    with app.app_context():
        with append_only.unlocked(db.session.connection(), "test clock"):
            for entry in db.session.scalars(select(XPHistory)):
                entry.created_at -= timedelta(days=days)
            db.session.flush()
        db.session.commit()
        leaderboard.rebuild_leaderboard_totals()


def counts(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(XPHistory)),
            db.session.scalar(select(func.count()).select_from(XPHistoryArchive)),
        )


def ids_of(app, model):
    with app.app_context():
        return set(db.session.scalars(select(model.id)))


def totals(app):
    with app.app_context():
        return dict(db.session.execute(select(User.username, User.total_xp)).tuples().all())


def verify(app):
    with app.app_context():
        return audit.verify_ledger()


@pytest.fixture()
def played(app, levels, player, player_client):
    """player1: three awards and an admin adjustment, recorded 400 days ago, then one award
    today; returns the player's client."""
    for level_id in (1, 2, 3):
        complete(player_client, level_id=level_id)
    with app.app_context():
        factories.make_user("boss", is_admin=True)
    admin = app.test_client()
    factories.sign_in(admin, "boss")
    adjusted = admin.post(
        f"/api/admin/users/{player.id}/xp-adjustments", json={"delta": 15, "note": "prize"}
    )
    assert adjusted.status_code == 201
    backdate(app, 400)
    complete(player_client, level_id=4, score=500)
    return player_client


def test_archiving_moves_only_old_entries_and_changes_no_total(app, cli, played):
    before = totals(app)
    result = cli("xp", "archive", "--older-than", "365")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("archived 4 entries recorded before ")
    assert counts(app) == (1, 4)
    assert totals(app) == before
    report = verify(app)
    assert report.problems == []
    assert report.entries_checked == 5


def test_the_history_api_ends_with_the_archived_summary_that_adds_up(app, cli, played):
    full = played.get("/api/xp/history").json
    assert full["archived"] is None
    cli("xp", "archive", "--older-than", "30")
    page = played.get("/api/xp/history").json
    assert len(page["items"]) == 1
    assert page["archived"]["entries"] == 4
    total = played.get("/api/levels/progress").json["total_xp"]
    assert page["archived"]["xp"] + sum(item["delta"] for item in page["items"]) == total
    assert page["archived"]["xp"] == sum(item["delta"] for item in full["items"][1:])


def test_the_export_still_lists_every_entry_marking_the_archived_ones(app, cli, played):
    before = cli("xp", "export", "player1").output
    cli("xp", "archive", "--older-than", "30")
    rows = list(csv.DictReader(io.StringIO(cli("xp", "export", "player1").output)))
    earlier = list(csv.DictReader(io.StringIO(before)))
    assert [row["archived"] for row in rows] == ["true"] * 4 + ["false"]
    strip = lambda row: {key: value for key, value in row.items() if key != "archived"}  # noqa: E731
    assert [strip(row) for row in rows] == [strip(row) for row in earlier]
    assert rows[3]["note"] == "prize" and rows[3]["admin"] == "boss"


def test_older_than_0_archives_everything_before_now_in_batches(app, cli, played):
    result = cli("xp", "archive", "--older-than", "0", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "batch 1: moved 2 entries",
        "batch 2: moved 2 entries",
        "batch 3: moved 1 entries",
        result.output.splitlines()[-1],
    ]
    assert counts(app) == (0, 5)
    assert verify(app).problems == []
    assert played.get("/api/xp/history").json["items"] == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerUnlock)) == 0


def test_play_after_archiving_continues_the_ledger_and_verifies(app, cli, played):
    cli("xp", "archive", "--older-than", "0")
    complete(played, level_id=5, score=400)
    report = verify(app)
    assert report.problems == []
    page = played.get("/api/xp/history").json
    total = played.get("/api/levels/progress").json["total_xp"]
    assert page["items"][0]["balance_after"] == total
    assert page["archived"]["xp"] + page["items"][0]["delta"] == total


def test_archiving_again_moves_nothing_more(app, cli, played):
    cli("xp", "archive", "--older-than", "30")
    result = cli("xp", "archive", "--older-than", "30")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].startswith("archived 0 entries")
    assert counts(app) == (1, 4)


@pytest.mark.parametrize(
    "args",
    [
        ["--older-than", "-1"],
        ["--older-than", "soon"],
        [],
        ["--older-than", "1", "--batch-size", "0"],
        ["--older-than", "1", "--batch-size", "10001"],
    ],
)
def test_bad_arguments_are_refused_and_move_nothing(app, cli, played, args):
    result = cli("xp", "archive", *args)
    assert result.exit_code == 2
    assert counts(app) == (5, 0)


def test_a_run_killed_half_way_loses_and_doubles_nothing_and_a_rerun_finishes(
    app, cli, levels, player, player_client
):
    for level_id in (1, 2, 3):
        complete(player_client, level_id=level_id)
    with app.app_context():
        bystander = factories.make_user("bystander")
        for number in range(1, 21):
            admin.adjust_xp((player, bystander)[number % 2].id, number, note=f"prize {number}")
    before_ids = ids_of(app, XPHistory)
    before_totals = totals(app)
    assert len(before_ids) > 12
    app_factory = (
        f"app:create_app('testing', "
        f"{{'SQLALCHEMY_DATABASE_URI': {app.config['SQLALCHEMY_DATABASE_URI']!r}}})"
    )
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            app_factory,
            "xp",
            "archive",
            "--older-than",
            "0",
            "--batch-size",
            "2",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [run.stdout.readline() for _ in range(3)]
        assert lines[-1].startswith("batch 3: moved 2 entries"), (lines, run.stderr.read())
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    live, archived = ids_of(app, XPHistory), ids_of(app, XPHistoryArchive)
    assert len(archived) >= 6 and live
    assert live | archived == before_ids and not live & archived
    assert totals(app) == before_totals
    assert verify(app).problems == []

    result = cli("xp", "archive", "--older-than", "0", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert ids_of(app, XPHistory) == set()
    assert ids_of(app, XPHistoryArchive) == before_ids
    assert totals(app) == before_totals
    assert verify(app).problems == []
