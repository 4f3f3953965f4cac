"""POST /api/levels/complete: the body it accepts and the result it answers."""

from __future__ import annotations

import re
import weakref
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import inspect

from app.schemas.levels import LevelSummarySchema
from app.schemas.text import Text
from app.utils.xp import DIFFICULTIES

LEVEL_REF = re.compile(r"^(?:level-)?([0-9]{1,9})$")
MAX_TIME_SPENT = 86400
MAX_SCORE = 1_000_000


class LevelRef(fields.Field):
    """A level given as 1, "1" or "level-1", loaded as the stored level_id ("1")."""

    default_error_messages = {"invalid": 'Give the level as 1, "1" or "level-1".'}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.make_error("invalid")
        match = LEVEL_REF.match(str(value).strip())
        if match is None:
            raise self.make_error("invalid")
        return str(int(match.group(1)))


def counter(maximum: int = 100_000) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=maximum))


class CompletionMetadataSchema(Schema):
    """The metadata keys the server keeps; any other key is dropped, never stored."""

    class Meta:
        unknown = EXCLUDE

    hints_used = counter(1000)
    mistakes = counter()
    attempts = counter()
    correct_answers = counter()
    total_questions = counter()
    accuracy = fields.Float(validate=validate.Range(min=0, max=100), allow_nan=False)


class CompletionRequestSchema(Schema):
    level_id = LevelRef(
        required=True,
        metadata={
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^(level-)?[0-9]{1,9}$"},
            ],
            "example": "level-1",
        },
    )
    level_type = Text(load_default=None, allow_none=True, validate=validate.Length(max=32))
    score = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_SCORE),
        metadata={"description": "0 to the level's max_score."},
    )
    time_spent = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_TIME_SPENT),
        metadata={"description": "Seconds; the level's min_time_seconds to 86400."},
    )
    difficulty = fields.String(
        load_default="normal",
        validate=validate.OneOf(DIFFICULTIES),
        metadata={"description": "The mode the player chose; drives the XP multiplier."},
    )
    metadata = fields.Nested(CompletionMetadataSchema, load_default=dict)
    client_event_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "A fresh UUID per completion attempt, reused on retries."},
    )
    user_id = fields.Integer(
        strict=True, metadata={"description": "Optional; must be the caller's own id."}
    )


class XPBreakdownSchema(Schema):
    """Every term of an award (README: XP rules); GET /api/levels' xp_rules.terms name each."""

    base = fields.Integer()
    difficulty = fields.String()
    difficulty_multiplier = fields.String(metadata={"example": "1.0"})
    time_bonus = fields.String(metadata={"example": "3.6"})
    no_hint_bonus = fields.Integer()
    raw = fields.String(metadata={"description": "The seed's terms summed.", "example": "31.6"})
    raw_best = fields.String(
        metadata={
            "description": "The raw value of the level's best possible run.",
            "example": "38.0",
        }
    )
    xp_reward = fields.Integer(metadata={"example": 100})
    scale_to_reward = fields.Boolean(
        metadata={"description": "Whether the run earned its share of xp_reward."}
    )
    scale = fields.String(
        metadata={
            "description": "xp_reward / raw_best, rounded for display (1 when not scaled);"
            " xp uses the exact ratio.",
            "example": "2.6316",
        }
    )
    xp = fields.Integer(metadata={"description": "This run's XP, before the repeat policy."})
    previously_credited = fields.Integer()
    awarded = fields.Integer()
    # Completions recorded before the award was scaled to xp_reward keep the terms they had.
    uncapped = fields.Integer(metadata={"description": "Earlier completions only."})
    cap = fields.Integer(metadata={"description": "Earlier completions only."})


class LevelOfResult(fields.Nested):
    """A result's level, dumped once per Level object of the process's own: the levels a
    completion is recorded against are built once per version of their row and never changed
    (app/services/ledger.py), and they belong to no session. One a session holds (it may
    still change) is dumped every time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(LevelSummarySchema, **kwargs)
        self.dumped: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _serialize(self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if nested_obj is None or inspect(nested_obj).session_id is not None:
            return super()._serialize(nested_obj, attr, obj, **kwargs)
        dumped = self.dumped.get(nested_obj)
        if dumped is None:
            dumped = self.dumped[nested_obj] = super()._serialize(nested_obj, attr, obj, **kwargs)
        return dumped


class CompletionResultSchema(Schema):
    success = fields.Constant(True)
    completion_id = fields.Integer()
    awarded_xp = fields.Integer()
    new_total_xp = fields.Integer()
    is_new_completion = fields.Boolean()
    xp_breakdown = fields.Nested(XPBreakdownSchema)
    level = LevelOfResult()
