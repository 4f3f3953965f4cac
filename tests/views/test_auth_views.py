"""Registering, signing in and out through the HTML pages."""

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "target",
    [
        "/\r\nSet-Cookie: x=1",
        "//",
        "//[",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/ levels",
        "/\x00",
        "levels",
    ],
)
def test_a_bad_next_link_sends_a_signed_in_player_to_the_levels_page(player_client, target):
    response = player_client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/levels"


def test_a_next_link_with_an_encoded_line_break_is_not_an_error(player_client):
    response = player_client.get("/login?next=/%0d%0aX:1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/levels"
    assert "X" not in response.headers


def test_a_local_next_link_is_followed(player_client):
    response = player_client.get("/login", query_string={"next": "/progress?tab=history"})
    assert response.headers["Location"] == "/progress?tab=history"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(target=st.text(max_size=40) | st.from_regex(r"\A[/\\]{1,3}[ -~\r\n\t]{0,20}\Z"))
def test_any_next_link_redirects_to_a_path_of_this_site(player_client, target):
    response = player_client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith("//")
    assert not parts.scheme and not parts.netloc
    assert not any(ord(char) < 0x21 or char in "\\\x7f" for char in location)
