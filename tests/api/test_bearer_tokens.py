"""A bearer token that is sent is always checked, on every /api route, public ones included."""

import pytest

from app.services import accounts, tokens
from tests import factories


@pytest.fixture()
def revoked_token(app, player):
    with app.app_context():
        secret = factories.make_token(player)
        token_id = tokens.list_tokens(accounts.get_user(player.id))[0].id
        tokens.revoke_token(token_id)
    return secret


BAD_HEADERS = {
    "garbage": "Bearer not-a-token",
    "empty": "Bearer ",
    "bare scheme": "Bearer",
    "other scheme": "Basic cGxheWVyMTpwYXNzd29yZA==",
    "token without scheme": "cq_abcdef",
    "well-formed but unknown": "Bearer cq_" + "A" * 43,
}
PUBLIC_ROUTES = ["/api/levels", "/api/openapi.json"]


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_bad_authorization_header_is_refused_on_a_public_route(client, levels, route, header):
    response = client.get(route, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("route", [*PUBLIC_ROUTES, "/api/levels/progress", "/api/tokens"])
def test_a_revoked_token_is_refused_everywhere(client, levels, revoked_token, route):
    response = client.get(route, headers=factories.bearer(revoked_token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_bad_token_is_refused_beside_a_valid_session_cookie(player_client, levels):
    response = player_client.get("/api/levels", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_bad_token_on_a_write_records_nothing(client, levels):
    body = {"level_id": 1, "score": 500, "time_spent": 300}
    response = client.post(
        "/api/levels/complete", json=body, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_valid_token_decides_who_is_calling_even_beside_a_cookie(app, player_client, levels):
    with app.app_context():
        other = factories.make_user("player2")
        secret = factories.make_token(other)
    catalog = player_client.get("/api/levels", headers=factories.bearer(secret))
    assert catalog.status_code == 200
    assert catalog.get_json()["levels"][0]["progress"] is not None  # signed in, as player2
    tokens_seen = player_client.get("/api/tokens", headers=factories.bearer(secret)).get_json()
    assert [token["name"] for token in tokens_seen["tokens"]] == ["tests"]


def test_anonymous_callers_without_a_header_still_read_the_catalog(client, levels):
    response = client.get("/api/levels")
    assert response.status_code == 200
    assert response.get_json()["levels"][0]["progress"] is None
