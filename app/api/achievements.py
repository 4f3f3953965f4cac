"""The caller's achievements."""

from flask_login import current_user, login_required

from app.api import api
from app.schemas.achievements import AchievementListSchema
from app.services import achievements

achievement_list_schema = AchievementListSchema()


@api.get("/achievements")
@login_required
def list_achievements():
    return achievement_list_schema.dump({"achievements": achievements.for_player(current_user.id)})
