"""Settings for every environment; the only module that reads the process environment."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
# A SECRET_KEY equal to one of these is a placeholder, never a real secret.
PLACEHOLDER_SECRETS = {"", "dev", "change-me", "development-only-secret-key"}
# A request waits at most this long for a pooled database connection when all are in use.
DATABASE_POOL_TIMEOUT_SECONDS = 1
REDIS_TIMEOUT_SECONDS = 0.5


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None


def env_json(name: str, default: dict) -> dict:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value


def host_names(raw: str) -> list[str]:
    """Comma-separated host names as a list, lower-cased, blanks dropped."""
    return [name.strip().lower() for name in raw.split(",") if name.strip()]


def normalize_database_url(url: str) -> str:
    """Plain postgres:// and postgresql:// URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url(default: str) -> str:
    """The SQLAlchemy URL from DATABASE_URL, else `default`."""
    return normalize_database_url(os.environ.get("DATABASE_URL") or default)


def engine_options(url: str, *, connect_timeout: int, statement_timeout_ms: int) -> dict:
    """SQLAlchemy engine options for a database URL.

    Pooled connections are tested before use, so the app reconnects by itself when the
    database is back. On PostgreSQL, connecting, waiting for a pooled connection and every
    statement are bounded, so that with the database down or hung a request answers 503
    within about 3 s (SQLite takes none of these options).
    """
    # hide_parameters: a failing statement's parameters (a password hash, a token digest) stay
    # out of the exception's text, and so out of the logs.
    options: dict = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("postgresql"):
        options["pool_timeout"] = DATABASE_POOL_TIMEOUT_SECONDS
        options["connect_args"] = {
            "connect_timeout": connect_timeout,
            "options": f"-c statement_timeout={statement_timeout_ms}",
        }
    return options


class Config:
    """Defaults shared by every environment; each value is read from the environment when built."""

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-secret-key")
        self.SQLALCHEMY_DATABASE_URI = database_url(f"sqlite:///{INSTANCE_DIR / 'cyberquest.db'}")
        # A PostgreSQL server that is down or hung costs a request seconds, never a worker
        # (SQLALCHEMY_ENGINE_OPTIONS below). libpq waits at least 2 s to connect; 0 turns the
        # statement timeout off. Migrations and `flask xp verify` lift it for themselves.
        self.DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 2)
        self.DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 2000)
        # Retry-After of a 503 database_unavailable: about when to look again.
        self.DATABASE_RETRY_AFTER_SECONDS = env_int("DATABASE_RETRY_AFTER_SECONDS", 5)
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False

        # Request bodies larger than this are refused with 413 before they are parsed.
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 16 * 1024)

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        # Sessions live on the server (user_sessions); the cookies only name one by its secret.
        # "Remember me" keeps a session for this long from sign-in; any other session ends
        # after this much idle time. last_seen_at is written at most once per resolution.
        self.REMEMBER_COOKIE_DURATION = timedelta(days=env_int("REMEMBER_ME_DAYS", 30))
        self.SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 8 * 3600)
        self.SESSION_LAST_SEEN_RESOLUTION_SECONDS = env_int(
            "SESSION_LAST_SEEN_RESOLUTION_SECONDS", 60
        )
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE

        self.WTF_CSRF_ENABLED = env_bool("WTF_CSRF_ENABLED", True)

        # Argon2id cost for password hashes (the library's defaults unless overridden).
        self.ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST = env_int("ARGON2_MEMORY_COST", 65536)

        # The queue of post-processing jobs (app/services/outbox.py): RQ on this Redis.
        self.REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        # Off: Flask-Limiter's headers describe a limit of its choosing and add Retry-After to
        # every answer; app/ratelimits.py writes them for the limit that binds the caller.
        self.RATELIMIT_HEADERS_ENABLED = False
        # If Redis is unreachable, limits fall back to per-process memory instead of failing.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = env_bool(
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True
        )
        # On: with the limit store unreachable, limited routes answer 503
        # rate_limiter_unavailable rather than count in each process's memory (app/extensions.py).
        self.RATELIMIT_FAIL_CLOSED = env_bool("RATELIMIT_FAIL_CLOSED", False)
        self.RATELIMIT_STORAGE_RETRY_AFTER_SECONDS = env_int(
            "RATELIMIT_STORAGE_RETRY_AFTER_SECONDS", 5
        )
        # A hung Redis costs a limited request half a second, not a worker (redis-py waits 5 s
        # by default); its errors arrive as limits' StorageError, whatever the driver. The
        # memory store ignores these options.
        self.RATELIMIT_STORAGE_OPTIONS = {
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "wrap_exceptions": True,
        }
        self.RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
        # Limit strings use the Flask-Limiter syntax ("N/period", several joined by ";").
        # Failed sign-ins per account (its name and email are one account), from every address.
        # Only a window: a longer lock would let a guesser keep the owner out.
        self.LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5/minute")
        self.LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30/minute")
        self.REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "10/hour")
        self.TOKEN_CREATE_RATE_LIMIT = os.environ.get("TOKEN_CREATE_RATE_LIMIT", "10/hour")
        self.COMPLETION_RATE_LIMIT = os.environ.get("COMPLETION_RATE_LIMIT", "10/minute;200/day")
        self.COMPLETION_ADDRESS_RATE_LIMIT = os.environ.get(
            "COMPLETION_ADDRESS_RATE_LIMIT", "300/minute"
        )

        # How many reverse proxies in front of the app are trusted to set X-Forwarded-*.
        # 0, the default, trusts none, so a client cannot choose the address it is limited by.
        self.PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
        self.PROXY_FIX_X_PROTO = env_int("PROXY_FIX_X_PROTO", 0)
        self.PROXY_FIX_X_HOST = env_int("PROXY_FIX_X_HOST", 0)

        # The host names this site answers to: Flask refuses any other Host header with 400, and
        # a cookie-signed API write must come from a page on one of them. A leading dot accepts
        # every subdomain; a port is not part of a name (werkzeug ignores it on both sides).
        self.TRUSTED_HOSTS = host_names(os.environ.get("TRUSTED_HOSTS", "localhost,127.0.0.1"))
        # Redirecting plain HTTP to HTTPS is the proxy's job; this makes the app do it too.
        self.FORCE_HTTPS = env_bool("FORCE_HTTPS", False)
        # Strict-Transport-Security on HTTPS answers: production only, so that a development
        # server never pins a browser's localhost to HTTPS for a year.
        self.HSTS_ENABLED = env_bool("HSTS_ENABLED", False)

        self.ENABLE_SERVER_SIDE_TRACKING = env_bool("ENABLE_SERVER_SIDE_TRACKING", True)
        self.SERVER_SIDE_TRACKING_ROLLOUT_PERCENT = env_int(
            "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT", 100
        )
        self.DEDUP_WINDOW_SECONDS = env_int("DEDUP_WINDOW_SECONDS", 30)
        self.XP_RULES = env_json("XP_RULES", {})
        # Weeks and months of the leaderboards start at midnight in this zone (a zoneinfo name).
        self.LEADERBOARD_TIMEZONE = os.environ.get("LEADERBOARD_TIMEZONE", "UTC")

        # "json" (one object per line, for a log collector) or "console" (for a person).
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "console")

        # An API token's last_used_at is refreshed at most this often, so that most
        # authenticated requests stay free of an extra write.
        self.TOKEN_LAST_USED_RESOLUTION_SECONDS = env_int("TOKEN_LAST_USED_RESOLUTION_SECONDS", 60)

        # The bearer token a Prometheus server sends to GET /metrics; unset, /metrics is a 404.
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict:
        """Derived from the URL whichever environment set it (testing replaces the default)."""
        return engine_options(
            self.SQLALCHEMY_DATABASE_URI,
            connect_timeout=self.DATABASE_CONNECT_TIMEOUT_SECONDS,
            statement_timeout_ms=self.DATABASE_STATEMENT_TIMEOUT_MS,
        )

    def check(self) -> None:
        """Raise RuntimeError with a one-line reason when the settings cannot run."""
        try:
            ZoneInfo(self.LEADERBOARD_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuntimeError(
                f"LEADERBOARD_TIMEZONE {self.LEADERBOARD_TIMEZONE!r} is not a time zone name"
                " (e.g. UTC or Europe/Berlin)"
            ) from None


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SQLALCHEMY_DATABASE_URI = database_url("sqlite://")
        self.WTF_CSRF_ENABLED = env_bool("WTF_CSRF_ENABLED", False)
        self.RATELIMIT_STORAGE_URI = "memory://"
        # Cheap hashes keep the suite fast; production strength is tested by its own settings.
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST = 1024


class ProductionConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.ENABLE_SERVER_SIDE_TRACKING = env_bool("ENABLE_SERVER_SIDE_TRACKING", False)
        self.SERVER_SIDE_TRACKING_ROLLOUT_PERCENT = env_int(
            "SERVER_SIDE_TRACKING_ROLLOUT_PERCENT", 0
        )
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.HSTS_ENABLED = env_bool("HSTS_ENABLED", True)
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
        # No default: only the operator knows the names the site is served on.
        self.TRUSTED_HOSTS = host_names(os.environ.get("TRUSTED_HOSTS", ""))

    def check(self) -> None:
        super().check()
        if self.SECRET_KEY in PLACEHOLDER_SECRETS or len(self.SECRET_KEY) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
                " (python -c 'import secrets; print(secrets.token_hex(32))' makes one)"
            )
        if not self.TRUSTED_HOSTS:
            raise RuntimeError(
                "TRUSTED_HOSTS must name the hosts this site is served on in production"
                " (comma-separated, e.g. cyberquest.example.org)"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> Config:
    """The settings object for an environment name (default: CYBERQUEST_CONFIG or development)."""
    name = name or os.environ.get("CYBERQUEST_CONFIG", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(
            f"unknown configuration {name!r}; use one of {', '.join(CONFIGS)}"
        ) from None
