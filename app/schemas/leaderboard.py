"""GET /api/leaderboard: the query and the board."""

from marshmallow import Schema, fields, validate

from app.services.leaderboard import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT, PERIODS


class LeaderboardQuerySchema(Schema):
    period = fields.String(load_default="all", validate=validate.OneOf(PERIODS))
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=MIN_LIMIT, max=MAX_LIMIT)
    )


class LeaderboardEntrySchema(Schema):
    rank = fields.Integer()
    username = fields.String()
    xp = fields.Integer()


class StandingSchema(Schema):
    rank = fields.Integer()
    xp = fields.Integer()


class LeaderboardSchema(Schema):
    period = fields.String(validate=validate.OneOf(PERIODS))
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True, metadata={"description": "Exclusive."})
    entries = fields.List(fields.Nested(LeaderboardEntrySchema))
    me = fields.Nested(
        StandingSchema,
        allow_none=True,
        metadata={"description": "The caller's rank and XP; null when anonymous or without XP."},
    )
