"""Admin API requests and responses: XP adjustments, completion revocations and resets."""

from marshmallow import Schema, fields, validate

from app.schemas.progress import HistoryEntrySchema
from app.services.admin import MAX_ADJUSTMENT, MAX_NOTE_LENGTH


def note_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_NOTE_LENGTH),
        metadata={"description": "Why; kept in the ledger entry's metadata."},
    )


class XPAdjustmentSchema(Schema):
    delta = fields.Integer(
        strict=True,
        required=True,
        validate=[
            validate.Range(min=-MAX_ADJUSTMENT, max=MAX_ADJUSTMENT),
            validate.NoneOf([0], error="An adjustment of 0 changes nothing."),
        ],
        metadata={"description": "XP to add, or negative to take away (never below a total of 0)."},
    )
    note = note_field()


class RevocationSchema(Schema):
    note = note_field()


class ResetSchema(Schema):
    note = note_field()


class AdjustmentResultSchema(Schema):
    success = fields.Constant(True)
    entry = fields.Nested(HistoryEntrySchema)
    new_total_xp = fields.Integer()


class RevocationResultSchema(Schema):
    success = fields.Constant(True)
    completion_id = fields.Integer()
    reversed_xp = fields.Integer()
    new_total_xp = fields.Integer()
    entry = fields.Nested(HistoryEntrySchema, allow_none=True)


class ResetResultSchema(Schema):
    success = fields.Constant(True)
    user_id = fields.Integer()
    revoked_completions = fields.Integer(
        metadata={"description": "How many standing completions were revoked."}
    )
    reversed_xp = fields.Integer(metadata={"description": "XP the revocations took back."})
    new_total_xp = fields.Integer(
        metadata={"description": "What the player's adjustments add up to (may be below 0)."}
    )
