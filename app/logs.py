"""Structured logs: one formatter for every logger of the process (the app's, its libraries' and
gunicorn's), a request id on every answer and log line, and one closing line per request.

structlog rather than python-json-logger: one processor chain renders both the standard-library
records of Flask, Flask-Limiter, SQLAlchemy, alembic, werkzeug and gunicorn and our own
key-value lines, as JSON or for the console, and its context variables carry the request id
into every line a request causes without passing it to each call. It has no dependencies.
The fields and how to read them are described in docs/operations.md.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Flask, Response, g, request, request_started
from flask.logging import default_handler
from gunicorn import glogging

from app import jsonio

LOG_FORMATS = ("json", "console")
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only when it can neither break a log line or a header nor grow unbounded.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
COMPLETION_ENDPOINT = "levels_api.complete_level"
REDACTED = "[REDACTED]"

request_log = structlog.stdlib.get_logger("app.requests")
access_line = structlog.stdlib.get_logger("gunicorn.access")


# --- redaction ------------------------------------------------------------------------------

# Nothing logs a credential on purpose; these rules are the defence in depth for the day a
# message, an exception or a library does. A field is blanked by its name; in text, the value
# after a sensitive name ("password=…", "Authorization: …", "{'token': …}") is blanked.
SENSITIVE_WORDS = ("password", "passwd", "secret", "token", "authorization", "cookie", "api_key")
SENSITIVE_PAIR = re.compile(
    r"(?P<key>[\w.-]*(?:" + "|".join(SENSITIVE_WORDS) + r")[\w.-]*)"
    r"(?P<sep>['\"]?\s*[=:]\s*['\"]?)"
    r"(?:(?:bearer|basic)\s+)?[^\s&;,'\"]+",
    re.IGNORECASE,
)
BEARER_CREDENTIAL = re.compile(r"\bbearer\s+[\w.~+/=-]+", re.IGNORECASE)
# A query string may carry a token or a `next=` target: of a URL, only the path is logged.
QUERY_STRING = re.compile(r"(?P<path>/[^\s?#'\"]*)\?[^\s#'\"]+")


@functools.lru_cache(maxsize=1024)
def is_sensitive_key(key: str) -> bool:
    """Whether a field's name is a credential's (lines reuse a few dozen names: kept)."""
    lowered = key.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def may_hold_a_secret(text: str) -> bool:
    """False when none of the patterns below can match: no query string, no sensitive word
    and no bearer credential (most fields of most lines), which a substring test tells far
    faster than the patterns."""
    if "?" in text:
        return True
    lowered = text.lower()
    return "bearer" in lowered or any(word in lowered for word in SENSITIVE_WORDS)


def redact_text(text: str) -> str:
    if not may_hold_a_secret(text):
        return text
    text = QUERY_STRING.sub(rf"\g<path>?{REDACTED}", text)
    text = SENSITIVE_PAIR.sub(rf"\g<key>\g<sep>{REDACTED}", text)
    return BEARER_CREDENTIAL.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive_key(str(key)) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no field named like a credential, and no credential in any text.

    The line's texts are tested once, together, for anything the patterns could match (a
    pattern never matches across the line breaks that join them); most lines hold none, and
    their texts are then kept as they are without being looked at one by one.
    """
    texts = "\n".join(value for value in event_dict.values() if isinstance(value, str))
    suspect = may_hold_a_secret(texts)
    for key, value in event_dict.items():
        if is_sensitive_key(key):
            event_dict[key] = REDACTED
        elif not isinstance(value, str):
            event_dict[key] = redact_value(value)
        elif suspect:
            event_dict[key] = redact_text(value)
    return event_dict


# --- rendering ------------------------------------------------------------------------------


def gunicorn_access_fields(
    _logger: Any, _method: str, event_dict: dict[str, Any]
) -> dict[str, Any]:
    """structlog processor: a gunicorn access record becomes named fields.

    Gunicorn passes its "atoms" as the record's arguments: with GunicornLogger only those
    named here; with gunicorn's own logger every request and response header, the environ and
    the raw request line with its query string too. Only the atoms named here are read,
    whatever access_log_format says; the rest, Authorization and Cookie among them, are
    dropped from every record before anything is rendered.
    """
    atoms = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if record is None or record.name != "gunicorn.access" or not isinstance(atoms, Mapping):
        return event_dict
    event_dict.update(access_fields(atoms))
    return event_dict


def access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """The access line's fields, read from gunicorn's atoms by name."""
    microseconds = int_or_none(atoms.get("D"))
    fields = {
        "event": "request served",
        "method": atoms.get("m"),
        "path": atoms.get("U"),  # PATH_INFO: the path without its query string
        "status": int_or_none(atoms.get("s")),
        "duration_ms": None if microseconds is None else round(microseconds / 1000, 2),
        "remote_addr": atoms.get("h"),
    }
    request_id = atoms.get("{x-request-id}o")
    if request_id and request_id != "-":  # "-" is gunicorn's word for a missing header
        fields["request_id"] = request_id
    return fields


class GunicornLogger(glogging.Logger):
    """gunicorn's logger (gunicorn.conf.py's logger_class), whose access records carry only the
    atoms gunicorn_access_fields reads.

    gunicorn's own atoms are every request and response header and the whole environ, worked
    out for every request and then dropped by the formatter: those never enter a record here.
    """

    def atoms(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> dict:
        status = resp.status
        if isinstance(status, str):  # "200 OK"
            status = status.split(None, 1)[0]
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), "-"
        )
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "D": request_time.seconds * 1_000_000 + request_time.microseconds,
            "{x-request-id}o": request_id,
        }

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> None:
        """The access line, written as the app writes its own lines (LineWriter) while the
        access log goes only to the app's handler on stderr, as gunicorn_logconfig sets it;
        to any other handler (an --access-logfile) as a record, as gunicorn writes it."""
        handlers = self.access_log.handlers
        if not handlers or any(type(handler) is not StderrHandler for handler in handlers):
            super().access(resp, req, environ, request_time)
        elif self.access_log_enabled and self.access_log.isEnabledFor(logging.INFO):
            fields = access_fields(self.atoms(resp, req, environ, request_time))
            access_line.info(fields.pop("event"), **fields)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


LEADING_FIELDS = ("timestamp", "level", "event", "request_id")


def lead_with_common_fields(
    _logger: Any, _method: str, event_dict: dict[str, Any]
) -> dict[str, Any]:
    """structlog processor: a raw line reads when, how bad, what and for which request first."""
    ordered = {key: event_dict.pop(key) for key in LEADING_FIELDS if key in event_dict}
    ordered.update(event_dict)
    return ordered


def renderer_for(log_format: str) -> Any:
    """The last processor of every line: JSON or console text."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    if log_format == "json":
        return structlog.processors.JSONRenderer(serializer=jsonio.log_serializer)
    # A plain traceback: the rich one that structlog picks when it can shows each frame's
    # local variables, and those hold passwords and tokens.
    return structlog.dev.ConsoleRenderer(
        colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


def line_processors() -> list[Any]:
    """What every line goes through before it is rendered, a record's and structlog's alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        # A traceback is rendered as text here, before redaction, in both formats.
        structlog.processors.format_exc_info,
        redact_secrets,
        lead_with_common_fields,
    ]


def build_formatter(log_format: str) -> logging.Formatter:
    """The formatter of the standard library's records (Flask's, the libraries', gunicorn's):
    JSON lines or console lines."""
    renderer = renderer_for(log_format)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[gunicorn_access_fields],
        pass_foreign_args=True,  # for gunicorn_access_fields, which removes them
        processors=[
            *line_processors(),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )


# One lock for every line the process writes, whichever way: lines never interleave.
WRITE_LOCK = threading.RLock()


class StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is when a line is written, not as it was when made (a test
    harness, or a server that redirects it, may replace it in between)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def createLock(self) -> None:
        # The standard library's lock is made and registered first: a forked child then
        # renews this handler's lock, the shared one, as it renews every handler's.
        super().createLock()
        self.lock = WRITE_LOCK

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class LineWriter:
    """What structlog's own lines are written with: straight to sys.stderr as it is then, the
    line already rendered, and not as a record through the standard library's handler, which
    costs more than making the line (bench/README.md). The standard library's logger of the
    same name still decides which lines are written: its level, or the one it inherits."""

    def __init__(self, name: str | None = None) -> None:
        self.stdlib = logging.getLogger(name)
        self.name = self.stdlib.name

    # What structlog.stdlib.filter_by_level reads.
    @property
    def disabled(self) -> bool:
        return self.stdlib.disabled

    def getEffectiveLevel(self) -> int:
        return self.stdlib.getEffectiveLevel()

    def write(self, line: str) -> None:
        with WRITE_LOCK:
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()

    debug = info = warning = error = critical = exception = write


class ConfiguredRenderer:
    """The renderer of structlog's own lines: the one configure_logging last chose (their
    loggers are kept once used, so the choice is read at each line)."""

    renderer: Any = renderer_for("json")

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> Any:
        return self.renderer(logger, method, event_dict)


render_line = ConfiguredRenderer()


def configure_logging(log_format: str) -> None:
    """Send every logger of the process through one handler on the root logger, at INFO, and
    structlog's lines the same way to the same place, in the same format."""
    handler = StderrHandler()
    handler.setFormatter(build_formatter(log_format))
    root = logging.getLogger()
    # Ours is replaced, never stacked: one process may build several apps (the tests do).
    for previous in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # SQLAlchemy's and alembic's warnings are log lines too
    ConfiguredRenderer.renderer = renderer_for(log_format)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *line_processors(), render_line],
        logger_factory=LineWriter,
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def gunicorn_logconfig(log_format: str | None = None) -> dict[str, Any]:
    """gunicorn's logconfig_dict: its error and access logs in the app's format on stderr.

    The format defaults to the LOG_FORMAT of the configuration the app is served with.
    """
    if log_format is None:
        from config import config_for

        log_format = config_for(None).LOG_FORMAT
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": build_formatter, "log_format": log_format}},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "structured"}},
        # The app replaces the root's handler with its own, of the same class, when it loads.
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # No level: gunicorn's --log-level keeps deciding the error log's.
            "gunicorn.error": {"handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        },
    }


# --- requests -------------------------------------------------------------------------------


def register_logging(app: Flask) -> None:
    """Configure logging for LOG_FORMAT; give every request an id and a closing log line."""
    configure_logging(app.config["LOG_FORMAT"])
    # Flask adds a plain-text handler of its own to app.logger if it finds no handler.
    app.logger.removeHandler(default_handler)
    # A signal, not a before_request hook: it comes before every hook (the bearer check, the
    # rate limiter), so even their refusals and warnings carry the request id.
    request_started.connect(begin_request, app)
    # Registered before any other extension's hook, so it runs after all of them (Flask runs
    # after_request hooks last registered first) and logs the final status.
    app.after_request(finish_request)
    app.teardown_request(forget_request)


def incoming_request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is 1-64 of [A-Za-z0-9._-], else a new one."""
    if header is not None and VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def begin_request(_app: Flask, **_extra: Any) -> None:
    g.request_started_at = time.perf_counter()
    g.request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
    # A worker thread serves one request after another: nothing of the last one may stay.
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def finish_request(response: Response) -> Response:
    if "request_id" not in g:  # request_started failed before giving it one
        begin_request(None)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.request_started_at) * 1000, 2),
    }
    user_id = signed_in_user_id()
    if user_id is not None:
        fields["user_id"] = user_id
    if request.endpoint == COMPLETION_ENDPOINT:
        fields.update(completion_fields(response))
    if request.endpoint == "static":
        request_log.debug("request finished", **fields)
    else:
        request_log.info("request finished", **fields)
    return response


def forget_request(_error: BaseException | None) -> None:
    # Lines written after the answer (gunicorn's access line) are no longer this request's.
    structlog.contextvars.clear_contextvars()


def signed_in_user_id() -> int | None:
    """The id of the user this request has already loaded, if signed in.

    Read from where Flask-Login keeps the loaded user: asking current_user would load one, a
    database query that a static file or /healthz must not cost.
    """
    user = g.get("_login_user")
    if user is None or not user.is_authenticated:
        return None
    return user.id


def completion_fields(response: Response) -> dict[str, Any]:
    """What became of a posted completion, for its request line."""
    # Imported here: this module is loaded before the routes are, and by gunicorn's master.
    from app.api.levels import completion_outcome

    outcome, error_code = completion_outcome(response)
    result = g.get("completion_result")
    event_id = g.get("completion_event_id")
    fields: dict[str, Any] = {
        "client_event_id": None if event_id is None else str(event_id),
        "outcome": outcome,
        "awarded_xp": result.awarded_xp if result is not None else 0,
    }
    if result is not None:
        fields["completion_id"] = result.completion_id
    if error_code is not None:
        fields["error_code"] = error_code
    return fields
