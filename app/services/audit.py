"""Auditing the XP ledger: the invariants in docs/architecture.md, over every user or one.

Each check is one SQL statement (aggregates and window functions that SQLite and PostgreSQL both
run), so the audit costs a handful of queries however many players there are. Given a user, each
statement filters on user_id where it reads, so only that user's rows are read. The ledger is
xp_history and xp_history_archive together: archived entries count as they did before the move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select, union

from app.extensions import db
from app.models import Level, LevelCompletion, User, UserLevelProgress
from app.services.archive import whole_ledger
from app.services.leaderboard import TotalsDiscrepancy, leaderboard_discrepancies

AWARD = "level_completion"
REVERSAL = "completion_revoked"
# A corrupted delta early in a long ledger puts every later balance off; past this many
# entries per user the report says how many more there are instead of listing each one.
MAX_ENTRIES_LISTED_PER_USER = 5


@dataclass(frozen=True)
class LedgerProblem:
    invariant: int
    user_id: int | None
    detail: str


@dataclass(frozen=True)
class LedgerReport:
    problems: list[LedgerProblem]
    users_checked: int
    entries_checked: int
    # The names of the users the problems are pinned on, read in the audit's own snapshot.
    usernames: dict[int, str] = field(default_factory=dict)

    @property
    def is_clean(self) -> bool:
        return not self.problems


def verify_ledger(user_id: int | None = None) -> LedgerReport:
    """Check invariants 1-6 on everything committed, or on one user's rows only; return what
    disagrees (never raises on it).

    The checks read one snapshot (REPEATABLE READ on PostgreSQL), so players completing levels
    meanwhile cannot make a consistent ledger look broken.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # A whole-ledger audit may take longer than a request may (DATABASE_STATEMENT_
                # TIMEOUT_MS bounds requests); this transaction alone lifts the bound.
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            users, entries = connection.execute(
                select(
                    select(func.count())
                    .select_from(User)
                    .where(*of_user(User.id, user_id))
                    .scalar_subquery(),
                    select(func.count()).select_from(whole_ledger(user_id)).scalar_subquery(),
                )
            ).one()
            problems = [
                *totals_match_history(connection, user_id),
                *balances_follow_deltas(connection, user_id),
                *duplicate_event_ids(connection, user_id),
                *levels_over_reward(connection, user_id),
                *completions_match_history(connection, user_id),
                *history_without_completion(connection, user_id),
                *progress_matches_completions(connection, user_id),
                *leaderboard_matches_ledger(connection, user_id),
            ]
            usernames = usernames_of(connection, {p.user_id for p in problems} - {None})
    problems.sort(key=lambda p: (p.invariant, p.user_id if p.user_id is not None else -1))
    return LedgerReport(
        problems=problems, users_checked=users, entries_checked=entries, usernames=usernames
    )


def of_user(column: ColumnElement, user_id: int | None) -> list[ColumnElement[bool]]:
    """The WHERE clause that narrows a check to one user: none when the whole ledger is checked."""
    return [] if user_id is None else [column == user_id]


def usernames_of(connection: Connection, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = connection.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return dict(rows.tuples().all())


def totals_match_history(connection: Connection, user_id: int | None = None) -> list[LedgerProblem]:
    """Invariant 1: users.total_xp == the sum of the user's ledger deltas."""
    ledger = whole_ledger(user_id)
    sums = (
        select(ledger.c.user_id, func.sum(ledger.c.delta).label("total"))
        .group_by(ledger.c.user_id)
        .subquery()
    )
    summed = func.coalesce(sums.c.total, 0)
    rows = connection.execute(
        select(User.id, User.total_xp, summed)
        .outerjoin(sums, sums.c.user_id == User.id)
        .where(User.total_xp != summed, *of_user(User.id, user_id))
        .order_by(User.id)
    )
    return [
        LedgerProblem(1, user_id, f"total_xp {total} != sum of deltas {expected}")
        for user_id, total, expected in rows
    ]


def balances_follow_deltas(
    connection: Connection, user_id: int | None = None
) -> list[LedgerProblem]:
    """Invariant 2: walking each user's entries by id, every balance is the running sum."""
    # The filter sits inside the walk: windows are per user, so one user's walk is unchanged.
    ledger = whole_ledger(user_id).c
    by_user = {"partition_by": ledger.user_id, "order_by": ledger.id}
    walk = select(
        ledger.id,
        ledger.user_id,
        ledger.delta,
        ledger.balance_after,
        func.sum(ledger.delta).over(**by_user, rows=(None, 0)).label("running"),
        func.lag(ledger.balance_after).over(**by_user).label("previous"),
    ).subquery()
    chained = func.coalesce(walk.c.previous, 0) + walk.c.delta
    rows = connection.execute(
        select(walk)
        .where(
            or_(
                walk.c.balance_after != walk.c.running,
                walk.c.balance_after != chained,
            )
        )
        .order_by(walk.c.user_id, walk.c.id)
    )
    problems: list[LedgerProblem] = []
    listed: dict[int, int] = {}
    for row in rows:
        listed[row.user_id] = listed.get(row.user_id, 0) + 1
        if listed[row.user_id] <= MAX_ENTRIES_LISTED_PER_USER:
            problems.append(LedgerProblem(2, row.user_id, balance_detail(row)))
    for user_id, count in listed.items():
        if count > MAX_ENTRIES_LISTED_PER_USER:
            hidden = count - MAX_ENTRIES_LISTED_PER_USER
            problems.append(LedgerProblem(2, user_id, f"and {hidden} more entries disagree"))
    return problems


def balance_detail(row) -> str:
    reasons = []
    if row.balance_after != row.running:
        reasons.append(f"!= running sum of deltas {row.running}")
    if row.previous is None and row.balance_after != row.delta:
        reasons.append(f"!= its delta {row.delta} (first entry)")
    elif row.previous is not None and row.balance_after != row.previous + row.delta:
        reasons.append(
            f"!= previous balance_after {row.previous} + delta {row.delta}"
            f" = {row.previous + row.delta}"
        )
    return f"entry {row.id}: balance_after {row.balance_after} " + ", ".join(reasons)


def duplicate_event_ids(connection: Connection, user_id: int | None = None) -> list[LedgerProblem]:
    """Invariant 3: no two non-revoked completions share a (user, client_event_id)."""
    c = LevelCompletion
    rows = connection.execute(
        select(c.user_id, c.client_event_id, func.count(), func.min(c.id), func.max(c.id))
        .where(c.revoked_at.is_(None), c.client_event_id.is_not(None), *of_user(c.user_id, user_id))
        .group_by(c.user_id, c.client_event_id)
        .having(func.count() > 1)
        .order_by(c.user_id)
    )
    return [
        LedgerProblem(
            3,
            user_id,
            f"{count} non-revoked completions (ids {first} to {last}) share client_event_id "
            f"{event_id}",
        )
        for user_id, event_id, count, first, last in rows
    ]


def levels_over_reward(connection: Connection, user_id: int | None = None) -> list[LedgerProblem]:
    """Invariant 3: the XP credited for a level never exceeds its xp_reward."""
    p = UserLevelProgress
    rows = connection.execute(
        select(p.user_id, p.level_id, p.xp_earned, Level.xp_reward)
        .join(Level, Level.level_id == p.level_id)
        .where(p.xp_earned > Level.xp_reward, *of_user(p.user_id, user_id))
        .order_by(p.user_id, p.level_id)
    )
    return [
        LedgerProblem(3, user_id, f"level {level_id}: xp_earned {earned} > xp_reward {reward}")
        for user_id, level_id, earned, reward in rows
    ]


def completions_match_history(
    connection: Connection, user_id: int | None = None
) -> list[LedgerProblem]:
    """Invariant 3: an awarding completion has exactly one award entry of its XP. Invariant 5:
    a revoked awarding completion has exactly one reversal, of exactly its XP, and no other
    completion has any (a correction never cancels another)."""
    ledger = whole_ledger(user_id)
    c, h = LevelCompletion, ledger.c
    links = (
        select(
            c.id,
            c.user_id,
            c.awarded_xp,
            c.revoked_at,
            func.sum(case((h.reason == AWARD, 1), else_=0)).label("awards"),
            func.sum(case((h.reason == AWARD, h.delta), else_=0)).label("awarded_delta"),
            func.sum(case((h.reason == REVERSAL, 1), else_=0)).label("reversals"),
            func.sum(case((h.reason == REVERSAL, h.delta), else_=0)).label("reversed_delta"),
        )
        .outerjoin(
            ledger,
            and_(h.reference_id == c.id, h.user_id == c.user_id, h.reason.in_([AWARD, REVERSAL])),
        )
        .where(*of_user(c.user_id, user_id))
        .group_by(c.id, c.user_id, c.awarded_xp, c.revoked_at)
        .subquery()
    )
    awarding = links.c.awarded_xp > 0
    expected_awards = case((awarding, 1), else_=0)
    expected_reversals = case((and_(awarding, links.c.revoked_at.is_not(None)), 1), else_=0)
    award_broken = or_(
        links.c.awards != expected_awards,
        and_(links.c.awards == 1, links.c.awarded_delta != links.c.awarded_xp),
    )
    reversal_broken = or_(
        links.c.reversals != expected_reversals,
        and_(links.c.reversals == 1, links.c.reversed_delta != -links.c.awarded_xp),
    )
    rows = connection.execute(
        select(links, award_broken.label("award_broken"))
        .where(or_(award_broken, reversal_broken))
        .order_by(links.c.user_id, links.c.id)
    )
    return [
        LedgerProblem(3 if row.award_broken else 5, row.user_id, completion_detail(row))
        for row in rows
    ]


def completion_detail(row) -> str:
    reasons = []
    if row.awarded_xp > 0 and row.awards == 0:
        reasons.append(f"awarded_xp {row.awarded_xp} but no {AWARD} entry")
    elif row.awards > 1 or (row.awarded_xp == 0 and row.awards > 0):
        expected = 1 if row.awarded_xp > 0 else 0
        reasons.append(
            f"awarded_xp {row.awarded_xp} but {row.awards} {AWARD} entries (expected {expected})"
        )
    elif row.awards == 1 and row.awarded_delta != row.awarded_xp:
        reasons.append(f"awarded_xp {row.awarded_xp} != {AWARD} delta {row.awarded_delta}")
    if row.revoked_at is None and row.reversals > 0:
        reasons.append(f"not revoked but has {row.reversals} {REVERSAL} entries")
    elif row.revoked_at is not None and row.awarded_xp > 0 and row.reversals != 1:
        reasons.append(
            f"revoked, awarded_xp {row.awarded_xp}, but {row.reversals} {REVERSAL} entries "
            "(expected 1)"
        )
    elif row.revoked_at is not None and row.awarded_xp == 0 and row.reversals > 0:
        reasons.append(f"awarded nothing but has {row.reversals} {REVERSAL} entries")
    elif row.reversals == 1 and row.reversed_delta != -row.awarded_xp:
        reasons.append(
            f"{REVERSAL} delta {row.reversed_delta} does not take back exactly its awarded_xp "
            f"{row.awarded_xp}"
        )
    return f"completion {row.id}: " + "; ".join(reasons)


def history_without_completion(
    connection: Connection, user_id: int | None = None
) -> list[LedgerProblem]:
    """Invariant 3: every award or reversal entry points at a completion of the same user."""
    c, h = LevelCompletion, whole_ledger(user_id).c
    rows = connection.execute(
        select(h.id, h.user_id, h.reason, h.reference_id)
        .outerjoin(c, and_(c.id == h.reference_id, c.user_id == h.user_id))
        .where(h.reason.in_([AWARD, REVERSAL]), c.id.is_(None))
        .order_by(h.user_id, h.id)
    )
    return [
        LedgerProblem(
            3,
            user_id,
            f"entry {entry_id} ({reason}): reference_id {reference_id} is not a completion of "
            "this user",
        )
        for entry_id, user_id, reason, reference_id in rows
    ]


def progress_matches_completions(
    connection: Connection, user_id: int | None = None
) -> list[LedgerProblem]:
    """Invariant 4: each user_level_progress row is what the non-revoked completions add up to."""
    c, p = LevelCompletion, UserLevelProgress
    live = (
        select(
            c.user_id,
            c.level_id,
            func.sum(c.awarded_xp).label("xp"),
            func.count().label("completions"),
            func.max(c.score).label("best"),
        )
        .where(c.revoked_at.is_(None), *of_user(c.user_id, user_id))
        .group_by(c.user_id, c.level_id)
        .subquery()
    )
    keys = union(
        select(p.user_id, p.level_id).where(*of_user(p.user_id, user_id)),
        select(live.c.user_id, live.c.level_id),
    ).subquery()
    xp = func.coalesce(live.c.xp, 0)
    completions = func.coalesce(live.c.completions, 0)
    rows = connection.execute(
        select(
            keys.c.user_id,
            keys.c.level_id,
            p.user_id.label("progress_user_id"),
            p.xp_earned,
            p.completions_count,
            p.best_score,
            xp.label("xp"),
            completions.label("completions"),
            live.c.best,
        )
        .select_from(keys)
        .outerjoin(p, and_(p.user_id == keys.c.user_id, p.level_id == keys.c.level_id))
        .outerjoin(live, and_(live.c.user_id == keys.c.user_id, live.c.level_id == keys.c.level_id))
        .where(
            or_(
                p.user_id.is_(None),
                p.xp_earned != xp,
                p.completions_count != completions,
                p.best_score.is_distinct_from(live.c.best),
            )
        )
        .order_by(keys.c.user_id, keys.c.level_id)
    )
    return [LedgerProblem(4, row.user_id, progress_detail(row)) for row in rows]


def progress_detail(row) -> str:
    if row.progress_user_id is None:
        return (
            f"level {row.level_id}: no progress row for {row.completions} non-revoked "
            f"completions worth {row.xp} XP"
        )
    reasons = []
    if row.xp_earned != row.xp:
        reasons.append(f"xp_earned {row.xp_earned} != sum of awarded_xp {row.xp}")
    if row.completions_count != row.completions:
        reasons.append(
            f"completions_count {row.completions_count} != {row.completions} non-revoked "
            "completions"
        )
    if row.best_score != row.best:
        reasons.append(f"best_score {row.best_score} != best non-revoked score {row.best}")
    return f"level {row.level_id}: " + "; ".join(reasons)


def leaderboard_matches_ledger(
    connection: Connection, user_id: int | None = None
) -> list[LedgerProblem]:
    """Invariant 6: the totals the leaderboards read (all time, this week, this month) are what
    the ledger adds up to in each period."""
    return [
        LedgerProblem(6, found.user_id, leaderboard_detail(found))
        for found in leaderboard_discrepancies(connection, user_id)
    ]


def leaderboard_detail(found: TotalsDiscrepancy) -> str:
    period = f"{found.period} board from {found.starts_at.isoformat()}"
    if found.stored is None:
        return f"{period}: no row, the ledger adds up to {found.expected.xp} XP"
    if found.expected is None:
        return f"{period}: a row of {found.stored.xp} XP the ledger has nothing for"
    return (
        f"{period}: {found.stored.xp} XP (latest entry {found.stored.last_entry_id}) != the "
        f"ledger's {found.expected.xp} XP (latest entry {found.expected.last_entry_id})"
    )
