"""The levels page: the public catalog, with the player's standing when signed in."""

from flask import Blueprint, render_template
from flask_login import current_user

from app.services import levels, progress

bp = Blueprint("levels", __name__)


@bp.get("/levels")
def index():
    user_id = current_user.id if current_user.is_authenticated else None
    return render_template(
        "levels/index.html",
        entries=progress.catalog(user_id),
        xp_rules=levels.rules_description(),
    )
