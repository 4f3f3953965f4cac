"""Who gets server-side tracking: the feature flag and a stable percentage rollout."""

from __future__ import annotations

import hashlib

from flask import current_app


def rollout_bucket(user_id: int) -> int:
    """A number 0..99 fixed for a user, so raising the percentage only ever adds users."""
    digest = hashlib.sha256(f"server-side-tracking:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def is_tracking_enabled(user_id: int) -> bool:
    config = current_app.config
    if not config["ENABLE_SERVER_SIDE_TRACKING"]:
        return False
    percent = max(0, min(100, int(config["SERVER_SIDE_TRACKING_ROLLOUT_PERCENT"])))
    return rollout_bucket(user_id) < percent
