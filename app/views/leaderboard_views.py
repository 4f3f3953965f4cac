"""The leaderboard page: the top players of all time, this week or this month."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.api.parsing import load
from app.schemas.leaderboard import LeaderboardQuerySchema
from app.services import leaderboard

bp = Blueprint("leaderboard", __name__)

query_schema = LeaderboardQuerySchema()
PERIOD_LABELS = {"all": "All time", "week": "This week", "month": "This month"}


@bp.get("/leaderboard")
def index():
    query = load(query_schema, request.args.to_dict())  # a bad period is a 400 page
    signed_in = current_user.is_authenticated
    board = leaderboard.leaderboard(
        query["period"], query["limit"], current_user.id if signed_in else None
    )
    return render_template(
        "leaderboard.html",
        board=board,
        periods=[(period, PERIOD_LABELS[period]) for period in leaderboard.PERIODS],
        viewer_name=current_user.username if signed_in else None,
    )
