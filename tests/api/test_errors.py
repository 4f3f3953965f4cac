"""Every failure under /api answers the JSON envelope: right status, a code, no internals."""

import json

import pytest

from tests import factories

TOO_BIG = 17 * 1024


def assert_envelope(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/no-such-thing", {}, 404, "not_found"),
        ("post", "/api/levels", {"json": {}}, 405, "method_not_allowed"),
        ("get", "/api/tokens", {}, 401, "authentication_required"),
        (
            "get",
            "/api/tokens",
            {"headers": {"Authorization": "Bearer cq_nope"}},
            401,
            "invalid_token",
        ),
        ("post", "/api/tokens", {"json": {"name": "x"}}, 401, "authentication_required"),
        ("get", "/api/_test/crash", {}, 500, "internal_error"),
        ("get", "/api/_test/database-down", {}, 503, "database_unavailable"),
        ("get", "/api/_test/domain-error", {}, 400, "domain_failure"),
    ],
)
def test_anonymous_failures_answer_the_envelope(client, method, path, kwargs, status, code):
    response = getattr(client, method)(path, **kwargs)
    assert_envelope(response, status, code)


def test_an_unknown_method_lists_the_allowed_ones(client):
    response = client.delete("/api/levels")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_an_anonymous_api_call_is_never_redirected_to_the_login_page(client):
    response = client.get("/api/tokens", follow_redirects=False)
    assert response.status_code == 401
    assert "Location" not in response.headers


def test_a_crash_leaks_no_internals(client):
    response = client.get("/api/_test/crash")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "invalid_json"),
        ("[1, 2]", "application/json", 400, "invalid_json"),
        ('"name"', "application/json", 400, "invalid_json"),
        ("name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ('{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
        (json.dumps({"name": ""}), "application/json", 400, "validation_error"),
        (json.dumps({"name": 7}), "application/json", 400, "validation_error"),
        (json.dumps({"name": "x" * 65}), "application/json", 400, "validation_error"),
        (json.dumps({"name": "ok", "admin": True}), "application/json", 400, "validation_error"),
        (json.dumps({"name": "nul\u0000"}), "application/json", 400, "validation_error"),
        ('{"name": "half \\ud800 pair"}', "application/json", 400, "validation_error"),
        (json.dumps({}), "application/json", 400, "validation_error"),
        (json.dumps({"name": "x" * TOO_BIG}), "application/json", 413, "payload_too_large"),
    ],
)
def test_bad_write_bodies_are_refused_and_create_nothing(
    player_client, body, content_type, status, code
):
    response = player_client.post("/api/tokens", data=body, content_type=content_type)
    assert_envelope(response, status, code)
    assert player_client.get("/api/tokens").json["tokens"] == []


def test_a_validation_error_names_the_field(player_client):
    response = player_client.post("/api/tokens", json={"name": "", "colour": "red"})
    body = assert_envelope(response, 400, "validation_error")
    assert set(body["error"]["fields"]) == {"name", "colour"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.localhost"},
    ],
)
def test_a_cross_site_cookie_write_is_forbidden(player_client, headers):
    response = player_client.post("/api/tokens", json={"name": "x"}, headers=headers)
    assert_envelope(response, 403, "cross_origin_forbidden")
    assert player_client.get("/api/tokens").json["tokens"] == []


def test_a_same_origin_cookie_write_is_accepted(player_client):
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    response = player_client.post("/api/tokens", json={"name": "x"}, headers=headers)
    assert response.status_code == 201


def test_a_token_write_needs_no_origin(app, client, player):
    with app.app_context():
        secret = factories.make_token(player)
    headers = {**factories.bearer(secret), "Origin": "https://elsewhere.example"}
    response = client.post("/api/tokens", json={"name": "ci"}, headers=headers)
    assert response.status_code == 201


def test_rate_limited_calls_answer_429_with_retry_after(player_client, config_override):
    config_override(TOKEN_CREATE_RATE_LIMIT="2/minute")
    for n in range(2):
        assert player_client.post("/api/tokens", json={"name": f"t{n}"}).status_code == 201
    response = player_client.post("/api/tokens", json={"name": "t3"})
    assert_envelope(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Limit"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert len(player_client.get("/api/tokens").json["tokens"]) == 2
