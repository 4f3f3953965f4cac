"""Request bodies: JSON nested deeper than 32 levels is refused with 400 before it is parsed."""

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import LevelCompletion

ECHO = "/api/_test/echo"
DEPTH_LIMIT = 32  # the documented limit, stated here rather than read from the code


def nest(kinds: str, inner: str = "1") -> str:
    """`inner` inside one array ("[") or object ("{") per character of `kinds`, outermost first."""
    opening = "".join("[" if kind == "[" else '{"a":' for kind in kinds)
    closing = "".join("]" if kind == "[" else "}" for kind in reversed(kinds))
    return opening + inner + closing


BRACKETS_IN_A_STRING = json.dumps("[{" * 20 + '\\"' + "]}" * 3)

DEPTH_CASES = [
    # (what, body, accepted?)
    ("32 objects", nest("{" * 32), True),
    ("32 objects and arrays", nest("{[" * 16), True),
    ("32 levels with brackets in a string", nest("{" * 32, BRACKETS_IN_A_STRING), True),
    ("10,000 brackets inside a string", json.dumps({"a": "[" * 10_000}), True),
    ("33 objects", nest("{" * 33), False),
    ("33 objects and arrays", nest("{[" * 16 + "{"), False),
    ("33 after an escaped quote", '{"s": "\\"", "d": ' + nest("{" * 32) + "}", False),
    ("33 after an escaped backslash", '{"s": "\\\\", "d": ' + nest("{" * 32) + "}", False),
    ("33 after a string of brackets", '{"s": "]]]]", "d": ' + nest("[" * 32) + "}", False),
    ("10,000 [", "[" * 10_000, False),
    ("10,000 [ closed again", "[" * 10_000 + "]" * 10_000, False),
    ('10,000 {"a":', '{"a":' * 10_000, False),
    ("10,000 mixed, closed again", nest("{[" * 5_000), False),
]


@pytest.mark.parametrize(
    ("body", "accepted"),
    [case[1:] for case in DEPTH_CASES],
    ids=[case[0] for case in DEPTH_CASES],
)
def test_json_deeper_than_32_levels_is_refused(client, config_override, caplog, body, accepted):
    # Room for the longest bodies, so the depth rule and not the size limit is what answers.
    config_override(MAX_CONTENT_LENGTH=1024 * 1024)
    response = client.post(ECHO, data=body, content_type="application/json")
    assert response.mimetype == "application/json"
    if accepted:
        assert response.status_code == 200, response.json
        assert response.json == {"received": json.loads(body)}
    else:
        assert response.status_code == 400
        error = response.json["error"]
        assert error["code"] == "invalid_json"
        assert "deeper than 32 levels" in error["message"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "body",
    ["[" * 10_000, '{"a":' * 3_000, nest("[{" * 2_000)],
    ids=["10,000 [", '3,000 {"a":', "4,000 mixed"],
)
@pytest.mark.parametrize("path", ["/api/levels/complete", "/api/tokens"])
def test_a_deep_body_to_a_real_write_is_refused_and_records_nothing(
    app, player_client, levels, caplog, path, body
):
    response = player_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "invalid_json"
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LevelCompletion)) == 0
    assert player_client.get("/api/tokens").json["tokens"] == []


def depth_of(value, cap: int = DEPTH_LIMIT + 1) -> int:
    """How deeply `value` nests, counted up to `cap` levels."""
    if not isinstance(value, (list, dict)):
        return 0
    if cap == 0:
        return 1
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((depth_of(child, cap - 1) for child in children), default=0)


def expected_status(body: str) -> int:
    """What the echo route should answer, worked out with the standard library."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return 400
    return 200 if isinstance(value, dict) and depth_of(value) <= DEPTH_LIMIT else 400


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
scalars = st.one_of(
    st.integers(),
    st.booleans(),
    st.none(),
    st.text(alphabet='[]{}"\\:,ab', max_size=12),
).map(json.dumps)


@FUZZ
@given(kinds=st.text(alphabet="[{", max_size=60), inner=scalars)
def test_nesting_up_to_32_levels_round_trips_and_deeper_is_refused(client, kinds, inner):
    body = nest("{" + kinds, inner)  # an object outside, as every write expects
    response = client.post(ECHO, data=body, content_type="application/json")
    if 1 + len(kinds) <= DEPTH_LIMIT:
        assert response.status_code == 200
        assert response.json == {"received": json.loads(body)}
    else:
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_json"


@FUZZ
@given(body=st.text(alphabet='[]{}"\\:, a1', max_size=3000))
def test_any_bracket_soup_is_answered_with_the_envelope_never_a_500(client, body):
    response = client.post(ECHO, data=body, content_type="application/json")
    assert response.mimetype == "application/json"
    assert response.status_code == expected_status(body)
    if response.status_code == 400:
        assert response.json["error"]["code"] == "invalid_json"
    else:
        assert response.json == {"received": json.loads(body)}
