"""XP for a completed level (README: XP rules): pure Decimal rules, no Flask and no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

DIFFICULTIES = ("easy", "normal", "hard")

_DEFAULT_MULTIPLIERS = {"easy": "0.8", "normal": "1.0", "hard": "1.2"}


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but True as a score or count is always a caller bug.
    return isinstance(value, int) and not isinstance(value, bool)


# Settings of the wrong type raise ValueError, not TypeError (hence the TRY004
# suppressions): callers and config.py treat every bad setting as a ValueError.


def _to_decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, float):
        # JSON config yields floats; their repr is the shortest exact spelling ("1.2"),
        # so going through str keeps binary noise out of the Decimal.
        value = repr(value)
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return number


def _default_multipliers() -> Mapping[str, Decimal]:
    return MappingProxyType({k: Decimal(v) for k, v in _DEFAULT_MULTIPLIERS.items()})


@dataclass(frozen=True)
class XPRules:
    """The tunable constants of the XP formula; build from config with from_mapping."""

    base_points: int = 10
    score_divisor: int = 100
    # Left out of the hash because a mapping proxy is unhashable; equality still uses it.
    difficulty_multipliers: Mapping[str, Decimal] = field(
        default_factory=_default_multipliers, hash=False
    )
    time_bonus_ratio: Decimal = Decimal("0.2")
    no_hint_bonus: int = 10
    # On, a run earns its share of the level's xp_reward; off, the raw value capped at it.
    scale_to_reward: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.scale_to_reward, bool):
            raise ValueError(f"scale_to_reward must be true or false, not {self.scale_to_reward!r}")
        for name in ("base_points", "no_hint_bonus"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        if not _is_int(self.score_divisor) or self.score_divisor <= 0:
            raise ValueError(f"score_divisor must be an integer > 0, not {self.score_divisor!r}")
        # frozen dataclass: normalising in place needs object.__setattr__.
        object.__setattr__(
            self,
            "time_bonus_ratio",
            _to_decimal("time_bonus_ratio", self.time_bonus_ratio),
        )
        multipliers = self.difficulty_multipliers
        if not isinstance(multipliers, Mapping):
            raise ValueError("difficulty_multipliers must be a mapping")
        unknown = sorted(set(multipliers) - set(DIFFICULTIES), key=str)
        if unknown:
            raise ValueError(f"unknown difficulty in difficulty_multipliers: {unknown[0]!r}")
        missing = [d for d in DIFFICULTIES if d not in multipliers]
        if missing:
            raise ValueError(f"difficulty_multipliers is missing {missing[0]!r}")
        normalised = {
            d: _to_decimal(f"difficulty_multipliers[{d!r}]", multipliers[d]) for d in DIFFICULTIES
        }
        object.__setattr__(self, "difficulty_multipliers", MappingProxyType(normalised))

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None) -> XPRules:
        """Defaults with `overrides` (the XP_RULES config) applied over them.

        A partial difficulty_multipliers map is merged over the default multipliers.
        Unknown keys raise ValueError, so a misspelt setting cannot be silently ignored.
        """
        if overrides is None:
            return cls()
        if not isinstance(overrides, Mapping):
            raise ValueError("XP rules overrides must be a mapping")
        known = {f.name for f in fields(cls)}
        for key in overrides:
            if key not in known:
                raise ValueError(f"unknown XP rule: {key!r}")
        values = dict(overrides)
        if "difficulty_multipliers" in values:
            partial = values["difficulty_multipliers"]
            if not isinstance(partial, Mapping):
                raise ValueError("difficulty_multipliers must be a mapping")
            values["difficulty_multipliers"] = {**_DEFAULT_MULTIPLIERS, **partial}
        return cls(**values)


DEFAULT_RULES = XPRules()

# The scale is shown to this many places; the XP itself uses the exact ratio.
SCALE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LevelFacts:
    """What the calculator needs to know about a level."""

    xp_reward: int
    max_score: int
    min_time_seconds: int
    expected_time_seconds: int | None

    def __post_init__(self) -> None:
        for name in ("xp_reward", "max_score", "min_time_seconds"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        expected = self.expected_time_seconds
        if expected is not None and (not _is_int(expected) or expected < 0):
            raise ValueError(
                f"expected_time_seconds must be None or an integer >= 0, not {expected!r}"
            )


@dataclass(frozen=True)
class XPBreakdown:
    """How an XP award was reached; Decimals are strings so the dict is JSON-ready."""

    base: int
    difficulty: str
    difficulty_multiplier: str
    time_bonus: str
    no_hint_bonus: int
    raw: str
    raw_best: str
    xp_reward: int
    scale_to_reward: bool
    scale: str
    xp: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Terms:
    base: int
    multiplier: Decimal
    time_bonus: Decimal
    no_hint_bonus: int

    @property
    def raw(self) -> Decimal:
        return self.base * self.multiplier + self.time_bonus + self.no_hint_bonus


def _plain(number: Decimal) -> str:
    # format "f" never switches to exponent notation, which str(Decimal) may do.
    return format(number, "f")


def _round_half_up(number: Decimal) -> int:
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check_run(
    level: LevelFacts, score: Any, time_spent: Any, difficulty: Any, metadata: Any, rules: XPRules
) -> None:
    if not _is_int(score) or not 0 <= score <= level.max_score:
        raise ValueError(f"score must be an integer in 0..{level.max_score}, not {score!r}")
    if not _is_int(time_spent) or time_spent < level.min_time_seconds:
        raise ValueError(
            f"time_spent must be an integer >= {level.min_time_seconds}, not {time_spent!r}"
        )
    if not isinstance(difficulty, str) or difficulty not in rules.difficulty_multipliers:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ValueError("metadata must be a mapping or None")


def _terms(
    level: LevelFacts,
    score: int,
    time_spent: int,
    difficulty: str,
    metadata: Mapping[str, Any] | None,
    rules: XPRules,
) -> _Terms:
    base = rules.base_points + score // rules.score_divisor
    expected = level.expected_time_seconds
    if expected is not None and level.min_time_seconds <= time_spent < expected:
        time_bonus = rules.time_bonus_ratio * base
    else:
        time_bonus = Decimal(0)
    # Only an honest integer 0 counts: a missing key, None, False or "0" earns nothing.
    hints_used = (metadata or {}).get("hints_used")
    no_hint_bonus = rules.no_hint_bonus if _is_int(hints_used) and hints_used == 0 else 0
    return _Terms(base, rules.difficulty_multipliers[difficulty], time_bonus, no_hint_bonus)


def best_difficulties(rules: XPRules = DEFAULT_RULES) -> tuple[str, ...]:
    """The modes with the highest multiplier, easiest first."""
    top = max(rules.difficulty_multipliers.values())
    return tuple(d for d in DIFFICULTIES if rules.difficulty_multipliers[d] == top)


def _best_terms(level: LevelFacts, rules: XPRules, difficulty: str | None = None) -> _Terms:
    # The fastest valid time earns the time bonus whenever any valid time can.
    mode = difficulty or best_difficulties(rules)[-1]
    return _terms(level, level.max_score, level.min_time_seconds, mode, {"hints_used": 0}, rules)


def _scaled(xp_reward: int, raw: Decimal, raw_best: Decimal) -> int:
    """round_half_up(xp_reward * raw / raw_best), exactly: divmod leaves no rounded digits."""
    if raw_best == 0:
        # Rules under which no run of the level is worth anything give it nothing to share out.
        return 0
    whole, rest = divmod(xp_reward * raw, raw_best)
    return int(whole) + (1 if 2 * rest >= raw_best else 0)


def calculate_xp(
    level: LevelFacts,
    score: int,
    time_spent: int,
    difficulty: str = "normal",
    metadata: Mapping[str, Any] | None = None,
    rules: XPRules = DEFAULT_RULES,
) -> XPBreakdown:
    """The XP for one completion; ValueError for any input outside the valid domain."""
    _check_run(level, score, time_spent, difficulty, metadata, rules)
    terms = _terms(level, score, time_spent, difficulty, metadata, rules)
    raw = terms.raw
    raw_best = _best_terms(level, rules).raw
    if rules.scale_to_reward:
        xp = _scaled(level.xp_reward, raw, raw_best)
        scale = Decimal(0) if raw_best == 0 else Decimal(level.xp_reward) / raw_best
        scale = scale.quantize(SCALE_PLACES, rounding=ROUND_HALF_UP)
    else:
        xp = min(_round_half_up(raw), level.xp_reward)
        scale = Decimal(1)
    return XPBreakdown(
        base=terms.base,
        difficulty=difficulty,
        difficulty_multiplier=_plain(terms.multiplier),
        time_bonus=_plain(terms.time_bonus),
        no_hint_bonus=terms.no_hint_bonus,
        raw=_plain(raw),
        raw_best=_plain(raw_best),
        xp_reward=level.xp_reward,
        scale_to_reward=rules.scale_to_reward,
        scale=_plain(scale),
        xp=xp,
    )


def max_xp_by_difficulty(level: LevelFacts, rules: XPRules = DEFAULT_RULES) -> dict[str, int]:
    """Per mode, the XP of a perfect, fastest valid, hint-free run of `level`."""
    return {
        mode: calculate_xp(
            level, level.max_score, level.min_time_seconds, mode, {"hints_used": 0}, rules
        ).xp
        for mode in DIFFICULTIES
    }


def max_xp(level: LevelFacts, rules: XPRules = DEFAULT_RULES) -> int:
    """The XP of the level's best possible run: its xp_reward, unless the rules say otherwise."""
    return max(max_xp_by_difficulty(level, rules).values())


def award_for_repeat(xp: int, already_credited: int) -> int:
    """The XP to credit now, so that a level's completions never sum past its best one."""
    for name, value in (("xp", xp), ("already_credited", already_credited)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
    return max(0, xp - already_credited)


# --- the rules in words, for the pages: one place states the formula --------------------


TIMES = "\N{MULTIPLICATION SIGN}"
MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class RuleTerm:
    """One term of the formula: `name` is its key in a breakdown; `sign` how it enters."""

    name: str
    label: str
    rule: str
    sign: str = ""


@dataclass(frozen=True)
class RulesDescription:
    """The rules in force, as the pages and GET /api/levels show them."""

    base_points: int
    score_divisor: int
    difficulty_multipliers: dict[str, str]
    time_bonus_ratio: str
    no_hint_bonus: int
    scale_to_reward: bool
    best_run: str
    terms: tuple[RuleTerm, ...]


def _short(number: Decimal) -> str:
    # 20.0 -> "20", 0.50 -> "0.5": the words read better without trailing zeros.
    return _plain(number.normalize()) if number else "0"


def describe_rules(rules: XPRules = DEFAULT_RULES) -> RulesDescription:
    """The formula's terms in words, built from the same constants the calculator uses."""
    *others, last = best_difficulties(rules)
    modes = f"{', '.join(others)} or {last}" if others else last
    best_run = f"a perfect score, faster than the expected time, no hints, on {modes}"
    multipliers = ", ".join(
        f"{TIMES} {_plain(rules.difficulty_multipliers[d])} on {d}" for d in DIFFICULTIES
    )
    terms = [
        RuleTerm(
            "base", "Base", f"{rules.base_points} + score ÷ {rules.score_divisor}, rounded down"
        ),
        RuleTerm("difficulty_multiplier", "Difficulty", multipliers, TIMES),
        RuleTerm(
            "time_bonus",
            "Speed bonus",
            f"{_short(rules.time_bonus_ratio * 100)}% of base when faster than the expected time",
            "+",
        ),
        RuleTerm(
            "no_hint_bonus", "No-hint bonus", f"{rules.no_hint_bonus} when no hint was used", "+"
        ),
        RuleTerm("raw", "Raw value", f"base {TIMES} difficulty + the bonuses", "="),
    ]
    if rules.scale_to_reward:
        places = -SCALE_PLACES.as_tuple().exponent
        terms += [
            RuleTerm("raw_best", "Best possible run", f"the raw value of {best_run}"),
            RuleTerm("xp_reward", "Level's XP", "what the best possible run earns"),
            RuleTerm(
                "scale",
                "Scale",
                f"level's XP ÷ best possible run (shown to {places} places)",
                TIMES,
            ),
            RuleTerm(
                "xp",
                "This run",
                f"raw value {TIMES} level's XP ÷ best possible run, rounded half up",
                "=",
            ),
        ]
    else:
        terms += [
            RuleTerm("xp_reward", "Level's XP", "the most one run can earn"),
            RuleTerm("xp", "This run", "raw value rounded half up, at most the level's XP", "="),
        ]
    terms += [
        RuleTerm(
            "previously_credited", "Already earned on this level", "its earlier runs' XP", MINUS
        ),
        RuleTerm("awarded", "Awarded", f"this run {MINUS} already earned, never below 0", "="),
    ]
    return RulesDescription(
        base_points=rules.base_points,
        score_divisor=rules.score_divisor,
        difficulty_multipliers={d: _plain(rules.difficulty_multipliers[d]) for d in DIFFICULTIES},
        time_bonus_ratio=_plain(rules.time_bonus_ratio),
        no_hint_bonus=rules.no_hint_bonus,
        scale_to_reward=rules.scale_to_reward,
        best_run=best_run,
        terms=tuple(terms),
    )
