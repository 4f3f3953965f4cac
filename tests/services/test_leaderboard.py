"""Leaderboards rank the ledger as it stands: ties, period boundaries, the viewer's standing."""

import threading
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, insert, select, update

from app.extensions import db
from app.models import LeaderboardTotal, User, XPHistory, XPHistoryArchive
from app.services import admin, append_only, completions, ledger
from app.services.leaderboard import (
    PERIODS,
    LeaderboardEntry,
    Standing,
    Tally,
    leaderboard,
    leaderboard_discrepancies,
    prune_leaderboard_totals,
    rebuild_leaderboard_totals,
)
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


# ---- The totals the boards read, kept by the ledger's write path ----------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the all-time board's start, by its definition
SUNDAY_LAST_SECOND = datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)
MONDAY_MIDNIGHT = datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)
# The starts of the boards read on WEDNESDAY: all time, its week and its month.
CURRENT_STARTS = {EPOCH, datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)}


def stored(user):
    """The user's rows of leaderboard_totals: {(period, starts_at): (xp, last_entry_id)}."""
    rows = db.session.execute(
        select(LeaderboardTotal).where(LeaderboardTotal.user_id == user.id)
    ).scalars()
    return {(row.period, row.starts_at): (row.xp, row.last_entry_id) for row in rows}


def by_period(user):
    """The user's rows as {period: (xp, last_entry_id)}, when each period has one row."""
    rows = stored(user)
    assert len(rows) == len({period for period, _ in rows})
    return {period: tally for (period, _), tally in rows.items()}


def entry_ids(user):
    return db.session.scalars(
        select(XPHistory.id).where(XPHistory.user_id == user.id).order_by(XPHistory.id)
    ).all()


def every_row():
    return sorted(
        (row.period, row.starts_at, row.user_id, row.xp, row.last_entry_id)
        for row in db.session.execute(select(LeaderboardTotal)).scalars()
    )


def discrepancies(now=WEDNESDAY):
    return leaderboard_discrepancies(db.session.connection(), now=now)


def test_an_award_is_counted_in_all_time_its_week_and_its_month(players):
    award(players["ann"], 30)
    award(players["ann"], 12)
    first, second = entry_ids(players["ann"])
    assert stored(players["ann"]) == {
        ("all", EPOCH): (42, second),
        ("week", datetime(2026, 11, 30, tzinfo=UTC)): (42, second),
        ("month", datetime(2026, 12, 1, tzinfo=UTC)): (42, second),
    }
    assert first < second


def test_the_totals_follow_an_award_an_adjustment_and_a_revocation_at_once(players, levels):
    ann = players["ann"]
    request = completions.CompletionRequest(levels[0], 850, 120, metadata={"hints_used": 0})
    result = completions.record_completion(ann.id, request)
    earned = result.awarded_xp
    assert earned > 10
    [award_id] = entry_ids(ann)
    assert by_period(ann) == dict.fromkeys(PERIODS, (earned, award_id))

    admin.adjust_xp(ann.id, -10, "hint shared in chat")
    *_, penalty_id = entry_ids(ann)
    assert by_period(ann) == dict.fromkeys(PERIODS, (earned - 10, penalty_id))
    assert listed(board("week", now=None)) == [(1, "ann", earned - 10)]

    admin.revoke_completion(result.completion_id, "replayed a recording")
    *_, revocation_id = entry_ids(ann)
    assert by_period(ann) == dict.fromkeys(PERIODS, (-10, revocation_id))
    for period in PERIODS:
        assert listed(board(period, now=None)) == []
        assert board(period, viewer=ann, now=None).me is None


def test_sunday_23_59_59_counts_in_its_week_and_monday_midnight_in_the_next(players):
    award(players["ann"], 5, at=SUNDAY_LAST_SECOND)
    award(players["bob"], 7, at=MONDAY_MIDNIGHT)
    [ann_entry], [bob_entry] = entry_ids(players["ann"]), entry_ids(players["bob"])
    november = ("month", datetime(2026, 11, 1, tzinfo=UTC))
    assert stored(players["ann"]) == {
        ("all", EPOCH): (5, ann_entry),
        ("week", datetime(2026, 11, 23, tzinfo=UTC)): (5, ann_entry),
        november: (5, ann_entry),
    }
    assert stored(players["bob"]) == {
        ("all", EPOCH): (7, bob_entry),
        ("week", datetime(2026, 11, 30, tzinfo=UTC)): (7, bob_entry),
        november: (7, bob_entry),
    }
    assert listed(board("month", now=MONDAY_MIDNIGHT)) == [(1, "bob", 7), (2, "ann", 5)]


@pytest.mark.parametrize("period", PERIODS)
def test_a_tie_goes_to_who_reached_the_xp_first_by_their_latest_entry(players, period):
    award(players["ann"], 30)
    award(players["bob"], 30)
    assert listed(board(period)) == [(1, "ann", 30), (1, "bob", 30)]
    # ann's total goes up and back down: she reaches 30 again, now after bob.
    ledger.lock_user(players["ann"].id)
    ledger.append_entry(players["ann"].id, 5, "manual_adjustment", now=WEDNESDAY)
    ledger.append_entry(players["ann"].id, -5, "manual_adjustment", now=WEDNESDAY)
    db.session.commit()
    assert listed(board(period)) == [(1, "bob", 30), (1, "ann", 30)]


@pytest.mark.parametrize("period", PERIODS)
def test_a_player_below_zero_leaves_the_board_and_has_no_standing(players, period):
    award(players["ann"], 20)
    award(players["bob"], 10)
    ledger.lock_user(players["ann"].id)
    ledger.append_entry(players["ann"].id, -30, "completion_revoked", now=WEDNESDAY)
    db.session.commit()
    result = board(period, viewer=players["ann"])
    assert listed(result) == [(1, "bob", 10)]
    assert result.me is None
    assert board(period, viewer=players["bob"]).me == Standing(rank=1, xp=10)


def a_ledger_over_several_periods(players):
    """Awards, corrections and ties in this week, earlier this month and in November."""
    ann, bob, cat, dan = (players[name] for name in ("ann", "bob", "cat", "dan"))
    award(ann, 50, at=datetime(2026, 11, 10, tzinfo=UTC))
    award(bob, 20, at=datetime(2026, 11, 30, 9, tzinfo=UTC))
    award(cat, 20, at=datetime(2026, 12, 1, 8, tzinfo=UTC))
    award(ann, 15, at=WEDNESDAY)
    award(dan, 40, at=SUNDAY_LAST_SECOND)
    ledger.lock_user(ann.id)
    ledger.append_entry(ann.id, -60, "completion_revoked", now=WEDNESDAY)
    db.session.commit()
    award(bob, 5, at=datetime(2026, 12, 1, tzinfo=UTC))  # appended last, dated earlier


def test_a_rebuild_gives_the_rows_the_writes_kept_and_drops_ended_periods(players):
    a_ledger_over_several_periods(players)
    assert discrepancies() == []
    boards = {period: listed(board(period)) for period in PERIODS}
    current = [row for row in every_row() if row[1] in CURRENT_STARTS]
    assert len(current) < len(every_row())  # November's rows and last week's are there too

    written = rebuild_leaderboard_totals(now=WEDNESDAY)

    assert every_row() == current
    assert written == {"all": 4, "week": 3, "month": 3}
    assert {period: listed(board(period)) for period in PERIODS} == boards
    assert boards["week"] == [(1, "bob", 25), (2, "cat", 20)]  # ann's week is 15 - 60
    assert discrepancies() == []


def test_pruning_drops_only_the_rows_of_ended_periods(players):
    a_ledger_over_several_periods(players)
    current = [row for row in every_row() if row[1] in CURRENT_STARTS]
    deleted = prune_leaderboard_totals(now=WEDNESDAY)
    # ann's week of 9 November and her November, bob's November (his 30 November is a Monday
    # of this week, but in last month), dan's last week and his November.
    assert deleted == 5
    assert every_row() == current


def test_discrepancies_name_every_wrong_missing_or_stray_row(players):
    award(players["ann"], 30)
    award(players["bob"], 20)
    [ann_entry], [bob_entry] = entry_ids(players["ann"]), entry_ids(players["bob"])
    week = datetime(2026, 11, 30, tzinfo=UTC)
    t = LeaderboardTotal.__table__
    db.session.execute(
        update(t).where(t.c.user_id == players["ann"].id, t.c.period == "all").values(xp=31)
    )
    db.session.execute(delete(t).where(t.c.user_id == players["bob"].id, t.c.period == "week"))
    db.session.execute(
        insert(t).values(
            period="month",
            starts_at=datetime(2026, 12, 1, tzinfo=UTC),
            user_id=players["cat"].id,
            xp=99,
            last_entry_id=ann_entry,
        )
    )
    db.session.commit()
    found = {(d.period, d.user_id): (d.expected, d.stored) for d in discrepancies()}
    assert found == {
        ("all", players["ann"].id): (Tally(30, ann_entry), Tally(31, ann_entry)),
        ("week", players["bob"].id): (Tally(20, bob_entry), None),
        ("month", players["cat"].id): (None, Tally(99, ann_entry)),
    }
    assert {d.starts_at for d in discrepancies() if d.period == "week"} == {week}
    rebuild_leaderboard_totals(now=WEDNESDAY)
    assert discrepancies() == []


def test_a_changed_timezone_is_found_and_a_rebuild_follows_it(players, config_override):
    award(players["ann"], 5, at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC))  # Monday in Berlin
    assert listed(board("week")) == []
    config_override(LEADERBOARD_TIMEZONE="Europe/Berlin")
    assert [(d.period, d.stored) for d in discrepancies()] == [("week", None)]
    rebuild_leaderboard_totals(now=WEDNESDAY)
    assert discrepancies() == []
    assert listed(board("week")) == [(1, "ann", 5)]


def test_archived_entries_still_count_and_still_break_ties(players):
    award(players["ann"], 30)
    award(players["bob"], 30)
    award(players["cat"], 10)
    archive_every_entry_but_cats()
    assert discrepancies() == []
    rebuild_leaderboard_totals(now=WEDNESDAY)
    assert discrepancies() == []
    for period in PERIODS:
        assert listed(board(period)) == [(1, "ann", 30), (1, "bob", 30), (3, "cat", 10)]
    award(players["ann"], 1)
    assert listed(board("all")) == [(1, "ann", 31), (2, "bob", 30), (3, "cat", 10)]


def archive_every_entry_but_cats():
    """Move entries to xp_history_archive as archival does: same ids, past the triggers."""
    h, a = XPHistory.__table__, XPHistoryArchive.__table__
    names = ["id", "user_id", "delta", "reason", "reference_id", "balance_after", "metadata"]
    moved = select(*(h.c[name] for name in names), h.c.created_at).where(
        h.c.user_id.in_(select(User.id).where(User.username != "cat"))
    )
    connection = db.session.connection()
    with append_only.unlocked(connection, append_only.ARCHIVAL):
        connection.execute(insert(a).from_select([*names, "created_at"], moved))
        connection.execute(delete(h).where(h.c.id.in_(select(a.c.id))))
    db.session.commit()


def test_the_migration_fills_the_totals_the_writes_would_have_kept(app, players, levels):
    for name, score in (("ann", 850), ("bob", 400), ("cat", 850)):
        request = completions.CompletionRequest(levels[0], score, 120)
        completions.record_completion(players[name].id, request)
    admin.adjust_xp(players["bob"].id, 7, "bonus")
    kept = every_row()
    db.session.remove()
    downgrade(revision="0005")
    upgrade()
    assert every_row() == kept


@pytest.mark.postgres_only
def test_concurrent_writes_leave_the_totals_equal_to_the_ledger(app, players):
    """Writers released at once, several on one player, first entries of a period included."""
    writers, rounds = 8, 10
    names = ["ann", "bob", "cat"]
    start = threading.Barrier(writers)
    failures = []

    def write(number):
        with app.app_context():
            try:
                start.wait()
                for step in range(rounds):
                    user = players[names[(number + step) % len(names)]]
                    ledger.lock_user(user.id)
                    ledger.append_entry(user.id, number + 1, "level_completion", now=WEDNESDAY)
                    db.session.commit()
            except Exception as error:  # a thread cannot fail the test itself: collected
                failures.append(repr(error))
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert discrepancies() == []
    expected_total = sum(number + 1 for number in range(writers)) * rounds
    assert sum(xp for _, name, xp in listed(board("week"))) == expected_total
