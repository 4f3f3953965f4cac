"""JSON made by orjson where a request makes it: the API's answers, the log lines and the values
of JSON columns (docs/architecture.md, "The completion's hot path").

orjson writes the same JSON as the standard library's json module for everything the app
sends: it keeps a dict's order (or sorts its keys when asked), writes non-string keys as
strings, and leaves to the caller's `default` whatever it does not know. The one thing it
refuses that json writes, an integer beyond 64 bits, is written by json instead, so no value
that json could write ever fails. It does not escape non-ASCII characters (the answer is
UTF-8 JSON either way), and its output has no spaces.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

# Dates and times go to the caller's `default`: Flask writes them as HTTP dates, as it would
# without orjson.
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(obj: Any, default: Callable[[Any], Any] | None = None, option: int = OPTIONS) -> str:
    """`obj` as compact JSON text."""
    try:
        return orjson.dumps(obj, default=default, option=option).decode()
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits, or what `default` refuses: json says which, or writes it.
        sort_keys = bool(option & orjson.OPT_SORT_KEYS)
        return json.dumps(obj, default=default, sort_keys=sort_keys, separators=(",", ":"))


def log_serializer(obj: Any, **kwargs: Any) -> str:
    """structlog's JSONRenderer serializer: its fallback for unknown values is kept."""
    return dumps(obj, default=kwargs.get("default"))


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, its answers (jsonify, a view's dict) written by orjson.

    Everything else, the `tojson` filter of the templates among it, stays Flask's own.
    """

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        option = OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        if (self.compact is None and self._app.debug) or self.compact is False:
            option |= orjson.OPT_INDENT_2
        text = dumps(obj, default=self.default, option=option)
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)
