"""GET /api/levels: the public catalog."""

from app.api import api
from app.schemas.levels import LevelListSchema
from app.services import levels

level_list_schema = LevelListSchema()


@api.get("/levels")
def list_levels():
    return level_list_schema.dump({"levels": levels.list_levels()})
