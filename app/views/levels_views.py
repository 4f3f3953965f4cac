"""The levels page: the public catalog."""

from flask import Blueprint, render_template

from app.services import levels

bp = Blueprint("levels", __name__)


@bp.get("/levels")
def index():
    return render_template("levels/index.html", levels=levels.list_levels())
