"""Registering, signing in and out through the HTML pages."""

import re

import pytest

from tests import factories


def register(client, username="newbie", email="newbie@example.test", password="a-strong-pass"):
    return client.post(
        "/register",
        data={"username": username, "email": email, "password": password, "confirm": password},
    )


def test_a_new_player_registers_and_is_signed_in(client):
    response = register(client)
    assert response.status_code == 302
    page = client.get("/levels").get_data(as_text=True)
    assert "newbie" in page and "Sign out" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "x"}, "3 to 32"),
        ({"email": "nope"}, "valid email"),
        ({"password": "short"}, "at least 10"),
        ({"password": "newbie-is-me"}, "user name"),
        ({"email": "nul\x00@example.test"}, "valid email"),
        ({"password": "a-strong-pass\x00"}, "printable"),
    ],
)
def test_registration_with_bad_fields_is_refused_with_a_reason(client, fields, message):
    data = {"username": "newbie", "email": "newbie@example.test", "password": "a-strong-pass"}
    data |= fields
    response = register(client, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/api/tokens").status_code == 401  # not signed in


def test_a_taken_user_name_is_refused(client):
    register(client)
    other = client.application.test_client()
    response = register(other, email="someone-else@example.test")
    assert response.status_code == 400
    assert "taken" in response.get_data(as_text=True)


@pytest.mark.parametrize("login", ["player1", "PLAYER1", "player1@example.test"])
def test_a_player_signs_in_by_name_or_email(client, player, login):
    factories.sign_in(client, login)
    assert client.get("/api/tokens").status_code == 200


def test_a_wrong_password_does_not_sign_in(client, player):
    response = client.post("/login", data={"login": "player1", "password": "wrong-password"})
    assert response.status_code == 400
    assert "wrong password" in response.get_data(as_text=True)
    assert client.get("/api/tokens").status_code == 401


@pytest.mark.parametrize("login", ["player1\x00", "\x00"])
def test_an_unstorable_login_is_a_failed_sign_in_not_an_error(client, player, login):
    response = client.post("/login", data={"login": login, "password": "wrong-password"})
    assert response.status_code == 400


def test_sign_in_follows_only_local_next_links(client, player):
    response = client.post(
        "/login?next=https://evil.example/",
        data={"login": "player1", "password": factories.DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/levels"


def test_sign_out_needs_a_post_and_ends_the_session(player_client):
    assert player_client.get("/logout").status_code == 405
    assert player_client.post("/logout").status_code == 302
    assert player_client.get("/api/tokens").status_code == 401


def test_repeated_failed_sign_ins_are_rate_limited_per_name(client, player, config_override):
    config_override(LOGIN_RATE_LIMIT="3/minute")
    for _ in range(3):
        client.post("/login", data={"login": "player1", "password": "wrong-password"})
    response = client.post(
        "/login", data={"login": "player1", "password": factories.DEFAULT_PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/api/tokens").status_code == 401
    # Another account from the same address is not locked out by this one's failures.
    with client.application.app_context():
        factories.make_user("player2")
    factories.sign_in(client.application.test_client(), "player2")


def test_sign_ins_are_rate_limited_per_address(client, player, config_override):
    config_override(LOGIN_ADDRESS_RATE_LIMIT="2/minute")
    for name in ("a-name", "b-name"):
        client.post("/login", data={"login": name, "password": "wrong-password"})
    response = client.post(
        "/login", data={"login": "player1", "password": factories.DEFAULT_PASSWORD}
    )
    assert response.status_code == 429


def test_forms_are_refused_without_a_csrf_token(client, player, config_override):
    config_override(WTF_CSRF_ENABLED=True)
    response = client.post(
        "/login", data={"login": "player1", "password": factories.DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"login": "player1", "password": factories.DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_an_anonymous_visitor_of_a_signed_in_page_is_sent_to_login(client):
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
