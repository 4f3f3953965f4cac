"""GET /api/levels/progress and GET /api/xp/history."""

from marshmallow import Schema, fields, validate

from app.models import LEDGER_REASONS


class LevelProgressSchema(Schema):
    level_id = fields.Integer(attribute="number")
    name = fields.String()
    category = fields.String()
    icon = fields.String()
    xp_reward = fields.Integer()
    max_xp = fields.Integer()
    completed = fields.Boolean(attribute="progress.completed")
    best_score = fields.Integer(attribute="progress.best_score", allow_none=True)
    xp_earned = fields.Integer(attribute="progress.xp_earned")
    completions = fields.Integer(attribute="progress.completions")
    first_completed_at = fields.DateTime(attribute="progress.first_completed_at", allow_none=True)
    last_completed_at = fields.DateTime(attribute="progress.last_completed_at", allow_none=True)


class CategorySummarySchema(Schema):
    category = fields.String()
    levels = fields.Integer()
    completed = fields.Integer()
    xp_earned = fields.Integer()
    max_xp = fields.Integer()


class ProgressSchema(Schema):
    success = fields.Constant(True)
    total_xp = fields.Integer()
    completed_levels = fields.Integer()
    total_levels = fields.Integer()
    levels = fields.List(fields.Nested(LevelProgressSchema))
    categories = fields.List(fields.Nested(CategorySummarySchema))


class HistoryQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    before = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**63 - 1)
    )


class HistoryEntrySchema(Schema):
    id = fields.Integer()
    delta = fields.Integer()
    balance_after = fields.Integer()
    reason = fields.String(validate=validate.OneOf(LEDGER_REASONS))
    reference_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ArchivedSummarySchema(Schema):
    entries = fields.Integer(metadata={"description": "Entries moved to the archive."})
    xp = fields.Integer(metadata={"description": "The XP those entries add up to."})


class HistoryPageSchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema))
    next = fields.Integer(allow_none=True)
    has_more = fields.Boolean()
    archived = fields.Nested(
        ArchivedSummarySchema,
        allow_none=True,
        metadata={
            "description": (
                "The player's archived entries, older than every entry listed; with them the "
                "ledger adds up to total_xp. Null when nothing is archived."
            )
        },
    )
