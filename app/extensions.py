"""Flask extensions, created once here unbound and bound to the app in create_app."""

import sys

from flask import Flask, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations deterministic on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def remote_address() -> str:
    """The client address as the WSGI server saw it (after ProxyFix, when one is configured)."""
    return request.remote_addr or "unknown"


class MonitoredLimiter(Limiter):
    """Flask-Limiter, falling back to memory only for failures of its limit store, counting
    each fall back, and refusing instead of falling back with RATELIMIT_FAIL_CLOSED.

    Flask-Limiter decides to fall back inside its own `except Exception`, whatever failed: a
    database failure in a key function that loads the user would switch the limits to memory,
    and the check would then run (and wait for the database) a second time. So it is asked
    whether to fall back, and answers yes only while a limit store failure is being handled;
    anything else goes on up as itself (a database failure becomes one 503).
    """

    def init_app(self, app: Flask) -> None:
        # One limiter serves every app the process builds (tests build several): the store
        # bound now is not known to be down, and this app's settings decide the fall back.
        self._storage_dead = False
        self._in_memory_fallback_enabled = False
        super().init_app(app)
        if app.config.get("RATELIMIT_FAIL_CLOSED"):
            # A store failure then reaches app/errors.py: 503 rate_limiter_unavailable.
            self._in_memory_fallback_enabled = False

    @property
    def _in_memory_fallback_enabled(self) -> bool:
        failure = sys.exc_info()[1]
        if failure is not None:
            # Imported here: app.ratelimits imports this module.
            from app.ratelimits import storage_errors

            if not isinstance(failure, storage_errors()):
                return False
        return self.__dict__.get("falls_back_to_memory", False)

    @_in_memory_fallback_enabled.setter
    def _in_memory_fallback_enabled(self, enabled: bool) -> None:
        self.__dict__["falls_back_to_memory"] = bool(enabled)

    @property
    def _storage_dead(self) -> bool:
        return self.__dict__.get("store_is_down", False)

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        if dead and not self._storage_dead:
            # Imported here: the metrics module imports the services, which import this one.
            from app import metrics

            metrics.RATE_LIMITER_FALLBACKS.inc()  # once per switch; Flask-Limiter logs it
        self.__dict__["store_is_down"] = dead


# Objects stay readable after commit, so a response is built from what was committed
# without reading it back.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = MonitoredLimiter(key_func=remote_address)
