"""Failed sign-ins are limited per account, from every address and by either spelling."""

import threading
import time

import pytest

from app.views.auth_views import WRONG_CREDENTIALS
from tests import factories

WRONG = "wrong-password"
ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
SPELLINGS = ["player1", "PLAYER1@example.test", "Player1"]


def attempt(client, login, password, address="127.0.0.1"):
    return client.post(
        "/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def is_signed_in(client) -> bool:
    return client.get("/api/tokens").status_code == 200


def test_the_fifth_failure_from_any_address_or_spelling_is_refused(client, player):
    statuses = [
        attempt(client, SPELLINGS[n % 3], WRONG, ADDRESSES[n % 3]).status_code for n in range(4)
    ]
    assert statuses == [400, 400, 400, 400]
    fifth = attempt(client, "player1@example.test", WRONG, "127.0.0.9")
    assert fifth.status_code == 429
    assert 0 < int(fifth.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in fifth.get_data(as_text=True)
    assert WRONG_CREDENTIALS in fifth.get_data(as_text=True)
    # The budget is spent: even the right password is not checked until the window passes.
    right = attempt(client, "player1", factories.DEFAULT_PASSWORD, "127.0.0.10")
    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 60
    assert WRONG_CREDENTIALS not in right.get_data(as_text=True)
    assert not is_signed_in(client)


def test_another_account_is_not_slowed_by_those_failures(client, player):
    with client.application.app_context():
        factories.make_user("player2")
    for _ in range(5):
        attempt(client, "player1", WRONG)
    assert attempt(client, "player2", factories.DEFAULT_PASSWORD).status_code == 302


def test_a_correct_password_after_the_window_signs_in(client, player, config_override):
    config_override(LOGIN_ACCOUNT_RATE_LIMIT="5 per 2 seconds")
    for _ in range(5):
        attempt(client, "player1", WRONG)
    assert attempt(client, "player1", factories.DEFAULT_PASSWORD).status_code == 429
    time.sleep(2.2)
    assert attempt(client, "player1", factories.DEFAULT_PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_a_correct_password_gives_the_account_its_budget_back(app, player):
    guesser, owner = app.test_client(), app.test_client()
    for _ in range(4):
        assert attempt(guesser, "player1", WRONG).status_code == 400
    assert attempt(owner, "player1", factories.DEFAULT_PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(guesser, "player1", WRONG).status_code == 400


def test_names_that_match_no_account_are_throttled_alike(client, player):
    statuses = [attempt(client, "nobody-here", WRONG).status_code for _ in range(6)]
    assert statuses == [400, 400, 400, 400, 429, 429]


def test_parallel_guesses_are_counted_exactly(app, player):
    """15 guesses at once from three addresses: exactly five passwords are checked."""
    # One guess first, so that the limiter has its bookkeeping for the account in place
    # before the race; the race is then about the count alone.
    assert attempt(app.test_client(), "player1", WRONG).status_code == 400
    start = threading.Barrier(15, timeout=30)
    answers = []

    def guess(n: int) -> None:
        client = app.test_client()
        start.wait()
        answers.append(attempt(client, SPELLINGS[n % 3], WRONG, ADDRESSES[n % 3]))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 15
    # A guess that was checked says the password was wrong (with 429 when the account's
    # budget was spent by the time it answered); the others were refused unchecked.
    checked = [answer for answer in answers if WRONG_CREDENTIALS in answer.get_data(as_text=True)]
    assert len(checked) == 4
    assert sorted(answer.status_code for answer in answers).count(429) >= 11
    assert attempt(app.test_client(), "player1", factories.DEFAULT_PASSWORD).status_code == 429


@pytest.mark.parametrize("password", [WRONG, factories.DEFAULT_PASSWORD])
def test_a_wrong_current_password_on_the_password_page_uses_the_same_budget(app, player, password):
    client = app.test_client()
    factories.sign_in(client, "player1")
    guesser = app.test_client()
    for _ in range(4):
        attempt(guesser, "player1", WRONG)
    response = client.post(
        "/account/password",
        data={
            "current_password": WRONG,
            "new_password": "another-pass-1",
            "confirm": "another-pass-1",
        },
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert attempt(app.test_client(), "player1", password).status_code == 429
