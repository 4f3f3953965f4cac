"""Tests for the XP rules in app.utils.xp."""

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.utils.xp import (
    DEFAULT_RULES,
    DIFFICULTIES,
    LevelFacts,
    XPBreakdown,
    XPRules,
    award_for_repeat,
    calculate_xp,
    max_xp,
)

LEVEL = LevelFacts(xp_reward=100, max_score=1000, min_time_seconds=60, expected_time_seconds=900)

# (id, level, score, time_spent, difficulty, metadata, rules, expected breakdown)
EXAMPLES = [
    (
        "normal-fast-no-hints",
        LEVEL,
        850,
        120,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(18, "normal", "1.0", "3.6", 10, 32, 100, 32),
    ),
    (
        "hard-fast-no-hints",
        LEVEL,
        850,
        120,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(18, "hard", "1.2", "3.6", 10, 35, 100, 35),
    ),
    (
        "easy-slow-with-hints",
        LEVEL,
        1000,
        1000,
        "easy",
        {"hints_used": 2},
        DEFAULT_RULES,
        XPBreakdown(20, "easy", "0.8", "0", 0, 16, 100, 16),
    ),
    (
        # 18 + 4.5 + 10 = 32.5: half up gives 33 where banker's rounding gives 32.
        "exact-half-rounds-up",
        LEVEL,
        850,
        120,
        "normal",
        {"hints_used": 0},
        XPRules.from_mapping({"time_bonus_ratio": "0.25"}),
        XPBreakdown(18, "normal", "1.0", "4.50", 10, 33, 100, 33),
    ),
    (
        # 14 * 0.75 = 10.5 -> 11 (banker's rounding would give 10).
        "float-configured-half-rounds-up",
        LEVEL,
        400,
        900,
        "easy",
        None,
        XPRules.from_mapping({"difficulty_multipliers": {"easy": 0.75}}),
        XPBreakdown(14, "easy", "0.75", "0", 0, 11, 100, 11),
    ),
    (
        "over-small-cap-is-capped",
        LevelFacts(xp_reward=20, max_score=1000, min_time_seconds=60, expected_time_seconds=900),
        1000,
        60,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(20, "hard", "1.2", "4.0", 10, 38, 20, 20),
    ),
    (
        "time-equal-to-expected-earns-no-time-bonus",
        LEVEL,
        850,
        900,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(18, "normal", "1.0", "0", 10, 28, 100, 28),
    ),
    (
        "no-expected-time-earns-no-time-bonus",
        LevelFacts(
            xp_reward=100,
            max_score=1000,
            min_time_seconds=60,
            expected_time_seconds=None,
        ),
        850,
        60,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(18, "normal", "1.0", "0", 10, 28, 100, 28),
    ),
    (
        "zero-cap-gives-zero",
        LevelFacts(xp_reward=0, max_score=1000, min_time_seconds=60, expected_time_seconds=900),
        1000,
        60,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        XPBreakdown(20, "hard", "1.2", "4.0", 10, 38, 0, 0),
    ),
]


@pytest.mark.parametrize(
    ("level", "score", "time_spent", "difficulty", "metadata", "rules", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in EXAMPLES],
)
def test_calculate_xp_matches_hand_computed_breakdown(
    level, score, time_spent, difficulty, metadata, rules, expected
):
    assert calculate_xp(level, score, time_spent, difficulty, metadata, rules) == expected


def test_calculate_xp_defaults_to_normal_difficulty_and_no_metadata():
    result = calculate_xp(LEVEL, 850, 120)
    assert result.difficulty == "normal"
    assert result.no_hint_bonus == 0
    assert result.xp == 22


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {},
        {"hints_used": None},
        {"hints_used": False},
        {"hints_used": 0.0},
        {"hints_used": "0"},
        {"hints_used": 1},
    ],
    ids=repr,
)
def test_no_hint_bonus_needs_hints_used_to_be_integer_zero(metadata):
    assert calculate_xp(LEVEL, 850, 120, "normal", metadata).no_hint_bonus == 0


def test_breakdown_as_dict_is_plain_json_ready_dict():
    result = calculate_xp(LEVEL, 850, 120, "hard", {"hints_used": 0})
    data = result.as_dict()
    assert data == {
        "base": 18,
        "difficulty": "hard",
        "difficulty_multiplier": "1.2",
        "time_bonus": "3.6",
        "no_hint_bonus": 10,
        "uncapped": 35,
        "cap": 100,
        "xp": 35,
    }
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    ("xp_reward", "max_score", "expected_time", "expected_max"),
    [
        (100, 1000, 900, 38),
        (150, 1000, 1200, 38),
        (200, 1000, 1500, 38),
        (350, 1000, 1800, 38),
        (500, 1500, 2400, 45),
    ],
)
def test_max_xp_of_real_levels(xp_reward, max_score, expected_time, expected_max):
    level = LevelFacts(xp_reward, max_score, 60, expected_time)
    assert max_xp(level) == expected_max


def test_max_xp_uses_the_mode_with_the_highest_configured_multiplier():
    rules = XPRules.from_mapping({"difficulty_multipliers": {"easy": 2, "hard": 1}})
    # 20 * 2 + 4.0 + 10 = 54
    assert max_xp(LEVEL, rules) == 54


def test_xp_rules_overrides_replace_constants():
    rules = XPRules.from_mapping({"base_points": 5, "difficulty_multipliers": {"hard": 1.5}})
    assert rules.base_points == 5
    assert rules.score_divisor == 100
    # 5 + 8 = 13; 13 * 1.5 = 19.5, + 2.6 time bonus, + 10 = 32.1 -> 32
    result = calculate_xp(LEVEL, 850, 120, "hard", {"hints_used": 0}, rules)
    assert (result.base, result.difficulty_multiplier, result.xp) == (13, "1.5", 32)


def test_partial_multiplier_override_merges_over_defaults():
    rules = XPRules.from_mapping({"difficulty_multipliers": {"hard": 1.5}})
    assert dict(rules.difficulty_multipliers) == {
        "easy": Decimal("0.8"),
        "normal": Decimal("1.0"),
        "hard": Decimal("1.5"),
    }


def test_float_overrides_become_exact_decimals():
    rules = XPRules.from_mapping({"time_bonus_ratio": 0.1})
    assert rules.time_bonus_ratio == Decimal("0.1")


@pytest.mark.parametrize("overrides", [None, {}])
def test_empty_overrides_give_default_rules(overrides):
    assert XPRules.from_mapping(overrides) == DEFAULT_RULES


def test_default_rules_are_hashable_and_immutable():
    assert hash(DEFAULT_RULES) == hash(XPRules())
    with pytest.raises(TypeError):
        DEFAULT_RULES.difficulty_multipliers["hard"] = Decimal(5)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"base_point": 5}, "base_point"),
        ({"base_points": 5, "bonus": 1}, "bonus"),
        ({"difficulty_multipliers": {"insane": 2}}, "insane"),
    ],
)
def test_unknown_override_key_is_refused_by_name(overrides, named):
    with pytest.raises(ValueError, match=named):
        XPRules.from_mapping(overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"score_divisor": 0},
        {"base_points": -1},
        {"base_points": 2.5},
        {"no_hint_bonus": True},
        {"time_bonus_ratio": "abc"},
        {"time_bonus_ratio": -0.1},
        {"time_bonus_ratio": float("nan")},
        {"difficulty_multipliers": {"hard": -1}},
        {"difficulty_multipliers": [("hard", 2)]},
        ["base_points"],
    ],
    ids=repr,
)
def test_invalid_override_value_is_refused(overrides):
    with pytest.raises(ValueError):
        XPRules.from_mapping(overrides)


@pytest.mark.parametrize(
    ("score", "time_spent", "difficulty", "message"),
    [
        pytest.param(-1, 120, "normal", "score", id="negative-score"),
        pytest.param(1001, 120, "normal", "score", id="score-above-max"),
        pytest.param(850.0, 120, "normal", "score", id="float-score"),
        pytest.param(True, 120, "normal", "score", id="bool-score"),
        pytest.param(850, 59, "normal", "time_spent", id="time-below-min"),
        pytest.param(850, 120.0, "normal", "time_spent", id="float-time"),
        pytest.param(850, None, "normal", "time_spent", id="missing-time"),
        pytest.param(850, 120, "insane", "difficulty", id="unknown-difficulty"),
        pytest.param(850, 120, "Hard", "difficulty", id="miscased-difficulty"),
    ],
)
def test_calculate_xp_rejects_input_outside_domain(score, time_spent, difficulty, message):
    with pytest.raises(ValueError, match=message):
        calculate_xp(LEVEL, score, time_spent, difficulty)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"xp_reward": -1},
        {"max_score": True},
        {"min_time_seconds": 1.5},
        {"expected_time_seconds": "900"},
    ],
    ids=repr,
)
def test_level_facts_reject_invalid_values(kwargs):
    values = {
        "xp_reward": 100,
        "max_score": 1000,
        "min_time_seconds": 60,
        "expected_time_seconds": 900,
    }
    with pytest.raises(ValueError):
        LevelFacts(**{**values, **kwargs})


@pytest.mark.parametrize(
    ("xp", "already_credited", "expected"),
    [(30, 0, 30), (30, 20, 10), (30, 30, 0), (20, 30, 0)],
)
def test_award_for_repeat_credits_only_improvement(xp, already_credited, expected):
    assert award_for_repeat(xp, already_credited) == expected


@pytest.mark.parametrize(("xp", "already_credited"), [(-1, 0), (10, -1), (True, 0)])
def test_award_for_repeat_rejects_invalid_amounts(xp, already_credited):
    with pytest.raises(ValueError):
        award_for_repeat(xp, already_credited)


# --- properties ------------------------------------------------------------


@st.composite
def levels(draw):
    min_time = draw(st.integers(1, 600))
    expected = draw(st.none() | st.integers(min_time + 1, min_time + 5000))
    return LevelFacts(
        xp_reward=draw(st.integers(0, 1000)),
        max_score=draw(st.integers(1, 5000)),
        min_time_seconds=min_time,
        expected_time_seconds=expected,
    )


rules_strategy = st.just(DEFAULT_RULES) | st.builds(
    XPRules.from_mapping,
    st.fixed_dictionaries(
        {},
        optional={
            "base_points": st.integers(0, 50),
            "score_divisor": st.integers(1, 500),
            "time_bonus_ratio": st.decimals(0, 1, places=2),
            "no_hint_bonus": st.integers(0, 50),
            "difficulty_multipliers": st.fixed_dictionaries(
                {},
                optional={d: st.decimals(0, 3, places=2) for d in DIFFICULTIES},
            ),
        },
    ),
)
hints_metadata = st.none() | st.fixed_dictionaries(
    {}, optional={"hints_used": st.none() | st.booleans() | st.integers(0, 5)}
)


@st.composite
def runs(draw):
    level = draw(levels())
    return {
        "level": level,
        "score": draw(st.integers(0, level.max_score)),
        "time_spent": draw(st.integers(level.min_time_seconds, level.min_time_seconds + 6000)),
        "difficulty": draw(st.sampled_from(DIFFICULTIES)),
        "metadata": draw(hints_metadata),
        "rules": draw(rules_strategy),
    }


@given(runs())
def test_xp_is_an_int_between_zero_and_cap_and_max_xp(run):
    result = calculate_xp(**run)
    assert type(result.xp) is int
    assert 0 <= result.xp <= result.cap == run["level"].xp_reward
    assert result.xp == min(result.uncapped, result.cap)
    assert result.xp <= max_xp(run["level"], run["rules"])


@given(runs(), st.data())
def test_higher_score_never_gives_less_xp(run, data):
    higher = data.draw(st.integers(run["score"], run["level"].max_score))
    assert calculate_xp(**{**run, "score": higher}).xp >= calculate_xp(**run).xp


@given(runs(), st.data())
def test_faster_valid_time_never_gives_less_xp(run, data):
    faster = data.draw(st.integers(run["level"].min_time_seconds, run["time_spent"]))
    assert calculate_xp(**{**run, "time_spent": faster}).xp >= calculate_xp(**run).xp


@given(runs(), st.integers(1, 100))
def test_no_hints_never_gives_less_xp_than_some_hints(run, hints):
    no_hints = calculate_xp(**{**run, "metadata": {"hints_used": 0}})
    with_hints = calculate_xp(**{**run, "metadata": {"hints_used": hints}})
    assert no_hints.xp >= with_hints.xp


@given(st.lists(st.integers(0, 1000), max_size=20))
def test_repeat_awards_sum_to_best_single_result(results):
    credited = 0
    for index, xp in enumerate(results):
        award = award_for_repeat(xp, credited)
        assert award >= 0
        credited += award
        assert credited == max(results[: index + 1])
