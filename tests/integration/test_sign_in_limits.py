"""The per-account budget of failed sign-ins holds across processes and addresses: two real
gunicorn servers (production settings) count in one Redis, and the guessers connect from
three loopback addresses."""

from __future__ import annotations

import http.client
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from app.views.auth_views import WRONG_CREDENTIALS
from tests import factories
from tests.integration.conftest import HTTP_TIMEOUT

pytestmark = pytest.mark.postgres_only

ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
SPELLINGS = ["guessed", "guessed@example.test", "GUESSED"]
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    text: str


def fetch(port, address, method, path, *, cookie="", form=None) -> Page:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=HTTP_TIMEOUT, source_address=(address, 0)
    )
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Page(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read().decode(errors="replace"),
        )
    finally:
        connection.close()


def session_cookie(page: Page) -> str:
    return f"session={SimpleCookie(page.headers['set-cookie'])['session'].value}"


def sign_in_form(port, address):
    """What a browser holds after opening /login: its session cookie and the form's token."""
    page = fetch(port, address, "GET", "/login")
    return session_cookie(page), CSRF_FIELD.search(page.text).group(1)


def attempt(port, address, login, password) -> Page:
    cookie, token = sign_in_form(port, address)
    form = {"login": login, "password": password, "csrf_token": token}
    return fetch(port, address, "POST", "/login", cookie=cookie, form=form)


def test_fifteen_parallel_guesses_from_three_addresses_check_five_passwords(app, servers):
    with app.app_context():
        factories.make_user("guessed")
    ports = [server.port for server in servers.servers]
    guesses = [(ports[n % 2], ADDRESSES[n % 3], SPELLINGS[n % 3]) for n in range(15)]
    # Every guesser holds its form before the race starts, so the race is the POSTs alone.
    forms = [sign_in_form(port, address) for port, address, _ in guesses]

    def post(n: int) -> Page:
        port, address, login = guesses[n]
        cookie, token = forms[n]
        form = {"login": login, "password": "wrong-password", "csrf_token": token}
        return fetch(port, address, "POST", "/login", cookie=cookie, form=form)

    with ThreadPoolExecutor(max_workers=15) as pool:
        answers = list(pool.map(post, range(15)))

    checked = [answer for answer in answers if WRONG_CREDENTIALS in answer.text]
    assert len(checked) == 5, [answer.status for answer in answers]
    refused = [answer for answer in answers if answer.status == 429]
    assert len(refused) >= 10
    assert all(0 < int(answer.headers["retry-after"]) <= 60 for answer in refused)
    # The owner's right password waits for the window too, on either server.
    late = attempt(ports[1], "127.0.0.5", "guessed", factories.DEFAULT_PASSWORD)
    assert late.status == 429


def test_a_session_ended_on_one_server_is_refused_by_the_other(app, servers):
    with app.app_context():
        factories.make_user("traveller")
    first, second = (server.port for server in servers.servers)
    cookie, token = sign_in_form(first, "127.0.0.1")
    signed_in = fetch(
        first,
        "127.0.0.1",
        "POST",
        "/login",
        cookie=cookie,
        form={"login": "traveller", "password": factories.DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert signed_in.status == 302
    signed_in_cookie = session_cookie(signed_in)
    assert fetch(second, "127.0.0.1", "GET", "/progress", cookie=signed_in_cookie).status == 200
    account = fetch(second, "127.0.0.1", "GET", "/account", cookie=signed_in_cookie)
    # The page's form token lives in the session cookie that page sent back.
    account_cookie = session_cookie(account)
    token = CSRF_FIELD.search(account.text).group(1)
    signed_out = fetch(
        second, "127.0.0.1", "POST", "/logout", cookie=account_cookie, form={"csrf_token": token}
    )
    assert signed_out.status == 302
    for port in (first, second):
        for cookie in (signed_in_cookie, account_cookie):
            assert fetch(port, "127.0.0.1", "GET", "/progress", cookie=cookie).status == 302
            answer = fetch(port, "127.0.0.1", "GET", "/api/levels/progress", cookie=cookie)
            assert answer.status == 401
