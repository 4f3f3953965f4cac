"""Flask extensions, created once here unbound and bound to the app in create_app."""

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app import limit_batch

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

    With Redis as the store, a request's limits cost one round trip (app/limit_batch.py): each
    check of Flask-Limiter runs with the plan of the hits it is about to make.
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
        # The moving window on Redis, one round trip per check; any other store or strategy
        # stays Flask-Limiter's own (the memory fall back among them).
        if self.enabled and limit_batch.batches(getattr(self, "_limiter", None), self.storage):
            self._limiter = limit_batch.BatchedMovingWindow(self.storage)

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        """Flask-Limiter's check of the request's limits (a route's decorators are one check,
        before_request another), run with the plan of the hits it is about to make."""

        if in_middleware and not self.checks_in_middleware():
            return
        with limit_batch.checking(stop_at_refusal=self._fail_on_first_breach):
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _Limiter__evaluate_limits(self, endpoint: str, limits: list) -> None:
        """Flask-Limiter's evaluation of the limits its check resolved: they are the plan's."""
        limit_batch.plan_from(self, endpoint, limits)
        super()._Limiter__evaluate_limits(endpoint, limits)

    def checks_in_middleware(self) -> bool:
        """Whether the before-request check can find anything to check: only limits that are
        not a route's own (default, application, blueprint, meta or hinted limits) are checked
        there, and while the store is down it also watches for its recovery. Our routes carry
        their own limits, so it is skipped, a resolution of limits per request saved."""
        manager = self.limit_manager
        return bool(
            self._storage_dead
            or self._meta_limits
            or manager.application_limits
            or manager.default_limits
            or getattr(manager, "_blueprint_limits", True)
            or getattr(manager, "_endpoint_hints", True)
        )

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
# The Alembic history, beside the app package.
MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")


class LazyMigrate:
    """Flask-Migrate, set up the first time something uses it: a `flask db` command, or
    flask_migrate's own functions (the tests' upgrade()). Importing it imports alembic, about
    12 MiB in every web worker, which never migrates; the readiness probe reads the schema's
    revision without it (app/health.py)."""

    def init_app(self, app: Flask, db: Any, **options: Any) -> None:
        pending = PendingMigrate(app, db, options)
        app.extensions["migrate"] = pending
        app.cli.add_command(MigrateCommands(pending), "db")


class PendingMigrate:
    """Stands in app.extensions["migrate"] until first used, then sets up the real one."""

    def __init__(self, app: Flask, db: Any, options: dict[str, Any]) -> None:
        self.app, self.db, self.options = app, db, options

    def load(self) -> Any:
        if isinstance(self.app.extensions.get("migrate"), PendingMigrate):
            from flask_migrate import Migrate

            # Registers its config in app.extensions and its `db` group on app.cli.
            Migrate().init_app(self.app, self.db, directory=MIGRATIONS_DIRECTORY, **self.options)
        return self.app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


class MigrateCommands(click.Group):
    """`flask db`: Flask-Migrate's command group, loaded when the group is used."""

    def __init__(self, pending: PendingMigrate) -> None:
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")
        self.pending = pending

    def commands_of_flask_migrate(self) -> click.Group:
        self.pending.load()
        from flask_migrate.cli import db as commands

        return commands

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # The real group parses its own options (-d, -x) and runs its commands from here on.
        commands = self.commands_of_flask_migrate()
        return commands.make_context(info_name, args, parent=parent, **extra)


migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = MonitoredLimiter(key_func=remote_address)
