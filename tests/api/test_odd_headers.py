"""Whatever a client puts in its headers, the API answers its JSON envelope and never a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

FUZZED_HEADERS = (
    "Content-Type",
    "Origin",
    "Sec-Fetch-Site",
    "Authorization",
    "X-Forwarded-For",
    "Accept",
    "Cookie",
)
COMPLETION = json.dumps(
    {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}
)
ODD_VALUES = [
    "",
    " ",
    "\t",
    '"',
    "null",
    "*/*",
    "text/html",
    "application/json; charset=utf-16",
    "application/json; charset=nonsense",
    'application/json; charset="',
    "application/json;;;",
    "application/problem+json",
    "multipart/form-data; boundary=",
    "Bearer",
    "Bearer ",
    "bearer cq_" + "a" * 64,
    "Bearer cq_\t",
    "Basic Zm9vOmJhcg==",
    "Bearer a b c",
    "same-origin",
    "cross-site",
    "none",
    "http://localhost",
    "http://localhost/",
    "https://evil.example",
    "file://",
    "1.2.3.4, 5.6.7.8",
    "::1",
    "not-an-address",
    "session=",
    "session=; session=x",
    "=;=;==",
    "remember_token=1|abc",
    "x" * 4000,
    "\xff\xfe",
]
# What a real server hands on: printable Latin-1 text with tabs, never a line break.
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
    | st.just("\t"),
    max_size=300,
)
header_values = st.sampled_from(ODD_VALUES) | header_text
fuzzed_headers = st.dictionaries(st.sampled_from(FUZZED_HEADERS), header_values)


@pytest.fixture()
def raw_client(app):
    """A client that sends exactly the headers it is given, Cookie included."""
    return app.test_client(use_cookies=False)


@pytest.fixture()
def session_cookie(app, player_client) -> str:
    """The Cookie header value of a signed-in player."""
    name = app.config["SESSION_COOKIE_NAME"]
    return f"{name}={player_client.get_cookie(name).value}"


def assert_envelope(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    if response.status_code >= 400:
        assert body["success"] is False
        assert body["error"]["code"] and body["error"]["message"]
    else:
        assert isinstance(body, dict)


REQUESTS = [
    ("post", "/api/levels/complete", COMPLETION),
    ("get", "/api/levels", None),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(headers=fuzzed_headers)
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=["complete", "catalog"])
def test_odd_header_values_never_break_the_envelope(
    raw_client, session_cookie, levels, config_override, signed_in, method, path, body, headers
):
    # Limits far above the examples sent, so every example reaches the route itself.
    config_override(
        COMPLETION_RATE_LIMIT="100000/minute", COMPLETION_ADDRESS_RATE_LIMIT="100000/minute"
    )
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent |= headers
    if signed_in:
        sent["Cookie"] = "; ".join(filter(None, [session_cookie, headers.get("Cookie")]))
    response = getattr(raw_client, method)(path, data=body, headers=sent)
    assert_envelope(response)


def test_the_signed_in_fuzz_really_is_signed_in(raw_client, session_cookie, levels):
    response = raw_client.get("/api/levels/progress", headers={"Cookie": session_cookie})
    assert response.status_code == 200


def test_a_token_with_odd_headers_still_gets_the_envelope(app, raw_client, player, levels):
    with app.app_context():
        secret = factories.make_token(player)
    headers = {**factories.bearer(secret), "Origin": "null", "Sec-Fetch-Site": "\xff"}
    response = raw_client.post(
        "/api/levels/complete", data=COMPLETION, content_type="application/json", headers=headers
    )
    assert_envelope(response)
    assert response.status_code == 200
