"""The JSON API under /api: the levels_api blueprint and the guards every write passes."""

from flask import Blueprint

api = Blueprint("levels_api", __name__, url_prefix="/api")

from app.api import achievements, admin, guards, leaderboard, levels, openapi, progress, tokens  # noqa: E402,F401  (routes register on import)
