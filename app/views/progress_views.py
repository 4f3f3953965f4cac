"""The player's progress page: totals, categories, history and a chart of XP over time."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.services import achievements, progress

bp = Blueprint("progress", __name__)


@bp.get("/progress")
@login_required
def index():
    return render_template(
        "progress.html",
        summary=progress.summary(current_user.id),
        achievements=achievements.for_player(current_user.id),
    )
