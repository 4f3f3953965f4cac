"""A string field for text that will be stored: what every database can hold."""

from typing import Any

from marshmallow import ValidationError, fields


class Text(fields.String):
    """A string without NUL characters or unpaired surrogates (PostgreSQL refuses both)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Must be valid Unicode text.") from None
        return text
