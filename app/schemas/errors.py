"""The error envelope every /api failure shares, as the OpenAPI document describes it."""

from marshmallow import INCLUDE, Schema, fields


class ErrorDetailSchema(Schema):
    class Meta:
        unknown = INCLUDE  # some errors carry data, e.g. original_completion_id

    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Per-field reasons, on validation errors."},
    )


class ErrorSchema(Schema):
    success = fields.Boolean(required=True, metadata={"enum": [False]})
    error = fields.Nested(ErrorDetailSchema, required=True)
