"""Domain errors and the one place that renders them: JSON under /api, an HTML page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from limits.errors import StorageError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError

# Error codes for plain HTTP failures raised by Flask, Werkzeug or an extension.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
# What the database layer raises when the database cannot answer: unreachable, timed out, or
# no pooled connection free in time.
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeout)


class AppError(Exception):
    """A failure the caller can act on; carries its HTTP status, a stable code and data."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        **data: Any,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.fields = fields
        self.data = data
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        error.update(self.data)
        return error


class ValidationFailed(AppError):
    status = 400
    code = "validation_error"
    message = "The request body is not valid."


class AuthenticationRequired(AppError):
    status = 401
    code = "authentication_required"
    message = "Sign in or send a valid API token."


class InvalidToken(AuthenticationRequired):
    code = "invalid_token"
    message = "The API token is unknown or has been revoked."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "The request conflicts with existing data."


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as JSON with Content-Type: application/json."


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, error: dict[str, Any], headers: Any = None):
    """The JSON envelope every /api failure shares."""
    response = jsonify(success=False, error=error)
    response.status_code = status
    if headers:
        for name, value in headers:
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
    return response


def html_error(status: int, title: str, message: str, headers: Any = None):
    """An error page in the site's layout. Its menu bar shows the signed-in player, and
    loading them takes the database: when that fails, the answer is the database's 503."""
    try:
        page = render_template("error.html", status=status, title=title, message=message)
    except DATABASE_UNAVAILABLE as error:
        return handle_database_unavailable(error)
    return page, status, headers or {}


def handle_app_error(error: AppError):
    if is_api_request():
        return error_response(error.status, error.to_dict())
    return html_error(error.status, error.code.replace("_", " ").capitalize(), error.message)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code = HTTP_ERROR_CODES.get(status, "http_error")
    if is_api_request():
        message = error.description or error.name
        headers = error.get_response().headers if status in (405, 429) else None
        return error_response(status, {"code": code, "message": message}, headers)
    if error.response is not None:
        return error.response
    if isinstance(error, SecurityError):
        # An untrusted Host leaves the request without URLs, so no page of ours can be built.
        return error.get_response()
    response = html_error(status, error.name, error.description or "")
    return response


def handle_database_unavailable(error: Exception):
    """503 database_unavailable, answered without the database: the rest of the request
    treats the visitor as signed out (their cookies stay), and the unit of work it was part of
    is dropped, a pending last-seen refresh included."""
    # Imported here: app.metrics (through the services) and app.auth import this module.
    from app import metrics
    from app.auth import forget_visitor

    metrics.DATABASE_ERRORS.inc()
    current_app.logger.error("database unavailable: %s", getattr(error, "orig", None) or error)
    forget_visitor()
    headers = {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])}
    message = "The database is unavailable; try again shortly."
    if is_api_request():
        return error_response(
            503, {"code": "database_unavailable", "message": message}, headers.items()
        )
    page = render_template("error.html", status=503, title="Service unavailable", message=message)
    return page, 503, headers


def handle_rate_limiter_unavailable(error: StorageError):
    """With RATELIMIT_FAIL_CLOSED (or no fall back), a limited route answers 503 while the
    limit store is unreachable, rather than run without its limits."""
    current_app.logger.error("rate limit store unavailable: %s", error)
    headers = {"Retry-After": str(current_app.config["RATELIMIT_STORAGE_RETRY_AFTER_SECONDS"])}
    message = "Requests cannot be counted against their limits right now; try again shortly."
    if is_api_request():
        return error_response(
            503, {"code": "rate_limiter_unavailable", "message": message}, headers.items()
        )
    return html_error(503, "Service unavailable", message, headers)


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    message = "An unexpected error occurred; it has been logged."
    if is_api_request():
        return error_response(500, {"code": "internal_error", "message": message})
    return html_error(500, "Something went wrong", message)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, handle_database_unavailable)
    app.register_error_handler(StorageError, handle_rate_limiter_unavailable)
    app.register_error_handler(Exception, handle_unexpected)


class LevelNotFound(ValidationFailed):
    code = "unknown_level"
    message = "There is no such level."

    def __init__(self, level_id: str) -> None:
        super().__init__(
            f"There is no level {level_id!r}.",
            fields={"level_id": [f"Unknown level {level_id!r}."]},
        )


class LevelLocked(Forbidden):
    code = "level_locked"
    message = "This level cannot be played yet."


class ConflictingReuse(Conflict):
    """A client_event_id already recorded with a different payload."""

    code = "idempotency_conflict"

    def __init__(self, original_completion_id: int) -> None:
        super().__init__(
            "This client_event_id was already used for a different completion; "
            "generate a new id for a new attempt.",
            original_completion_id=original_completion_id,
        )
        self.original_completion_id = original_completion_id


class TrackingDisabled(NotFound):
    code = "tracking_disabled"
    message = "Server-side progress tracking is not enabled for this account."


class NegativeBalance(Conflict):
    code = "negative_balance"

    def __init__(self, balance: int, delta: int) -> None:
        super().__init__(
            f"A change of {delta} would take the balance of {balance} XP below zero.",
            balance=balance,
        )
