"""Leaderboards rank the ledger as it stands: ties, period boundaries, the viewer's standing."""

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.services import admin, ledger
from app.services.leaderboard import LeaderboardEntry, Standing, leaderboard
from tests import factories

# A Wednesday; its ISO week runs from Monday 30 November to Monday 7 December.
WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def award(user, delta, at=WEDNESDAY):
    """Append a ledger entry dated `at`, as a completion would (needs an app context)."""
    ledger.lock_user(user.id)
    ledger.append_entry(user.id, delta, "level_completion", now=at)
    db.session.commit()


def board(period="all", limit=10, viewer=None, now=WEDNESDAY):
    return leaderboard(period, limit, viewer.id if viewer else None, now=now)


def listed(result):
    return [(entry.rank, entry.username, entry.xp) for entry in result.entries]


@pytest.fixture()
def players(app_context):
    return {name: factories.make_user(name) for name in ("ann", "bob", "cat", "dan")}


@pytest.mark.parametrize("period", ["all", "week", "month"])
def test_ties_share_a_rank_and_who_reached_the_xp_first_comes_first(players, period):
    award(players["cat"], 30)
    award(players["bob"], 20)
    award(players["ann"], 50)
    award(players["dan"], 10)
    award(players["bob"], 10)  # bob reaches 30 after cat did
    assert listed(board(period)) == [(1, "ann", 50), (2, "cat", 30), (2, "bob", 30), (4, "dan", 10)]


def test_a_tie_is_broken_by_ledger_ids_not_by_timestamps(players):
    # bob's entry is dated earlier but was appended later: the ledger id decides.
    award(players["ann"], 40, at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    award(players["bob"], 40, at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    for period in ("all", "week"):
        assert listed(board(period)) == [(1, "ann", 40), (1, "bob", 40)]


def test_a_tie_at_the_limit_lists_who_reached_it_first(players):
    award(players["ann"], 50)
    award(players["cat"], 30)
    award(players["bob"], 30)
    for period in ("all", "week"):
        assert listed(board(period, limit=2)) == [(1, "ann", 50), (2, "cat", 30)]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), [(1, "ann", 5)]),
        (datetime(2026, 11, 30, 0, 0, tzinfo=UTC), [(1, "bob", 7)]),
    ],
    ids=["week-ending-sunday", "week-starting-monday"],
)
def test_the_week_runs_from_monday_midnight_to_the_next(players, now, expected):
    award(players["ann"], 5, at=datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC))
    award(players["bob"], 7, at=datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC))
    assert listed(board("week", now=now)) == expected


def test_the_week_reports_its_bounds(app_context):
    result = board("week")
    assert result.starts_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert result.ends_at == datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected", "bounds"),
    [
        (datetime(2026, 11, 15, tzinfo=UTC), [(1, "ann", 5)], ((2026, 11, 1), (2026, 12, 1))),
        (datetime(2026, 12, 31, 23, tzinfo=UTC), [(1, "bob", 7)], ((2026, 12, 1), (2027, 1, 1))),
    ],
    ids=["november", "december"],
)
def test_the_month_runs_from_the_first_midnight_to_the_next(players, now, expected, bounds):
    award(players["ann"], 5, at=datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    award(players["bob"], 7, at=datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC))
    result = board("month", now=now)
    assert listed(result) == expected
    assert (result.starts_at, result.ends_at) == tuple(datetime(*b, tzinfo=UTC) for b in bounds)


def test_periods_start_at_midnight_in_the_configured_timezone(players, config_override):
    config_override(LEADERBOARD_TIMEZONE="Europe/Berlin")
    # 23:30 UTC on Sunday is 00:30 on Monday in Berlin (UTC+1 in winter).
    award(players["ann"], 5, at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    result = board("week")
    assert listed(result) == [(1, "ann", 5)]
    assert result.starts_at == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert result.starts_at.utcoffset().total_seconds() == 3600


def test_a_player_adjusted_back_to_zero_leaves_the_board(players):
    award(players["ann"], 40)
    award(players["bob"], 10)
    admin.adjust_xp(players["ann"].id, -40, "duplicate account")
    for period in ("all", "week", "month"):
        assert listed(board(period, now=None)) == [(1, "bob", 10)]


def test_a_reversal_counts_in_the_period_it_was_made(players):
    award(players["ann"], 50, at=datetime(2026, 11, 20, tzinfo=UTC))
    admin.adjust_xp(players["ann"].id, -20, "shared answers")
    award(players["bob"], 10, at=WEDNESDAY)
    assert listed(board("all")) == [(1, "ann", 30), (2, "bob", 10)]
    assert listed(board("week", now=None)) == [(1, "bob", 10)]  # ann's week is -20


def test_the_next_read_after_an_award_shows_it(players):
    award(players["ann"], 10)
    assert listed(board("week")) == [(1, "ann", 10)]
    award(players["bob"], 25)
    assert listed(board("week")) == [(1, "bob", 25), (2, "ann", 10)]
    assert listed(board("all")) == [(1, "bob", 25), (2, "ann", 10)]


@pytest.mark.parametrize("period", ["all", "week"])
def test_the_viewer_sees_their_own_standing_even_below_the_limit(players, period):
    award(players["ann"], 50)
    award(players["bob"], 30)
    award(players["cat"], 30)
    result = board(period, limit=1, viewer=players["cat"])
    assert result.entries == [LeaderboardEntry(1, "ann", 50)]
    assert result.me == Standing(rank=2, xp=30)


@pytest.mark.parametrize("period", ["all", "week"])
def test_an_anonymous_or_xp_less_viewer_has_no_standing(players, period):
    award(players["ann"], 50)
    assert board(period).me is None
    assert board(period, viewer=players["dan"]).me is None


def test_the_all_time_board_has_no_bounds(players):
    award(players["ann"], 1, at=datetime(2020, 1, 1, tzinfo=UTC))
    result = board("all")
    assert (result.period, result.starts_at, result.ends_at) == ("all", None, None)
    assert listed(result) == [(1, "ann", 1)]
    assert listed(board("week")) == []
