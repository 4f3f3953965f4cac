"""The CyberQuest application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import jsonio
from app.logs import register_logging
from app.metrics import register_metrics
from app.security import register_security
from config import config_for


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app for an environment ("development", "testing", "production")."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = jsonio.JSONProvider(app)
    settings = config_for(config_name)
    app.config.from_object(settings)
    if overrides:
        app.config.update(overrides)
    settings.check()
    check_xp_rules(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # the default SQLite file lives here

    register_logging(app)  # first, so that what the extensions log as they start is formatted
    register_proxy_fix(app)
    register_security(app)  # first, so an HTTP request is redirected before any other work
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_shell_context(app)
    register_metrics(app)
    return app


def check_xp_rules(app: Flask) -> None:
    """Refuse to start on an XP_RULES the calculator cannot use, as on a bad SECRET_KEY: one
    line of reason now, rather than a failed award on the first completion."""
    from app.utils.xp import XPRules

    try:
        XPRules.from_mapping(app.config["XP_RULES"])
    except ValueError as exc:
        raise RuntimeError(f"XP_RULES is not usable: {exc}") from None


def register_proxy_fix(app: Flask) -> None:
    # Forwarded headers are trusted only for as many proxies as the operator configured.
    hops = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)


def register_extensions(app: Flask) -> None:
    from app import auth, models, ratelimits  # noqa: F401  (models register their tables)
    from app.extensions import csrf, db, limiter, login_manager, migrate

    # JSON columns written by orjson (app/jsonio.py), on every backend.
    engine_options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    engine_options.setdefault("json_serializer", jsonio.dumps)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    auth.init_auth(app, login_manager)
    csrf.init_app(app)
    # Before the limiter, so its hook runs after the limiter's (Flask runs after_request hooks
    # last registered first) and sees the deductions counted there.
    ratelimits.register_limit_headers(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app import health
    from app.api import api
    from app.extensions import csrf
    from app.routing import CONVERTERS
    from app.views import (
        account_views,
        admin_views,
        auth_views,
        leaderboard_views,
        levels_views,
        main_views,
        play_views,
        progress_views,
    )

    app.url_map.converters.update(CONVERTERS)
    # API writes are protected by the JSON + same-origin rule instead of form tokens.
    csrf.exempt(api)
    app.register_blueprint(health.bp)
    app.register_blueprint(api)
    app.register_blueprint(main_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(levels_views.bp)
    app.register_blueprint(play_views.bp)
    app.register_blueprint(progress_views.bp)
    app.register_blueprint(leaderboard_views.bp)
    app.register_blueprint(admin_views.bp)
    app.context_processor(player_context)
    app.context_processor(achievement_notices)


def player_context() -> dict[str, Any]:
    """Tells every page whether the signed-in player's completions are tracked by the server."""
    from flask_login import current_user

    from app.services.rollout import is_tracking_enabled

    if not current_user.is_authenticated:
        return {"player_tracked": False}
    return {"player_tracked": is_tracking_enabled(current_user.id)}


# Requests that are never a player's page, so never carry a notice of a new achievement.
QUIET_PATHS = ("/api", "/static/", "/healthz", "/readyz", "/metrics")


def achievement_notices() -> dict[str, Any]:
    """Flashes "Achievement unlocked" once for each achievement the signed-in player has not
    been told of, as their page is rendered: one indexed read a page, a write only for news."""
    from flask import flash, has_request_context, request
    from flask_login import current_user

    from app.services import achievements

    if not has_request_context() or request.method != "GET":
        return {}
    if request.path.startswith(QUIET_PATHS) or not current_user.is_authenticated:
        return {}
    news = achievements.unseen(current_user.id)
    for achievement in achievements.mark_seen(current_user.id, [a.key for a in news]):
        flash(f"Achievement unlocked: {achievement.name}", "success")
    return {}


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)


def register_shell_context(app: Flask) -> None:
    from app.extensions import db
    from app.models import ApiToken, Level, User

    app.shell_context_processor(
        lambda: {"db": db, "User": User, "ApiToken": ApiToken, "Level": Level}
    )
