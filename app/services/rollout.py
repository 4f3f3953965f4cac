"""Who gets server-side tracking: the feature flag and a stable percentage rollout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import User


def rollout_bucket(user_id: int) -> int:
    """A number 0..99 fixed for a user, so raising the percentage only ever adds users."""
    digest = hashlib.sha256(f"server-side-tracking:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def effective_percent() -> int:
    """The share of users tracked now: the rollout percentage, or 0 with the flag off."""
    config = current_app.config
    if not config["ENABLE_SERVER_SIDE_TRACKING"]:
        return 0
    return max(0, min(100, int(config["SERVER_SIDE_TRACKING_ROLLOUT_PERCENT"])))


def is_tracking_enabled(user_id: int) -> bool:
    return rollout_bucket(user_id) < effective_percent()


@dataclass(frozen=True)
class CohortCounts:
    tracked: int
    untracked: int


def cohort_counts() -> CohortCounts:
    """How many users are in the tracking cohort now, and how many are not."""
    percent = effective_percent()
    ids = db.session.scalars(select(User.id).execution_options(yield_per=10_000))
    tracked = untracked = 0
    for user_id in ids:
        if rollout_bucket(user_id) < percent:
            tracked += 1
        else:
            untracked += 1
    return CohortCounts(tracked=tracked, untracked=untracked)
