"""Cookie-signed API writes must come from a page on a configured host, whatever Host says."""

import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LevelCompletion, User, XPHistory

EVIL_HOST = "evil.example"


def completion() -> dict:
    return {
        "level_id": "level-1",
        "score": 850,
        "time_spent": 120,
        "metadata": {"hints_used": 0, "mistakes": 1},
        "client_event_id": str(uuid.uuid4()),
    }


def recorded(app, username: str) -> tuple[int, int, int]:
    """Completions and ledger rows recorded, and the player's total."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(LevelCompletion)),
            db.session.scalar(select(func.count()).select_from(XPHistory)),
            db.session.scalar(select(User.total_xp).where(User.username == username)),
        )


@pytest.fixture()
def evil_host_client(app, player, levels, config_override):
    """A player signed in through a Host header of the attacker's choosing (host check off).

    The test client keeps cookies per host, so the sign-in goes to that host as well.
    """
    config_override(TRUSTED_HOSTS=None)
    client = app.test_client()
    response = client.post(
        "/login",
        data={"login": player.username, "password": player.password},
        headers={"Host": EVIL_HOST},
    )
    assert response.status_code == 302
    assert client.get("/api/levels/progress", headers={"Host": EVIL_HOST}).status_code == 200
    return client


def post_from_evil_host(client):
    headers = {"Host": EVIL_HOST, "Origin": f"http://{EVIL_HOST}"}
    return client.post("/api/levels/complete", json=completion(), headers=headers)


def test_an_untrusted_host_with_its_own_origin_is_refused_and_records_nothing(
    app, evil_host_client, player, config_override
):
    config_override(TRUSTED_HOSTS=["localhost", "127.0.0.1"])
    response = post_from_evil_host(evil_host_client)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    assert recorded(app, player.username) == (0, 0, 0)


def test_an_origin_matching_the_host_header_is_not_trusted_for_it(app, evil_host_client, player):
    # Flask's host check is off here, so only the guard stands between the request and a write.
    response = post_from_evil_host(evil_host_client)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "cross_origin_forbidden"
    assert recorded(app, player.username) == (0, 0, 0)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://LOCALHOST/",
        "https://localhost",
        "http://localhost:5000",
        "http://127.0.0.1:8443",
    ],
)
def test_an_origin_on_a_trusted_host_is_accepted_on_any_port_and_scheme(
    app, player_client, player, levels, origin
):
    response = player_client.post(
        "/api/levels/complete", json=completion(), headers={"Origin": origin}
    )
    assert response.status_code == 200
    # The seed's example: 100 x 31.6 / 38 = 83.16 -> 83 XP (README, "XP rules").
    assert recorded(app, player.username) == (1, 1, 83)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://sub.localhost",
        "http://localhost.evil.example",
        "http://evil.example@localhost",
        "ftp://localhost",
        "localhost",
    ],
)
def test_an_origin_elsewhere_is_refused(app, player_client, player, levels, origin):
    response = player_client.post(
        "/api/levels/complete", json=completion(), headers={"Origin": origin}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "cross_origin_forbidden"
    assert recorded(app, player.username) == (0, 0, 0)


def test_a_leading_dot_trusts_every_subdomain(player_client, config_override):
    config_override(TRUSTED_HOSTS=["localhost", ".example.org"])
    headers = {"Origin": "https://play.example.org"}
    assert player_client.post("/api/tokens", json={"name": "x"}, headers=headers).status_code == 201


def test_an_origin_listed_in_trusted_origins_is_accepted(player_client, config_override):
    config_override(TRUSTED_ORIGINS=["https://play.example.net"])
    headers = {"Origin": "https://play.example.net"}
    assert player_client.post("/api/tokens", json={"name": "x"}, headers=headers).status_code == 201


def test_without_trusted_hosts_no_origin_is_trusted(player_client, config_override):
    # An empty list would let werkzeug trust every host; the guard trusts none instead.
    config_override(TRUSTED_HOSTS=[])
    response = player_client.post(
        "/api/tokens", json={"name": "x"}, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 403
    assert player_client.get("/api/tokens").json["tokens"] == []
