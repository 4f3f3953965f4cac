"""GET /api/achievements: the whole catalog, each with when the caller earned it."""

from marshmallow import Schema, fields


class AchievementSchema(Schema):
    key = fields.String(metadata={"description": "Stable identifier.", "example": "level-1"})
    name = fields.String()
    description = fields.String()
    icon = fields.String(
        metadata={"description": "A Bootstrap Icons class name.", "example": "bi-trophy"}
    )
    earned_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the caller earned it; null if not yet."}
    )


class AchievementListSchema(Schema):
    achievements = fields.List(
        fields.Nested(AchievementSchema), metadata={"description": "In catalog order."}
    )
