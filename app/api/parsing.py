"""Turning a request into validated data: the JSON body and marshmallow loads."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, g, request
from marshmallow import Schema, ValidationError

from app.errors import ValidationFailed

# The parser recurses once per level, so a body of a few thousand brackets would exhaust the
# stack; no request of ours nests more than three levels, so deeper bodies are refused unread.
MAX_JSON_DEPTH = 32

# A string literal (to the end of the text when it is unterminated) or one bracket. Scanned
# left to right once, so a string's brackets never count and the scan stays linear.
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)
LEVEL_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}
NOT_JSON = "The request body is not valid JSON."


def json_body() -> dict[str, Any]:
    """The request body as a JSON object; raises ValidationFailed for anything else."""
    data = parsed_body()
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.", code="invalid_json")
    return data


def parsed_body() -> Any:
    """The JSON request body, measured before it is parsed; ValidationFailed when it is not
    JSON or nests deeper than MAX_JSON_DEPTH. Parsed once a request (the caller's lookup may
    read a completion's body before its view does)."""
    if PARSED in g:
        return g.get(PARSED)
    body = parse_body()
    setattr(g, PARSED, body)
    return body


PARSED = "parsed_json_body"


def parse_body() -> Any:
    if not request.is_json:
        raise ValidationFailed(NOT_JSON, code="invalid_json")
    raw = request.get_data(cache=True)
    try:
        # The same detection json.loads applies to bytes (UTF-8, or UTF-16/32 with a BOM).
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        raise ValidationFailed(NOT_JSON, code="invalid_json") from None
    if is_nested_too_deeply(text):
        raise ValidationFailed(
            f"The request body nests JSON deeper than {MAX_JSON_DEPTH} levels.",
            code="invalid_json",
        )
    try:
        return current_app.json.loads(text)
    except ValueError:
        raise ValidationFailed(NOT_JSON, code="invalid_json") from None


def is_nested_too_deeply(text: str) -> bool:
    """True when JSON `text` nests deeper than MAX_JSON_DEPTH."""
    # No text nests deeper than it has opening brackets, and counting them is cheap: most
    # bodies are settled here without a scan.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    return nesting_depth(text) > MAX_JSON_DEPTH


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON `text` (0 for a scalar), counted in one
    loop; text that is not JSON gets a number its parse then refuses anyway."""
    depth = deepest = 0
    for token in JSON_TOKEN.findall(text):
        depth += LEVEL_STEPS.get(token, 0)
        deepest = max(deepest, depth)
    return deepest


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
