"""All of a request's rate limits in one Redis round trip.

Flask-Limiter checks a route's limits one by one (the moving window of each, smallest window
first, stopping at the first one breached) and the rate-limit headers then read every window
back: two round trips per limit. With Redis as the limit store, BatchedMovingWindow answers the
same questions with one script per check instead:

- at the first hit of a check, the check's plan (the hits Flask-Limiter is about to make, in its
  order, made from the very limits its check resolved) is acquired by one script, which stops
  at the first refusal exactly as Flask-Limiter does; each acquisition then answers exactly one
  of Flask-Limiter's hits, and only when the hit is the one planned (anything else goes to
  Redis by itself);
- every acquisition returns its window (reset time and remaining, as read right after it), kept
  for the request, so the headers, the metrics and the sign-in budget read no window again.

A route is only planned when its limits are plain ones: no default, application or meta limits,
no exempt_when, no deduct_when, a cost of 1. Anything else keeps Flask-Limiter's own calls, one
script per hit. A Redis failure in the script is a failure of the first hit, so Flask-Limiter
falls back to memory (or, failing closed, the route answers 503) as it did.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import has_request_context, request
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

if TYPE_CHECKING:
    from flask_limiter import Limiter
    from flask_limiter._limits import RuntimeLimit

# Acquire an entry in each moving window of KEYS, in order, as limits' own moving-window
# script does, and read the window back right after, as its window query does.
# ARGV: now, 1 to stop at the first refusal (else 0), then limit, expiry and amount per key.
# Replies, per key acquired or refused: acquired (1 or 0), the oldest entry in the window (""
# when it is empty) and how many entries the window holds.
ACQUIRE_AND_READ = """
local now = tonumber(ARGV[1])
local stop_at_refusal = ARGV[2] == '1'
local replies = {}

-- The index of the oldest entry not older than target (entries are newest first), or nil.
local function oldest_entry(key, high, target)
    local low = 0
    local result = nil
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local val = tonumber(redis.call('lindex', key, mid))
        if val and val >= target then
            result = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    return result
end

for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[3 * i])
    local expiry = tonumber(ARGV[3 * i + 1])
    local amount = tonumber(ARGV[3 * i + 2])
    local acquired = 0
    local length = nil
    if amount <= limit then
        local entry = redis.call('lindex', key, limit - amount)
        if not (entry and tonumber(entry) >= now - expiry) then
            local entries = {}
            for n = 1, amount do
                entries[n] = now
            end
            local pushed = nil
            for n = 1, #entries, 5000 do
                pushed = redis.call('lpush', key, unpack(entries, n, math.min(n + 4999, #entries)))
            end
            -- LPUSH answers the list's new length: it is trimmed only once it is longer.
            if pushed == nil or pushed > limit then
                redis.call('ltrim', key, 0, limit - 1)
            end
            if pushed ~= nil then
                length = math.min(pushed, limit)
            end
            redis.call('expire', key, expiry)
            acquired = 1
        end
    end
    -- The window is the run of entries at the head of the list that are not older than
    -- now - expiry, at most `limit` of them (a list left by a higher limit may be longer).
    -- Most often all of them are in it, which the last one tells in one call; else a binary
    -- search over the rest finds where it ends.
    if length == nil then
        length = math.min(redis.call('llen', key), limit)
    end
    local index = nil
    local oldest = nil
    if length > 0 then
        local last = tonumber(redis.call('lindex', key, length - 1))
        if last and last >= now - expiry then
            index = length - 1
            oldest = last
        else
            index = oldest_entry(key, length - 2, now - expiry)
            if index then
                oldest = tonumber(redis.call('lindex', key, index))
            end
        end
    end
    if index then
        table.insert(replies, acquired)
        table.insert(replies, tostring(oldest))
        table.insert(replies, index + 1)
    else
        table.insert(replies, acquired)
        table.insert(replies, '')
        table.insert(replies, 0)
    end
    if acquired == 0 and stop_at_refusal then
        break
    end
end
return replies
"""

# Where a request keeps what its limits learnt (one WSGI environ per request, whichever
# application context it runs in).
ENVIRON_KEY = "cyberquest.rate_limits"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One acquisition of an entry: the limit, its storage key and the entries it takes."""

    item: RateLimitItem
    key: str
    cost: int = 1

    def same_as(self, other: Hit) -> bool:
        return (
            self.key == other.key
            and self.cost == other.cost
            and self.item.amount == other.item.amount
            and self.item.get_expiry() == other.item.get_expiry()
        )


@dataclass
class Check:
    """One check of a request's limits by Flask-Limiter (a route's decorators are one check):
    how to plan it (once Flask-Limiter has resolved the limits), and the answers acquired for
    it that no hit has taken yet."""

    stop_at_refusal: bool
    plan: Callable[[], list[Hit] | None] | None = None
    planned: bool = False
    answers: deque[tuple[Hit, bool]] = field(default_factory=deque)


@dataclass
class RequestLimits:
    """What a request's limits learnt: the window of each key acquired, and the check running."""

    windows: dict[str, WindowStats] = field(default_factory=dict)
    check: Check | None = None


def request_limits() -> RequestLimits | None:
    """This request's record (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    return request.environ.setdefault(ENVIRON_KEY, RequestLimits())


@contextmanager
def checking(stop_at_refusal: bool) -> Iterator[None]:
    """Run one of Flask-Limiter's checks, planned by plan_from() (checks may nest: falling back
    to memory checks again from inside the failed check)."""
    limits = request_limits()
    if limits is None:
        yield
        return
    outer = limits.check
    limits.check = Check(stop_at_refusal)
    try:
        yield
    finally:
        limits.check = outer


def forget_windows(keys: Sequence[str]) -> None:
    """Read these keys' windows from Redis again when next asked, rather than as of this
    request's hit (for an answer that must count the hits of concurrent requests too)."""
    limits = request_limits()
    if limits is not None:
        for key in keys:
            limits.windows.pop(key, None)


def batches(strategy: object, storage: object) -> bool:
    """Whether a strategy is the one BatchedMovingWindow stands in for: the moving window, on a
    single Redis server (a cluster keeps keys apart; a script needs them together)."""
    return type(strategy) is MovingWindowRateLimiter and type(storage) is RedisStorage


class BatchedMovingWindow(MovingWindowRateLimiter):
    """The moving-window strategy on Redis, one script per check (see the module's docstring)."""

    def __init__(self, storage: RedisStorage) -> None:
        super().__init__(storage)
        self.redis_storage = storage
        self.script = storage.get_connection().register_script(ACQUIRE_AND_READ)

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        wanted = Hit(item, item.key_for(*identifiers), cost)
        limits = request_limits()
        check = limits.check if limits is not None else None
        if check is not None and not check.planned and check.plan is not None:
            check.planned = True
            self.acquire_plan(check, wanted, limits)
        if check is not None and check.answers:
            planned, acquired = check.answers.popleft()
            if planned.same_as(wanted):
                return acquired
            # Only key functions that answer differently when asked twice get here.
            logger.warning(
                "rate-limit plan left unused: planned %s, hit %s", planned.key, wanted.key
            )
            check.answers.clear()
        return self.acquire([wanted], stop_at_refusal=True, limits=limits)[0]

    def acquire_plan(self, check: Check, first: Hit, limits: RequestLimits) -> None:
        """Acquire the check's whole plan, when its first hit is the one being made."""
        plan = check.plan()
        if not plan or not plan[0].same_as(first):
            return
        acquired = self.acquire(plan, stop_at_refusal=check.stop_at_refusal, limits=limits)
        check.answers.extend(zip(plan, acquired, strict=False))

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        limits = request_limits()
        if limits is not None:
            window = limits.windows.get(item.key_for(*identifiers))
            if window is not None:
                return window
        return super().get_window_stats(item, *identifiers)

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        limits = request_limits()
        if limits is not None:
            limits.windows.pop(item.key_for(*identifiers), None)
        super().clear(item, *identifiers)

    def acquire(
        self, hits: Sequence[Hit], *, stop_at_refusal: bool, limits: RequestLimits | None
    ) -> list[bool]:
        """Acquire hits in order in one script; whether each was (up to the refusal that stopped
        them, when asked to stop). Their windows are kept for the request."""
        storage = self.redis_storage
        now = time.time()
        args: list[float | int] = [now, 1 if stop_at_refusal else 0]
        for hit in hits:
            args += [hit.item.amount, hit.item.get_expiry(), hit.cost]
        keys = [storage.prefixed_key(hit.key) for hit in hits]
        try:
            replies = self.script(keys, args)
        except storage.base_exceptions as error:
            # As limits' own calls fail: its StorageError when the store wraps its errors.
            if storage.wrap_exceptions:
                raise StorageError(error) from error
            raise
        acquired = []
        for hit, (taken, oldest, count) in zip(hits, triples(replies), strict=False):
            acquired.append(bool(taken))
            if limits is not None:
                start = float(oldest) if count else now
                expiry = hit.item.get_expiry()
                limits.windows[hit.key] = WindowStats(start + expiry, hit.item.amount - count)
        return acquired


def triples(values: Sequence) -> Iterator[Sequence]:
    for start in range(0, len(values), 3):
        yield values[start : start + 3]


# --- planning a check -------------------------------------------------------------------------


def plan_from(extension: Limiter, endpoint: str, limits: Sequence[RuntimeLimit]) -> None:
    """Give the running check its plan: made, at its first hit, from the limits Flask-Limiter's
    check resolved and is evaluating now (they are not resolved a second time)."""
    request_record = request_limits()
    check = request_record.check if request_record is not None else None
    if check is not None and not check.planned:
        check.plan = lambda: planned_hits(extension, endpoint, limits)


def planned_hits(
    extension: Limiter, endpoint: str, limits: Sequence[RuntimeLimit]
) -> list[Hit] | None:
    """The hits Flask-Limiter's evaluation of `limits` is about to make, in its order (its
    __evaluate_limits: smallest window first, skipping the exempt ones and those with an empty
    key), or None unless the limits are plain ones. The key functions are asked ahead of
    Flask-Limiter (they answer the same within a request), and what they raise goes on up as
    it would from the check itself."""
    try:
        if not plain(extension, limits):
            return None
        hits = []
        for limit in sorted(limits, key=lambda limit: limit.limit):
            if limit.method_exempt:
                continue
            scope = limit.scope_for(endpoint, request.method)
            args = [limit.key_func(), scope]
            if not all(args):
                continue  # Flask-Limiter skips it (and says so)
            if extension._key_prefix:
                args = [extension._key_prefix, *args]
            hits.append(Hit(limit.limit, limit.limit.key_for(*args)))
    except (AttributeError, TypeError) as error:
        # Written against Flask-Limiter 4.1: should its internals move, limits keep working,
        # one round trip per limit.
        logger.warning("rate limits not planned: %r", error)
        return None
    return hits


def plain(extension: Limiter, limits: Sequence[RuntimeLimit]) -> bool:
    """Whether these are a route's own plain limits: no default, application, blueprint or
    meta limits anywhere (the check's list would mix them in), no exempt_when (asking it twice
    could answer differently), no deduct_when (a test now, a hit after the view), a cost of
    1."""
    manager = extension.limit_manager
    if (
        not limits
        or extension._meta_limits
        or manager.application_limits
        or manager.default_limits
        or getattr(manager, "_blueprint_limits", True)
    ):
        return False
    return not any(
        limit.exempt_when or limit.deduct_when or limit.meta_limits or limit.cost != 1
        for limit in limits
    )
