"""API token requests and responses."""

from marshmallow import Schema, fields, validate

from app.schemas.text import Text


class TokenCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=64))


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    is_active = fields.Boolean()


class IssuedTokenSchema(Schema):
    success = fields.Constant(True)
    token = fields.Nested(TokenSchema)
    secret = fields.String(metadata={"description": "Shown once; store it now."})
