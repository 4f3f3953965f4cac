"""Turning a request into validated data: the JSON body and marshmallow loads."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from app.errors import ValidationFailed


def json_body() -> dict[str, Any]:
    """The request body as a JSON object; raises ValidationFailed for anything else."""
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationFailed("The request body is not valid JSON.", code="invalid_json")
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.", code="invalid_json")
    return data


def load(schema: Schema, data: Any) -> Any:
    """schema.load, with marshmallow's errors turned into the API's validation envelope."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ValidationFailed(fields=flatten_messages(error.messages)) from None


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested message dict as {"field.sub": ["message", ...]}."""
    if isinstance(messages, list):
        return {prefix or "_body": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        # marshmallow files whole-object errors under "_schema"; name the object instead.
        name = f"{prefix}.{key}" if prefix and key != "_schema" else prefix or str(key)
        if isinstance(value, dict):
            flat.update(flatten_messages(value, name))
        else:
            flat[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return flat
