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


class LevelListSchema(Schema):
    levels = fields.List(fields.Nested(LevelSchema))
