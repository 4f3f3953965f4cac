"""The per-account budget of failed password checks, shared by every address and spelling.

Each attempt takes a slot atomically *before* the password is checked, so parallel guesses
cannot all pass a "still under the limit?" test first: with LOGIN_ACCOUNT_RATE_LIMIT at
5/minute, at most five checks of one account's password run in any minute, wherever they
come from. A correct password gives the account its whole budget back (successful sign-ins
do not count), and the budget is only a moving window, so the owner is never kept out for
longer than the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter import RequestLimit
from flask_login import current_user

from app import limit_batch
from app.extensions import limiter
from app.services import accounts

SCOPE = "password-checks"
KEY_PREFIX = "account:"


def signing_in_account():
    """The account the sign-in form names (looked up once per request), or None."""
    if "signing_in_account" not in g:
        g.signing_in_account = accounts.find_account(request.form.get("login", ""))
    return g.signing_in_account


def account_key() -> str:
    """One key per account, whether it was named by user name or email; a name that matches
    no account is counted by itself, so throttling does not tell which names exist. An empty
    key (nothing typed) is skipped by the limiter."""
    if current_user.is_authenticated:
        return f"{KEY_PREFIX}id:{current_user.id}"
    user = signing_in_account()
    if user is not None:
        return f"{KEY_PREFIX}id:{user.id}"
    name = accounts.normalize_username(request.form.get("login", ""))[:254]
    return f"{KEY_PREFIX}name:{name}" if name else ""


def limit_password_checks(on_breach: Callable[[RequestLimit], object]):
    """Decorate a view that checks a password: every POST takes a slot of the account's."""
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
        scope=SCOPE,
        key_func=account_key,
        methods=["POST"],
        on_breach=on_breach,
    )


def account_limits() -> list[RequestLimit]:
    return [
        limit
        for limit in limiter.current_limits
        if any(str(arg).startswith(KEY_PREFIX) for arg in limit.request_args)
    ]


def checks_left() -> int:
    """How many more failures the account may have in the window (after this request's and
    those of concurrent guesses: the window is read again after the slow password check)."""
    limits = account_limits()
    limit_batch.forget_windows([limit.key for limit in limits])
    return min((limit.remaining for limit in limits), default=1)


def retry_after(limits: list[RequestLimit] | None = None) -> int:
    """Seconds until the account may try again."""
    limits = account_limits() if limits is None else limits
    reset_at = max((limit.reset_at for limit in limits), default=time.time() + 1)
    return max(1, int(reset_at - time.time()))


def forgive_failures() -> None:
    """A correct password: the account's failed attempts stop counting."""
    for limit in account_limits():
        limiter.limiter.clear(limit.limit, *limit.request_args)
