"""The tracking cohort: stable per user, and growing only by adding users."""

import pytest

from app.services.rollout import is_tracking_enabled, rollout_bucket


def test_a_users_bucket_is_stable_and_in_range():
    assert [rollout_bucket(42) for _ in range(3)] == [rollout_bucket(42)] * 3
    assert all(0 <= rollout_bucket(user_id) < 100 for user_id in range(1, 2000))


@pytest.mark.parametrize("percent", [10, 25, 50, 90])
def test_the_cohort_is_roughly_the_configured_share(app, config_override, percent):
    config_override(ENABLE_SERVER_SIDE_TRACKING=True, SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=percent)
    with app.app_context():
        share = sum(is_tracking_enabled(user_id) for user_id in range(1, 4001)) / 4000
    assert abs(share - percent / 100) < 0.04


def test_raising_the_percentage_only_adds_users(app, config_override):
    cohorts = []
    for percent in (5, 20, 60):
        config_override(SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=percent)
        with app.app_context():
            cohorts.append({u for u in range(1, 1001) if is_tracking_enabled(u)})
    assert cohorts[0] <= cohorts[1] <= cohorts[2]


@pytest.mark.parametrize(
    ("enabled", "percent", "expected"),
    [
        (False, 100, False),
        (True, 0, False),
        (True, 100, True),
        (True, 250, True),
        (True, -5, False),
    ],
)
def test_the_flag_and_the_extremes(app, config_override, enabled, percent, expected):
    config_override(
        ENABLE_SERVER_SIDE_TRACKING=enabled, SERVER_SIDE_TRACKING_ROLLOUT_PERCENT=percent
    )
    with app.app_context():
        assert all(is_tracking_enabled(u) is expected for u in range(1, 200))
