"""URL converters for database ids: an id beyond the column's range is simply not found."""

from werkzeug.routing import IntegerConverter


class IdConverter(IntegerConverter):
    """A positive 32-bit id (users, tokens, levels)."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


class BigIdConverter(IntegerConverter):
    """A positive 64-bit id (completions, ledger entries)."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=2**63 - 1)


CONVERTERS = {"id": IdConverter, "bigid": BigIdConverter}
