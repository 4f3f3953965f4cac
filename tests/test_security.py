"""Security headers on every kind of answer, HSTS in production only, FORCE_HTTPS, and the
400 an untrusted Host header gets."""

import pytest

from app import create_app
from tests import factories

PRODUCTION_HOST = "cyberquest.example.org"
ONE_YEAR = 365 * 24 * 3600


def policy_directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in directives}


def assert_security_headers(response) -> None:
    assert policy_directives(response) == {
        "default-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.fixture()
def production_app(monkeypatch):
    """The production configuration with a real secret and host name, on a throwaway database."""
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    monkeypatch.setenv("TRUSTED_HOSTS", PRODUCTION_HOST)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("HSTS_ENABLED", raising=False)
    return create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.fixture()
def development_app(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("HSTS_ENABLED", raising=False)
    return create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/", 200, "text/html"),
        ("/nowhere", 404, "text/html"),
        ("/api/levels", 200, "application/json"),
        ("/api/nowhere", 404, "application/json"),
        ("/static/favicon.svg", 200, "image/svg+xml"),
    ],
)
def test_every_kind_of_answer_carries_the_security_headers(client, path, status, content_type):
    response = client.get(path)
    assert response.status_code == status
    assert response.content_type.startswith(content_type)
    assert_security_headers(response)


def test_an_api_failure_carries_the_security_headers(player_client):
    response = player_client.post("/api/tokens", data="name=x", content_type="text/plain")
    assert response.status_code == 415 and response.json["success"] is False
    assert_security_headers(response)


def test_production_sends_hsts_over_https(production_app):
    response = production_app.test_client().get("/", base_url=f"https://{PRODUCTION_HOST}")
    assert response.status_code == 200
    assert_security_headers(response)
    hsts = dict(
        part.strip().partition("=")[::2]
        for part in response.headers["Strict-Transport-Security"].split(";")
    )
    assert int(hsts["max-age"]) >= ONE_YEAR
    assert "includeSubDomains" in hsts


def test_production_sends_no_hsts_over_plain_http(production_app):
    # A browser ignores HSTS that reaches it over plain HTTP; only the proxy's HTTPS answer counts.
    response = production_app.test_client().get("/", base_url=f"http://{PRODUCTION_HOST}")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_development_never_sends_hsts(development_app):
    response = development_app.test_client().get("/", base_url="https://localhost")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    ("app_fixture", "secure"), [("production_app", True), ("development_app", False)]
)
def test_the_headers_leave_the_cookie_settings_of_config_as_they_are(request, app_fixture, secure):
    app = request.getfixturevalue(app_fixture)
    app.test_client().get("/")
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_sign_in_over_plain_http_keeps_a_cookie_that_works_there(client, player):
    response = factories.sign_in(client, player.username)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    assert not any("Secure" in cookie for cookie in cookies)
    assert client.get("/progress").status_code == 200


def test_plain_http_is_served_as_is_without_force_https(client):
    response = client.get("/levels")
    assert response.status_code == 200


def test_force_https_redirects_a_plain_http_page_to_https(client, config_override):
    config_override(FORCE_HTTPS=True)
    response = client.get("/levels?page=2")
    assert response.status_code == 307
    assert response.headers["Location"] == "https://localhost/levels?page=2"
    assert_security_headers(response)


def test_force_https_keeps_the_method_of_a_redirected_form(client, config_override):
    config_override(FORCE_HTTPS=True)
    response = client.post("/login", data={"login": "someone", "password": "x"})
    assert response.status_code == 307
    assert response.headers["Location"] == "https://localhost/login"


def test_force_https_serves_https_requests(client, config_override):
    config_override(FORCE_HTTPS=True)
    assert client.get("/levels", base_url="https://localhost").status_code == 200


def test_force_https_refuses_a_plain_http_api_call_with_json(client, config_override):
    config_override(FORCE_HTTPS=True)
    response = client.get("/api/levels")
    assert response.status_code == 403
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "https_required"
    assert "Location" not in response.headers


def test_force_https_ignores_a_forwarded_proto_from_an_untrusted_client(client, config_override):
    config_override(FORCE_HTTPS=True)
    response = client.get("/levels", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 307


def test_force_https_believes_a_trusted_proxy_that_says_https():
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "FORCE_HTTPS": True, "PROXY_FIX_X_PROTO": 1},
    )
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1:5000", "127.0.0.1"])
def test_a_trusted_host_is_served_on_any_port(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "sub.localhost"])
def test_an_untrusted_host_gets_a_plain_400_page(client, host):
    response = client.get("/levels", headers={"Host": host})
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert_security_headers(response)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_untrusted_host_gets_the_json_envelope_under_api(client, method):
    response = client.open(
        "/api/levels/progress", method=method, json={}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "bad_request"
    assert_security_headers(response)
