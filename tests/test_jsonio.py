"""The JSON orjson writes for answers, log lines and JSON columns reads as json's did, and what
orjson refuses is still written."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from flask import jsonify

from app import create_app, jsonio

ANSWER = {
    "success": True,
    "level": {"name": "Malware Mayhem", "skills": ["Threat Analysis"], "level_id": 3},
    "awarded_xp": 166,
    "xp_breakdown": {"scale": "5.2632", "base": 18, "ratio": 0.1},
}


def make_app():
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_an_answer_is_the_json_flask_wrote():
    app = make_app()
    with app.test_request_context():
        body = jsonify(ANSWER).get_data(as_text=True)

    # What Flask's own provider writes outside debug mode, to the byte.
    assert body == json.dumps(ANSWER, sort_keys=True, separators=(",", ":")) + "\n"


def test_dates_ids_and_decimals_in_an_answer_read_as_flask_wrote_them():
    app = make_app()
    when = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)
    event = uuid.UUID("0e786bba-0000-4000-8000-000000000000")
    with app.test_request_context():
        body = jsonify({"at": when, "event": event, "xp": Decimal("1.5")}).get_json()

    assert body == {
        "at": "Thu, 03 Dec 2026 16:30:00 GMT",
        "event": "0e786bba-0000-4000-8000-000000000000",
        "xp": "1.5",
    }


def test_an_integer_beyond_64_bits_is_still_written_exactly():
    app = make_app()
    with app.test_request_context():
        body = jsonify({"total": 2**70}).get_data(as_text=True)

    assert json.loads(body) == {"total": 2**70}
    assert jsonio.dumps([2**70, "x"]) == '[1180591620717411303424,"x"]'


def test_a_log_line_keeps_the_renderers_fallback_for_unknown_values():
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    line = jsonio.log_serializer({"event": "note", "thing": Opaque()}, default=repr)
    assert json.loads(line) == {"event": "note", "thing": "<opaque>"}
