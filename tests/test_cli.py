"""The operator commands: exact forms, one-line failures, non-zero exits."""

import pytest

from app.services import accounts
from tests import factories


def test_users_create_makes_a_player_who_can_sign_in(cli, client):
    result = cli(
        "users",
        "create",
        "Alice",
        "--email",
        "Alice@Example.test",
        "--password",
        "a-long-passphrase",
    )
    assert result.exit_code == 0, result.output
    assert "created player alice" in result.output
    factories.sign_in(client, "alice@example.test", "a-long-passphrase")


def test_users_create_with_admin_flag_makes_an_admin(cli, app):
    result = cli(
        "users",
        "create",
        "root",
        "--email",
        "root@example.test",
        "--password",
        "a-long-passphrase",
        "--admin",
    )
    assert result.exit_code == 0 and "created admin root" in result.output
    with app.app_context():
        assert accounts.find_user("root").is_admin


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["users", "create", "bob", "--email", "bob@example.test", "--password", "short"],
            "at least 10 characters",
        ),
        (
            ["users", "create", "bob", "--email", "not-an-email", "--password", "long-enough-pw"],
            "valid email",
        ),
        (
            ["users", "create", "b", "--email", "b@example.test", "--password", "long-enough-pw"],
            "3 to 32",
        ),
        (
            ["users", "create", "bob", "--email", "bob@example.test", "--password", "bobbobbob-pw"],
            "user name",
        ),
        (["tokens", "create", "nobody"], "No user named 'nobody'"),
        (["tokens", "revoke", "4242"], "No API token with id 4242"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_one_line_reason(cli, args, reason):
    result = cli(*args)
    assert result.exit_code == 1
    assert reason in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_duplicate_user_name_is_refused(cli):
    assert (
        cli(
            "users",
            "create",
            "carol",
            "--email",
            "c1@example.test",
            "--password",
            "a-long-passphrase",
        ).exit_code
        == 0
    )
    result = cli(
        "users", "create", "CAROL", "--email", "c2@example.test", "--password", "a-long-passphrase"
    )
    assert result.exit_code == 1 and "taken" in result.output


def test_tokens_create_prints_a_working_token_on_its_last_line(cli, app, client):
    with app.app_context():
        factories.make_user("dave")
    result = cli("tokens", "create", "dave", "--name", "phone")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    response = client.get("/api/tokens", headers=factories.bearer(secret))
    assert response.status_code == 200
    assert [t["name"] for t in response.json["tokens"]] == ["phone"]


def test_tokens_revoke_stops_the_token_working(cli, app, client):
    with app.app_context():
        factories.make_user("erin")
    secret = cli("tokens", "create", "erin").output.strip().splitlines()[-1]
    token_id = client.get("/api/tokens", headers=factories.bearer(secret)).json["tokens"][0]["id"]
    result = cli("tokens", "revoke", str(token_id))
    assert result.exit_code == 0 and f"revoked token {token_id}" in result.output
    response = client.get("/api/tokens", headers=factories.bearer(secret))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_levels_sync_is_idempotent_and_reports_its_counts(cli, client):
    first = cli("levels", "sync")
    assert first.exit_code == 0
    assert "5 added, 0 updated, 0 unchanged" in first.output
    second = cli("levels", "sync")
    assert "0 added, 0 updated, 5 unchanged" in second.output
    assert len(client.get("/api/levels").json["levels"]) == 5


def test_users_demo_creates_the_demo_player_once(cli, client):
    first = cli("users", "demo")
    assert first.exit_code == 0 and "sign in as: demo / " in first.output
    second = cli("users", "demo")
    assert second.exit_code == 0 and "already exists" in second.output
    password = first.output.strip().splitlines()[-1].split(" / ")[1]
    factories.sign_in(client, "demo", password)


def test_users_sign_out_ends_every_session_of_the_player(cli, app, player):
    here, there = app.test_client(), app.test_client()
    factories.sign_in(here, "player1")
    factories.sign_in(there, "player1")
    result = cli("users", "sign-out", "player1")
    assert result.exit_code == 0, result.output
    assert "ended 2 session(s) of player1" in result.output
    assert here.get("/api/levels/progress").status_code == 401
    assert there.get("/api/levels/progress").status_code == 401


def test_users_sign_out_of_an_unknown_user_fails_with_one_line(cli):
    result = cli("users", "sign-out", "nobody")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "nobody" in result.output


@pytest.mark.parametrize(
    ("flag", "percent", "tracked"),
    [(True, 100, 12), (True, 0, 0), (False, 100, 0)],
)
def test_tracking_status_counts_the_cohort(cli, app, config_override, flag, percent, tracked):
    config_override(ENABLE_SERVER_SIDE_TRACKING=flag, SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=percent)
    with app.app_context():
        for n in range(12):
            factories.make_user(f"cohort{n}")
    result = cli("tracking", "status")
    assert result.exit_code == 0, result.output
    assert f"ENABLE_SERVER_SIDE_TRACKING: {'on' if flag else 'off'}" in result.output
    assert f"SERVER_SIDE_TRACKING_ROLLOUT_PERCENT: {percent}" in result.output
    assert f"users in the cohort: {tracked}\n" in result.output
    assert f"users not in the cohort: {12 - tracked}\n" in result.output


def test_tracking_status_at_a_partial_rollout_agrees_with_who_is_tracked(
    cli, app, client, config_override, levels
):
    config_override(ENABLE_SERVER_SIDE_TRACKING=True, SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=50)
    tracked = 0
    for n in range(16):
        with app.app_context():
            user = factories.make_user(f"half{n}")
            secret = factories.make_token(user)
        answer = client.post(
            "/api/levels/complete",
            json={"level_id": 1, "score": 100, "time_spent": 600},
            headers=factories.bearer(secret),
        )
        tracked += answer.status_code == 200
    result = cli("tracking", "status")
    assert f"users in the cohort: {tracked}\n" in result.output
    assert f"users not in the cohort: {16 - tracked}\n" in result.output
