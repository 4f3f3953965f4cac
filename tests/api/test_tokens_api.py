"""A player's own API tokens: shown once, stored hashed, revocable, usage recorded."""

import hashlib

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from tests import factories


def test_a_new_token_is_shown_once_and_stored_only_as_a_digest(app, player_client):
    response = player_client.post("/api/tokens", json={"name": "phone"})
    assert response.status_code == 201
    secret = response.json["secret"]
    assert secret.startswith("cq_") and len(secret) > 40
    listed = player_client.get("/api/tokens").json["tokens"]
    assert "secret" not in listed[0]
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (stored.token_hash, stored.name)


def test_a_token_signs_requests_and_records_when_it_was_used(app, client, player):
    with app.app_context():
        secret = factories.make_token(player, "laptop")
    response = client.get("/api/tokens", headers=factories.bearer(secret))
    assert response.status_code == 200
    token = response.json["tokens"][0]
    assert token["name"] == "laptop" and token["is_active"] is True
    assert token["last_used_at"] is not None


def test_a_revoked_token_is_refused(app, client, player):
    with app.app_context():
        secret = factories.make_token(player)
    headers = factories.bearer(secret)
    token_id = client.get("/api/tokens", headers=headers).json["tokens"][0]["id"]
    response = client.delete(f"/api/tokens/{token_id}", headers=headers)
    assert response.status_code == 200
    assert response.json["token"]["revoked_at"] is not None
    refused = client.get("/api/tokens", headers=headers)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "invalid_token"


def test_a_player_cannot_revoke_someone_elses_token(app, client, player):
    with app.app_context():
        other = factories.make_user("player2")
        other_secret = factories.make_token(other)
        mine = factories.make_token(player)
    other_id = client.get("/api/tokens", headers=factories.bearer(other_secret)).json["tokens"][0][
        "id"
    ]
    response = client.delete(f"/api/tokens/{other_id}", headers=factories.bearer(mine))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "token_not_found"
    still = client.get("/api/tokens", headers=factories.bearer(other_secret))
    assert still.status_code == 200


def test_a_malformed_authorization_header_is_refused(client, player):
    for header in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token cq_abc"):
        response = client.get("/api/tokens", headers={"Authorization": header})
        assert response.status_code == 401
