"""How a level is shown to API clients and pages."""

from marshmallow import Schema, fields


class LevelSchema(Schema):
    level_id = fields.Integer(attribute="number", metadata={"example": 1})
    name = fields.String()
    description = fields.String()
    category = fields.String()
    icon = fields.String(metadata={"description": "A Bootstrap Icons name."})
    difficulty = fields.String(metadata={"description": "How hard the level itself is."})
    xp_reward = fields.Integer(metadata={"description": "The most XP the level can ever credit."})
    estimated_time = fields.String()
    expected_time_seconds = fields.Integer(allow_none=True)
    max_score = fields.Integer()
    min_time_seconds = fields.Integer()
    skills = fields.List(fields.String())
    unlocked = fields.Boolean()
    coming_soon = fields.Boolean()


class LevelSummarySchema(Schema):
    """The level as a completion result shows it (the seed's shape)."""

    level_id = fields.Integer(attribute="number", metadata={"example": 1})
    name = fields.String()
    xp_reward = fields.Integer()
    icon = fields.String()
    category = fields.String()
    estimated_time = fields.String()
    skills = fields.List(fields.String())
    unlocked = fields.Boolean()
    coming_soon = fields.Boolean()


class LevelStateSchema(Schema):
    """The signed-in caller's standing on a level."""

    completed = fields.Boolean()
    best_score = fields.Integer(allow_none=True)
    xp_earned = fields.Integer()
    completions = fields.Integer()


class CatalogLevelSchema(LevelSchema):
    max_xp = fields.Integer(
        metadata={"description": "The most XP one run can earn (perfect, fast, no hints, hard)."}
    )
    progress = fields.Nested(
        LevelStateSchema,
        allow_none=True,
        metadata={"description": "The caller's standing; null when not signed in."},
    )


class LevelListSchema(Schema):
    levels = fields.List(fields.Nested(CatalogLevelSchema))
