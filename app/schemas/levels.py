"""How a level is shown to API clients and pages."""

from marshmallow import Schema, fields


class LevelSchema(Schema):
    level_id = fields.Integer(attribute="number", metadata={"example": 1})
    name = fields.String()
    description = fields.String()
    category = fields.String()
    icon = fields.String(metadata={"description": "A Bootstrap Icons name."})
    difficulty = fields.String(metadata={"description": "How hard the level itself is."})
    xp_reward = fields.Integer(
        metadata={"description": "What the level's best possible run earns; never more."}
    )
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
        metadata={"description": "The most XP one run can earn: see xp_rules.best_run."}
    )
    progress = fields.Nested(
        LevelStateSchema,
        allow_none=True,
        metadata={"description": "The caller's standing; null when not signed in."},
    )


class XPRuleTermSchema(Schema):
    name = fields.String(metadata={"description": "The term's key in a completion's xp_breakdown."})
    label = fields.String(metadata={"example": "Speed bonus"})
    rule = fields.String(metadata={"description": "How the term is worked out, in words."})
    sign = fields.String(
        metadata={"description": "The operator the term enters with (times, plus, minus, equals)."}
    )


class XPRulesSchema(Schema):
    """The XP rules in force (README: XP rules), so that no page restates them."""

    base_points = fields.Integer()
    score_divisor = fields.Integer()
    difficulty_multipliers = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "Per mode."}
    )
    time_bonus_ratio = fields.String(metadata={"description": "Of base, a decimal."})
    no_hint_bonus = fields.Integer()
    scale_to_reward = fields.Boolean(
        metadata={"description": "A run earns its share of xp_reward; else raw XP capped at it."}
    )
    best_run = fields.String(metadata={"description": "The run that earns a level's max_xp."})
    terms = fields.List(
        fields.Nested(XPRuleTermSchema),
        metadata={"description": "The formula term by term, in the order a breakdown reads."},
    )


class LevelListSchema(Schema):
    levels = fields.List(fields.Nested(CatalogLevelSchema))
    xp_rules = fields.Nested(XPRulesSchema)
