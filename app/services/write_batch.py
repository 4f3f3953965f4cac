"""A write of several steps sent as one statement on PostgreSQL (docs/architecture.md, "The
completion's hot path").

A completion writes several rows, each through the function that owns it: the completion, the
ledger entry with the player's new total and leaderboard totals, the progress row, the outbox
event. On PostgreSQL those functions add their step to a WriteBatch instead of running it, and
the batch sends every step as one data-modifying WITH statement: one round trip, one plan.

The first step is the anchor: the row the others hang on (its id is ANCHOR_ID to them), written
only when the anchor's own guard holds. Every other step is gated on the anchor row existing,
so when the guard finds that what the caller read has changed since, nothing at all is written
and `execute` returns None: the caller reads again and writes step by step.

The steps are prebuilt statements (their SQL is compiled once and cached), so a batch is only
a choice of steps and their parameters. What every step writes alike, the player and the time,
is one parameter of the batch (PLAYER, NOW) however many steps write it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Integer, Row, bindparam, column, exists, select, table
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from app.models.types import UTCDateTime

ANCHOR_NAME = "batch_anchor"
# The anchor as the later steps see it: the WITH query of that name (the anchor step's CTE).
ANCHOR = table(ANCHOR_NAME, column("id"))
ANCHOR_ID = select(ANCHOR.c.id).scalar_subquery()
# True when the anchor row was written: every other step's condition.
GATE = exists(select(ANCHOR.c.id))
# The player a batch writes for and the time it writes at, for every step that writes them.
PLAYER = bindparam("w_user_id", type_=Integer)
NOW = bindparam("w_now", type_=UTCDateTime())


def step_values(table: Any, names: tuple[str, ...], prefix: str, shared: dict) -> list:
    """What a step writes in each of `names` of `table`: the batch's own parameter for the
    columns in `shared`, else a parameter of the step's, named `prefix`_column."""
    return [
        shared[name] if name in shared else bindparam(f"{prefix}_{name}", type_=table.c[name].type)
        for name in names
    ]


def step_params(row: dict[str, Any], prefix: str, shared: dict) -> dict[str, Any]:
    """The step's parameters for `row`, the columns the batch's own parameters write left out."""
    return {f"{prefix}_{name}": value for name, value in row.items() if name not in shared}


class WriteBatch:
    """The steps of one write, in order, with their parameters (names never shared by two
    steps with different values: each step prefixes its own), for one player at one time."""

    def __init__(self, connection: Connection, user_id: int, now: Any) -> None:
        self.connection = connection
        self.user_id = user_id
        self.now = now
        self.steps: list[CTE] = []
        self.params: dict[str, Any] = {PLAYER.key: user_id, NOW.key: now}

    def add(self, step: CTE, params: dict[str, Any]) -> None:
        self.steps.append(step)
        self.params.update(params)

    def execute(self, *columns: ColumnElement) -> Row | None:
        """Run every step in one statement; the row of `columns` (read beside the anchor), or
        None when the anchor's guard refused and nothing was written."""
        return self.connection.execute(composed(self.steps, columns), self.params).first()


# One statement object per choice of steps and columns (all prebuilt, so their ids are stable
# keys; SQL expressions are never compared with ==): its compiled SQL is cached by SQLAlchemy.
COMPOSED: dict[tuple[int, ...], Any] = {}


def composed(steps: list[CTE], columns: tuple[ColumnElement, ...]):
    key = tuple(map(id, (*steps, *columns)))
    statement = COMPOSED.get(key)
    if statement is None:
        statement = select(ANCHOR.c.id, *columns).select_from(ANCHOR).add_cte(*steps)
        COMPOSED[key] = statement
    return statement
