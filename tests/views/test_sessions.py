"""Sessions live on the server: signing out, everywhere or by a password change, ends them, and
a copy of a cookie taken before that is worth nothing afterwards."""

import re

import pytest

from app.extensions import db
from app.models import ApiToken, UserSession
from tests import factories

NEW_PASSWORD = "a-brand-new-secret"


def sign_in(app, *, remember=False, user_agent="TestBrowser/1.0"):
    client = app.test_client()
    data = {"login": "player1", "password": factories.DEFAULT_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, headers={"User-Agent": user_agent})
    assert response.status_code == 302
    return client


def with_cookie(app, name, value):
    """A fresh client holding only one saved cookie, as an attacker who copied it would."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def assert_signed_out(client):
    page = client.get("/progress")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/api/levels/progress").status_code == 401
    refused = client.post("/api/tokens", json={"name": "stolen"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "authentication_required"


def token_count(app):
    with app.app_context():
        return db.session.query(ApiToken).count()


def test_a_session_cookie_saved_before_sign_out_is_refused_after_it(app, player):
    client = sign_in(app)
    saved = client.get_cookie("session").value
    assert with_cookie(app, "session", saved).get("/progress").status_code == 200
    assert client.post("/logout").status_code == 302
    assert_signed_out(with_cookie(app, "session", saved))
    assert token_count(app) == 0


def test_a_remember_me_cookie_saved_before_sign_out_is_refused_after_it(app, player):
    client = sign_in(app, remember=True)
    saved = client.get_cookie("remember_token").value
    # Alone, the remember-me cookie signs a browser back in...
    assert with_cookie(app, "remember_token", saved).get("/progress").status_code == 200
    client.post("/logout")
    assert client.get_cookie("remember_token") is None
    # ...until its device signs out.
    assert_signed_out(with_cookie(app, "remember_token", saved))
    assert token_count(app) == 0


def test_the_remember_me_cookie_names_a_session_not_the_user(app, player):
    first = sign_in(app, remember=True).get_cookie("remember_token").value
    second = sign_in(app, remember=True).get_cookie("remember_token").value
    assert first != second
    assert not first.startswith(f"{player.id}|")


def test_signing_in_starts_a_new_session_and_csrf_secret(app, player, config_override):
    config_override(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = client.get_cookie("session").value
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"login": "player1", "password": factories.DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    # The form token issued before sign-in no longer passes: the CSRF secret is new.
    refused = client.post("/logout", data={"csrf_token": token})
    assert refused.status_code == 400
    # And the cookie an attacker could have planted before sign-in is still anonymous.
    assert with_cookie(app, "session", before).get("/progress").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_player(app, player):
    here, there = sign_in(app), sign_in(app, remember=True)
    remembered = there.get_cookie("remember_token").value
    assert here.post("/account/sign-out-everywhere").status_code == 302
    assert_signed_out(here)
    assert_signed_out(there)
    assert_signed_out(with_cookie(app, "remember_token", remembered))


def test_a_password_change_ends_the_other_sessions(app, player):
    here, there = sign_in(app), sign_in(app, remember=True)
    response = here.post(
        "/account/password",
        data={
            "current_password": factories.DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert here.get("/progress").status_code == 200  # this device goes on
    assert_signed_out(there)
    old = app.test_client().post(
        "/login", data={"login": "player1", "password": factories.DEFAULT_PASSWORD}
    )
    assert old.status_code == 400
    factories.sign_in(app.test_client(), "player1", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current_password": "not-my-password"}, "not your current password"),
        ({"new_password": "short", "confirm": "short"}, "at least 10"),
        ({"confirm": "something-else-entirely"}, "Passwords differ"),
    ],
)
def test_a_refused_password_change_changes_nothing(app, player, fields, message):
    here, there = sign_in(app), sign_in(app)
    data = {
        "current_password": factories.DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    } | fields
    response = here.post("/account/password", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert there.get("/progress").status_code == 200
    factories.sign_in(app.test_client(), "player1")


def test_the_account_page_lists_the_players_sessions_and_ends_one(app, player):
    here = sign_in(app, user_agent="HereBrowser/2.0")
    there = sign_in(app, user_agent="ThereBrowser/3.0")
    page = here.get("/account").get_data(as_text=True)
    assert "HereBrowser/2.0" in page and "ThereBrowser/3.0" in page
    assert page.count('data-testid="this-device"') == 1
    with app.app_context():
        other = db.session.query(UserSession).filter_by(user_agent="ThereBrowser/3.0").one()
    assert here.post(f"/account/sessions/{other.id}/end").status_code == 302
    assert_signed_out(there)
    assert here.get("/progress").status_code == 200
    assert "ThereBrowser/3.0" not in here.get("/account").get_data(as_text=True)


def test_a_player_cannot_end_another_players_session(app, player):
    with app.app_context():
        factories.make_user("player2")
    theirs = app.test_client()
    factories.sign_in(theirs, "player2")
    with app.app_context():
        their_session = db.session.query(UserSession).one()
    mine = sign_in(app)
    assert mine.post(f"/account/sessions/{their_session.id}/end").status_code == 404
    assert theirs.get("/progress").status_code == 200


def test_an_idle_session_expires(app, player, config_override):
    config_override(SESSION_IDLE_TIMEOUT_SECONDS=0)
    client = sign_in(app)
    assert_signed_out(client)


def test_only_a_digest_of_the_session_secret_is_stored(app, player):
    client = sign_in(app, remember=True)
    cookie = client.get_cookie("remember_token").value
    secret = cookie.split("|")[0]
    with app.app_context():
        stored = db.session.query(UserSession).one()
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
