"""XP for a completed level: pure Decimal rules, no Flask and no database."""

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

    def __post_init__(self) -> None:
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
    uncapped: int
    cap: int
    xp: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _plain(number: Decimal) -> str:
    # format "f" never switches to exponent notation, which str(Decimal) may do.
    return format(number, "f")


def calculate_xp(
    level: LevelFacts,
    score: int,
    time_spent: int,
    difficulty: str = "normal",
    metadata: Mapping[str, Any] | None = None,
    rules: XPRules = DEFAULT_RULES,
) -> XPBreakdown:
    """The XP for one completion; ValueError for any input outside the valid domain."""
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

    base = rules.base_points + score // rules.score_divisor
    multiplier = rules.difficulty_multipliers[difficulty]

    expected = level.expected_time_seconds
    if expected is not None and level.min_time_seconds <= time_spent < expected:
        time_bonus = rules.time_bonus_ratio * base
    else:
        time_bonus = Decimal(0)

    # Only an honest integer 0 counts: a missing key, None, False or "0" earns nothing.
    hints_used = (metadata or {}).get("hints_used")
    no_hint_bonus = rules.no_hint_bonus if _is_int(hints_used) and hints_used == 0 else 0

    raw = base * multiplier + time_bonus + no_hint_bonus
    uncapped = int(raw.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return XPBreakdown(
        base=base,
        difficulty=difficulty,
        difficulty_multiplier=_plain(multiplier),
        time_bonus=_plain(time_bonus),
        no_hint_bonus=no_hint_bonus,
        uncapped=uncapped,
        cap=level.xp_reward,
        xp=min(uncapped, level.xp_reward),
    )


def max_xp(level: LevelFacts, rules: XPRules = DEFAULT_RULES) -> int:
    """The XP of a perfect, fastest valid, hint-free run on the most generous mode."""
    best_mode = max(DIFFICULTIES, key=lambda d: rules.difficulty_multipliers[d])
    return calculate_xp(
        level,
        score=level.max_score,
        time_spent=level.min_time_seconds,
        difficulty=best_mode,
        metadata={"hints_used": 0},
        rules=rules,
    ).xp


def award_for_repeat(xp: int, already_credited: int) -> int:
    """The XP to credit now, so that a level's completions never sum past its best one."""
    for name, value in (("xp", xp), ("already_credited", already_credited)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
    return max(0, xp - already_credited)
