"""The simulated PC running one level."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app.schemas.levels import XPRulesSchema
from app.services import levels, progress, rollout

bp = Blueprint("play", __name__)
xp_rules_schema = XPRulesSchema()


@bp.get("/play/<level_id>")
@login_required
def play(level_id: str):
    level = levels.get_level(level_id.removeprefix("level-"))
    if level is None:
        abort(404)
    if not level.is_playable:
        abort(403, description="This level is not open for play yet.")
    entry = next(e for e in progress.catalog(current_user.id) if e.level_id == level.level_id)
    tracking = rollout.is_tracking_enabled(current_user.id)
    rules = levels.rules_description()
    config = {
        "user_id": current_user.id,
        "tracking_enabled": tracking,
        "level": {
            "level_id": level.number,
            "name": level.name,
            "icon": level.icon,
            "category": level.category,
            "max_score": level.max_score,
            "min_time_seconds": level.min_time_seconds,
            "expected_time_seconds": level.expected_time_seconds,
            "xp_reward": level.xp_reward,
            "max_xp": entry.max_xp,
        },
        # The play screen shows the breakdown with these words (README: XP rules).
        "xp_rules": xp_rules_schema.dump(rules),
    }
    return render_template(
        "play.html",
        level=level,
        max_xp=entry.max_xp,
        max_xp_by_difficulty=levels.max_xp_by_difficulty(level),
        xp_rules=rules,
        progress=entry.progress,
        tracking_enabled=tracking,
        play_config=config,
    )
