"""Keys that rate limits count by, and the rate-limit headers of a limited route's answers."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from http import HTTPStatus

from flask import Flask, Response, current_app
from flask_limiter import RequestLimit
from flask_login import current_user
from limits.errors import StorageError

from app.extensions import limiter, remote_address


def user_or_address() -> str:
    """The signed-in user's id, so one player's limit follows them across addresses."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{remote_address()}"


def register_limit_headers(app: Flask) -> None:
    """Describe the limit that binds the caller on every answer of a limited route."""
    app.after_request(add_limit_headers)


def add_limit_headers(response: Response) -> Response:
    """X-RateLimit-Limit/Remaining/Reset of the binding limit, and Retry-After on a 429.

    Retry-After is only ever added to a 429: on any other answer it would tell a client that
    honours it to wait for nothing. A Retry-After the response already carries is kept.
    """
    limits = limiter.current_limits
    if not limits:
        return response
    try:
        binding = binding_limit(limits)
        # The exact reset time of the window: reset_at is rounded up to the next second.
        resets_in = binding.window.reset_time - time.time()
        remaining, reset_at = binding.remaining, binding.reset_at
    except storage_errors() as error:
        # Flask-Limiter falls back to memory when its store fails a check; a store that fails
        # while only being read for headers costs the headers, never the answer.
        current_app.logger.warning("rate-limit headers left out, limit store failed: %r", error)
        # A whole window of the limits that refused (the most a client could have to wait)
        # needs no store.
        refusing = [limit for limit in limits if limit.breached] or limits
        set_retry_after(response, max(limit.limit.get_expiry() for limit in refusing))
        return response
    response.headers["X-RateLimit-Limit"] = str(binding.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    set_retry_after(response, resets_in)
    return response


def binding_limit(limits: Sequence[RequestLimit]) -> RequestLimit:
    """The limit that decides when the caller may come back: of the breached ones the one that
    resets last; when none is breached, the one with the fewest remaining (ties go to the
    smaller limit)."""
    breached = [limit for limit in limits if limit.breached]
    if breached:
        return max(breached, key=lambda limit: limit.reset_at)
    return min(limits, key=lambda limit: (limit.remaining, limit.limit.amount))


def set_retry_after(response: Response, seconds: float) -> None:
    """Retry-After on a 429 that does not carry one yet (at least a second, so it never says
    "now" while the limit still holds)."""
    if response.status_code != HTTPStatus.TOO_MANY_REQUESTS or "Retry-After" in response.headers:
        return
    response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))


def storage_errors() -> tuple[type[Exception], ...]:
    """What reading the limit store raises when it is down: its driver's errors, or limits'
    StorageError when the store is configured to wrap them."""
    driver_errors = limiter.storage.base_exceptions
    if not isinstance(driver_errors, tuple):
        driver_errors = (driver_errors,)
    return (StorageError, *driver_errors)
