"""The replay check of a completion, read by the caller's lookup (docs/architecture.md, "The
completion's hot path").

A posted completion is first checked against the completions its event id may have recorded,
and a new one is written against the level and the XP already credited for it. On PostgreSQL
all of that is read by one statement (REPLAY_OR_READ_AHEAD in completions.py), and for a
completion request the caller's lookup (a token's or a session's) reads it too: the columns
and joins below are added to the lookup, and the part of its row they fill is kept for the
request, so that a replay costs the lookup alone and a new completion the lookup and its write.

Only the request's own event id and level are read this way, taken from its body by the same
fields the completion's schema validates them with; the view asks for the read with the values
it validated, so a body the schema would refuse, or reads differently, never finds one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context, request
from marshmallow import ValidationError
from sqlalchemy import String, bindparam, cast, func, literal_column, select
from werkzeug.exceptions import HTTPException

from app.errors import ValidationFailed
from app.models import LevelCompletion, UserLevelProgress
from app.services import ledger

completions = LevelCompletion.__table__
progress = UserLevelProgress.__table__
# What a replay answers from: the recorded completion (its id named apart from the level's).
ORIGINAL = (
    completions.c.id.label("completion_id"),
    completions.c.awarded_xp,
    completions.c.xp_breakdown,
    completions.c.payload_hash,
)
# The version of the player's row: PostgreSQL's xmin, the transaction that wrote the row's
# current version. Every change of the player's XP updates the row, so an unchanged version
# means nothing was credited or taken since it was read.
USER_VERSION = cast(literal_column("users.xmin"), String)
# The player's total and row version, the completion this event id recorded (if any), the
# level's id and row version (the recorded one's, else the requested one; the process keeps
# the levels it has read, see ledger.level_of_version) and the XP already credited for the
# requested level. Every statement that reads them joins users.
COLUMNS = (
    *ORIGINAL,
    ledger.users.c.total_xp,
    USER_VERSION.label("user_version"),
    ledger.levels.c.level_id,
    ledger.LEVEL_VERSION.label("level_version"),
    select(progress.c.xp_earned)
    .where(
        progress.c.user_id == ledger.users.c.id,
        progress.c.level_id == bindparam("level_id"),
    )
    .scalar_subquery()
    .label("credited"),
)
NAMES = tuple(column.name for column in COLUMNS)
RECORDED = (completions.c.user_id == ledger.users.c.id) & (
    completions.c.client_event_id == bindparam("event_id")
)
OF_LEVEL = ledger.levels.c.level_id == func.coalesce(completions.c.level_id, bindparam("level_id"))
# The attribute that marks the view whose requests are read ahead.
MARK = "reads_completion_ahead"


def completion_view(view: Any) -> Any:
    """Mark `view` as the one that records completions (the decorator right under its route):
    the lookup of its callers reads the replay check along."""
    setattr(view, MARK, True)
    return view


def joined(statement: Any) -> Any:
    """`statement` (a select from users) with the read's columns and joins added."""
    return (
        statement.add_columns(*COLUMNS)
        .outerjoin(completions, RECORDED)
        .outerjoin(ledger.levels, OF_LEVEL)
    )


@dataclass(frozen=True)
class Columns:
    """The read's part of a longer row, by name, as the row itself would give it."""

    _mapping: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Asked:
    """What a completion request asks the lookup to read: its event id and level."""

    event_id: uuid.UUID
    level_id: str

    def params(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "level_id": self.level_id}


def asked() -> Asked | None:
    """The event id and level of this request's body when it is a completion with an event
    id, both as the completion's schema loads them; None for any other request."""
    if not has_request_context() or request.endpoint is None:
        return None
    if not getattr(current_app.view_functions.get(request.endpoint), MARK, False):
        return None
    # Imported here: the API's parsing and schemas sit above the services.
    from app.api.levels import completion_request_schema
    from app.api.parsing import parsed_body

    try:
        body = parsed_body()
        if not isinstance(body, dict) or body.get("client_event_id") is None:
            return None
        fields = completion_request_schema.fields
        event_id = fields["client_event_id"].deserialize(body["client_event_id"])
        level_id = fields["level_id"].deserialize(body.get("level_id"))
    except (ValidationFailed, ValidationError, HTTPException):
        return None  # the view refuses it with the right answer
    return Asked(event_id, level_id)


def keep(user_id: int, what: Asked, row: Any) -> None:
    """Keep the read's part of a lookup's `row` (its last columns) for this request."""
    values = tuple(row)[-len(COLUMNS) :]
    g.completion_lookup_read = (user_id, what, Columns(dict(zip(NAMES, values, strict=True))))


def take(user_id: int, event_id: uuid.UUID | None, level_id: str) -> Columns | None:
    """The read the lookup made for this player, event id and level, once; None if none."""
    kept = g.pop("completion_lookup_read", None)
    if kept is None or kept[0] != user_id or kept[1] != Asked(event_id, level_id):
        return None
    return kept[2]
