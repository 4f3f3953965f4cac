"""Tests for the XP rules in app.utils.xp."""

import json
import math
from decimal import Decimal
from fractions import Fraction

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
    best_difficulties,
    calculate_xp,
    describe_rules,
    max_xp,
    max_xp_by_difficulty,
)

LEVEL = LevelFacts(xp_reward=100, max_score=1000, min_time_seconds=60, expected_time_seconds=900)
UNSCALED = {"scale_to_reward": False}

# Level 1's best possible run under the default rules, by hand: base 10 + 1000 // 100 = 20,
# x 1.2 on hard = 24.0, + 20% of 20 = 4.0 for speed, + 10 for no hints: raw_best 38.0.
# xp_reward / raw_best = 100 / 38 = 2.63157..., shown as 2.6316.


def breakdown(base, mode, multiplier, time_bonus, no_hint, raw, raw_best, reward, scale, xp):
    # An unscaled award shows the scale "1"; a scaled one always has four places.
    return XPBreakdown(
        base, mode, multiplier, time_bonus, no_hint, raw, raw_best, reward, scale != "1", scale, xp
    )


# (id, level, score, time_spent, difficulty, metadata, rules, expected breakdown)
EXAMPLES = [
    (
        # The seed's example: 18 x 1.0 + 3.6 + 10 = 31.6; 100 x 31.6 / 38 = 83.157... -> 83.
        "seed-example-normal-fast-no-hints",
        LEVEL,
        850,
        120,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(18, "normal", "1.0", "3.6", 10, "31.6", "38.0", 100, "2.6316", 83),
    ),
    (
        # 18 x 1.2 = 21.6, + 3.6 + 10 = 35.2; 3520 / 38 = 92.63... -> 93.
        "hard-fast-no-hints",
        LEVEL,
        850,
        120,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(18, "hard", "1.2", "3.6", 10, "35.2", "38.0", 100, "2.6316", 93),
    ),
    (
        # 20 x 0.8 = 16.0, no bonus; 1600 / 38 = 42.10... -> 42.
        "easy-slow-with-hints",
        LEVEL,
        1000,
        1000,
        "easy",
        {"hints_used": 2},
        DEFAULT_RULES,
        breakdown(20, "easy", "0.8", "0", 0, "16.0", "38.0", 100, "2.6316", 42),
    ),
    (
        # A perfect run earns exactly the level's xp_reward.
        "perfect-run-earns-the-reward",
        LEVEL,
        1000,
        60,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(20, "hard", "1.2", "4.0", 10, "38.0", "38.0", 100, "2.6316", 100),
    ),
    (
        # 19 x 1.0 + 10 = 29.0; 19 x 29 / 38 = 14.5 exactly: half up gives 15, banker's 14.
        "scaled-exact-half-rounds-up",
        LevelFacts(xp_reward=19, max_score=1000, min_time_seconds=60, expected_time_seconds=900),
        950,
        900,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(19, "normal", "1.0", "0", 10, "29.0", "38.0", 19, "0.5000", 15),
    ),
    (
        # 18 + 4.5 + 10 = 32.5: half up gives 33 where banker's rounding gives 32.
        # Best run: 24.0 + 25% of 20 = 5.00, + 10 = 39.00.
        "unscaled-exact-half-rounds-up",
        LEVEL,
        850,
        120,
        "normal",
        {"hints_used": 0},
        XPRules.from_mapping({"time_bonus_ratio": "0.25", **UNSCALED}),
        breakdown(18, "normal", "1.0", "4.50", 10, "32.50", "39.00", 100, "1", 33),
    ),
    (
        # 14 * 0.75 = 10.5 -> 11 (banker's rounding would give 10).
        "unscaled-float-configured-half-rounds-up",
        LEVEL,
        400,
        900,
        "easy",
        None,
        XPRules.from_mapping({"difficulty_multipliers": {"easy": 0.75}, **UNSCALED}),
        breakdown(14, "easy", "0.75", "0", 0, "10.50", "38.0", 100, "1", 11),
    ),
    (
        # The seed's value, 38, capped at the level's 20.
        "unscaled-over-small-reward-is-capped",
        LevelFacts(xp_reward=20, max_score=1000, min_time_seconds=60, expected_time_seconds=900),
        1000,
        60,
        "hard",
        {"hints_used": 0},
        XPRules.from_mapping(UNSCALED),
        breakdown(20, "hard", "1.2", "4.0", 10, "38.0", "38.0", 20, "1", 20),
    ),
    (
        # 18 + 10 = 28.0; 2800 / 38 = 73.68... -> 74.
        "time-equal-to-expected-earns-no-time-bonus",
        LEVEL,
        850,
        900,
        "normal",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(18, "normal", "1.0", "0", 10, "28.0", "38.0", 100, "2.6316", 74),
    ),
    (
        # No run can earn the speed bonus, so the best run is 24.0 + 10 = 34.0;
        # 2800 / 34 = 82.35... -> 82, and 100 / 34 = 2.94117... -> 2.9412.
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
        breakdown(18, "normal", "1.0", "0", 10, "28.0", "34.0", 100, "2.9412", 82),
    ),
    (
        "zero-reward-gives-zero",
        LevelFacts(xp_reward=0, max_score=1000, min_time_seconds=60, expected_time_seconds=900),
        1000,
        60,
        "hard",
        {"hints_used": 0},
        DEFAULT_RULES,
        breakdown(20, "hard", "1.2", "4.0", 10, "38.0", "38.0", 0, "0.0000", 0),
    ),
    (
        # Every multiplier 0 and no bonus the level can pay: no run is worth anything.
        "rules-that-make-every-run-worthless-give-zero",
        LevelFacts(xp_reward=100, max_score=1000, min_time_seconds=60, expected_time_seconds=None),
        1000,
        60,
        "hard",
        {"hints_used": 0},
        XPRules.from_mapping(
            {"no_hint_bonus": 0, "difficulty_multipliers": {"easy": 0, "normal": 0, "hard": 0}}
        ),
        breakdown(20, "hard", "0", "0", 0, "0", "0", 100, "0.0000", 0),
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


def test_the_seed_example_earns_83_xp_on_level_1():
    # README, "XP rules": raw 18 x 1.0 + 3.6 + 10 = 31.6 of a best 38.0; 100 x 31.6 / 38 = 83.16.
    assert calculate_xp(LEVEL, 850, 120, "normal", {"hints_used": 0, "mistakes": 1}).xp == 83


def test_calculate_xp_defaults_to_normal_difficulty_and_no_metadata():
    result = calculate_xp(LEVEL, 850, 120)
    assert result.difficulty == "normal"
    assert result.no_hint_bonus == 0
    # 18 + 3.6 = 21.6; 2160 / 38 = 56.84... -> 57.
    assert result.xp == 57


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
        "raw": "35.2",
        "raw_best": "38.0",
        "xp_reward": 100,
        "scale_to_reward": True,
        "scale": "2.6316",
        "xp": 93,
    }
    assert json.loads(json.dumps(data)) == data


# The catalog's five levels (app/levels_catalog.py): xp_reward, max_score, expected_time_seconds.
REAL_LEVELS = [(100, 1000, 900), (150, 1000, 1200), (200, 1000, 1500), (350, 1000, 1800)]
REAL_LEVELS.append((500, 1500, 2400))


@pytest.mark.parametrize(("xp_reward", "max_score", "expected_time"), REAL_LEVELS)
def test_a_real_levels_best_run_earns_its_xp_reward(xp_reward, max_score, expected_time):
    assert max_xp(LevelFacts(xp_reward, max_score, 60, expected_time)) == xp_reward


@pytest.mark.parametrize(
    ("xp_reward", "max_score", "expected_time", "expected_max"),
    # The seed's ceiling: 20 x 1.2 + 4 + 10 = 38; level 5: 25 x 1.2 + 5 + 10 = 45.
    [(*level, 38) for level in REAL_LEVELS[:4]] + [(*REAL_LEVELS[4], 45)],
)
def test_unscaled_the_real_levels_top_out_at_the_seeds_ceiling(
    xp_reward, max_score, expected_time, expected_max
):
    level = LevelFacts(xp_reward, max_score, 60, expected_time)
    assert max_xp(level, XPRules.from_mapping(UNSCALED)) == expected_max


def test_max_xp_by_difficulty_of_level_1():
    # Perfect, fast, hint-free: easy 16 + 4 + 10 = 30 -> 3000 / 38 = 78.9 -> 79;
    # normal 20 + 4 + 10 = 34 -> 3400 / 38 = 89.5 (89.47...) -> 89; hard 38 -> 100.
    assert max_xp_by_difficulty(LEVEL) == {"easy": 79, "normal": 89, "hard": 100}


def test_max_xp_uses_the_mode_with_the_highest_configured_multiplier():
    rules = XPRules.from_mapping({"difficulty_multipliers": {"easy": 2, "hard": 1}, **UNSCALED})
    # 20 * 2 + 4.0 + 10 = 54
    assert max_xp(LEVEL, rules) == 54
    assert best_difficulties(rules) == ("easy",)
    assert calculate_xp(LEVEL, 1000, 60, "easy", {"hints_used": 0}, rules).raw_best == "54.0"


def test_xp_rules_overrides_replace_constants():
    rules = XPRules.from_mapping({"base_points": 5, "difficulty_multipliers": {"hard": 1.5}})
    assert rules.base_points == 5
    assert rules.score_divisor == 100
    # 5 + 8 = 13; 13 * 1.5 = 19.5, + 2.6 time bonus, + 10 = 32.1. Best run: 15 * 1.5 = 22.5,
    # + 3.0 + 10 = 35.5. 100 * 32.1 / 35.5 = 90.42... -> 90.
    result = calculate_xp(LEVEL, 850, 120, "hard", {"hints_used": 0}, rules)
    assert (result.base, result.difficulty_multiplier, result.raw) == (13, "1.5", "32.1")
    assert (result.raw_best, result.xp) == ("35.5", 90)


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
        {"scale_to_reward": "no"},
        {"scale_to_reward": 0},
        {"scale_to_reward": None},
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
            "scale_to_reward": st.booleans(),
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


def half_up(number: Fraction) -> int:
    return math.floor(number + Fraction(1, 2))


@given(runs())
def test_xp_is_an_int_between_zero_and_the_reward_and_max_xp(run):
    result = calculate_xp(**run)
    assert type(result.xp) is int
    assert 0 <= result.xp <= result.xp_reward == run["level"].xp_reward
    assert result.xp <= max_xp(run["level"], run["rules"])


@given(runs())
def test_xp_is_the_reward_scaled_by_raw_over_raw_best_or_the_capped_raw_value(run):
    # Exact rational arithmetic here, independent of the module's Decimal division.
    result = calculate_xp(**run)
    raw, raw_best = Fraction(result.raw), Fraction(result.raw_best)
    assert 0 <= raw <= raw_best
    if not run["rules"].scale_to_reward:
        assert result.xp == min(half_up(raw), result.xp_reward)
    elif raw_best == 0:
        assert result.xp == 0
    else:
        assert result.xp == half_up(result.xp_reward * raw / raw_best)


@given(levels(), rules_strategy)
def test_the_best_possible_run_earns_exactly_the_reward(level, rules):
    mode = max(DIFFICULTIES, key=lambda d: rules.difficulty_multipliers[d])
    result = calculate_xp(
        level, level.max_score, level.min_time_seconds, mode, {"hints_used": 0}, rules
    )
    assert result.raw == result.raw_best
    if rules.scale_to_reward and Fraction(result.raw_best) > 0:
        assert result.xp == level.xp_reward == max_xp(level, rules)


@given(runs(), st.sampled_from(DIFFICULTIES))
def test_a_mode_with_a_higher_multiplier_never_gives_less_xp(run, other):
    multipliers = run["rules"].difficulty_multipliers
    low, high = sorted((run["difficulty"], other), key=lambda d: multipliers[d])
    assert (
        calculate_xp(**{**run, "difficulty": high}).xp
        >= calculate_xp(**{**run, "difficulty": low}).xp
    )


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


# --- the rules in words ----------------------------------------------------


def test_the_rules_are_described_with_the_constants_in_force():
    rules = XPRules.from_mapping(
        {
            "base_points": 5,
            "score_divisor": 50,
            "time_bonus_ratio": "0.25",
            "no_hint_bonus": 7,
            "difficulty_multipliers": {"hard": 2},
        }
    )
    described = describe_rules(rules)
    words = {term.name: term.rule for term in described.terms}
    assert words["base"] == "5 + score ÷ 50, rounded down"
    assert (
        words["difficulty_multiplier"]
        == "\u00d7 0.8 on easy, \u00d7 1.0 on normal, \u00d7 2 on hard"
    )
    assert words["time_bonus"] == "25% of base when faster than the expected time"
    assert words["no_hint_bonus"] == "7 when no hint was used"
    assert described.best_run == "a perfect score, faster than the expected time, no hints, on hard"
    assert described.difficulty_multipliers == {"easy": "0.8", "normal": "1.0", "hard": "2"}


def test_tied_best_modes_are_all_named():
    rules = XPRules.from_mapping({"difficulty_multipliers": {"easy": 1.2, "normal": 1.2}})
    assert describe_rules(rules).best_run.endswith("on easy, normal or hard")


def test_every_described_term_is_a_key_of_the_breakdown_it_explains():
    completion_keys = {"previously_credited", "awarded"}  # added by the repeat policy
    for rules in (DEFAULT_RULES, XPRules.from_mapping(UNSCALED)):
        keys = calculate_xp(LEVEL, 850, 120, rules=rules).as_dict().keys() | completion_keys
        names = [term.name for term in describe_rules(rules).terms]
        assert set(names) <= keys
        assert names[-2:] == ["previously_credited", "awarded"]


def test_unscaled_rules_do_not_describe_a_scale():
    names = {term.name for term in describe_rules(XPRules.from_mapping(UNSCALED)).terms}
    assert "scale" not in names and "raw_best" not in names
    assert {"scale", "raw_best"} <= {term.name for term in describe_rules().terms}
