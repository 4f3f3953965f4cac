"""`flask` sub-commands for operators: users, tokens, levels, the XP ledger, tracking."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import UTC, timedelta
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.errors import AppError
from app.models.types import utcnow
from app.services import (
    accounts,
    admin,
    archive,
    audit,
    export,
    leaderboard,
    levels,
    outbox,
    rollout,
    sessions,
    tokens,
)

users_cli = AppGroup("users", help="Manage players and operators.")
tokens_cli = AppGroup("tokens", help="Issue and revoke API tokens.")
levels_cli = AppGroup("levels", help="Manage the level catalog.")
xp_cli = AppGroup(
    "xp",
    help="Verify, export and archive the XP ledger; adjust a total; revoke or reset completions.",
)
tracking_cli = AppGroup("tracking", help="The server-side tracking flag and its rollout.")
leaderboard_cli = AppGroup("leaderboard", help="The totals the leaderboards read.")
outbox_cli = AppGroup("outbox", help="Hand post-processing events to the queue.")

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@cyberquest.local"
DEMO_PASSWORD = "play-cyberquest"


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report a domain error as one line on stderr with exit status 1."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AppError as error:
            details = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in (error.fields or {}).items()
            )
            raise click.ClickException(f"{error.message} {details}".strip()) from None

    return run


@users_cli.command("create")
@click.argument("name")
@click.option("--email", required=True, help="The user's email address.")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--admin", is_flag=True, help="Let this user adjust and revoke XP.")
@one_line_errors
def create_user(name: str, email: str, password: str, admin: bool) -> None:
    """Create a user NAME."""
    user = accounts.create_user(name, email, password, is_admin=admin)
    role = "admin" if user.is_admin else "player"
    click.echo(f"created {role} {user.username} (id {user.id})")


@users_cli.command("demo")
@one_line_errors
def create_demo_user() -> None:
    """Create the demo player if missing, and print how to sign in."""
    try:
        user = accounts.find_user(DEMO_USERNAME)
        click.echo(f"demo player {user.username} already exists")
    except AppError:
        user = accounts.create_user(DEMO_USERNAME, DEMO_EMAIL, DEMO_PASSWORD)
        click.echo(f"created demo player {user.username}")
    click.echo(f"sign in as: {DEMO_USERNAME} / {DEMO_PASSWORD}")


@users_cli.command("sign-out")
@click.argument("name")
@one_line_errors
def sign_out_user(name: str) -> None:
    """End every session and remember-me credential of user NAME (API tokens stay)."""
    user = accounts.find_user(name)
    ended = sessions.end_all_sessions(user.id)
    click.echo(f"ended {ended} session(s) of {user.username}")


@tokens_cli.command("create")
@click.argument("name")
@click.option("--name", "label", default="cli", show_default=True, help="A label for the token.")
@one_line_errors
def create_token(name: str, label: str) -> None:
    """Issue an API token for user NAME; the token is the last line of output."""
    user = accounts.find_user(name)
    issued = tokens.create_token(user, label)
    click.echo(f"token {issued.token.id} ({issued.token.name}) for {user.username}; shown once:")
    click.echo(issued.secret)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@one_line_errors
def revoke_token(token_id: int) -> None:
    """Revoke the API token with id TOKEN_ID."""
    token = tokens.revoke_token(token_id)
    click.echo(f"revoked token {token.id} ({token.name})")


@levels_cli.command("sync")
@one_line_errors
def sync_levels() -> None:
    """Load the level catalog into the database (safe to run again)."""
    report = levels.sync_catalog()
    click.echo(
        f"levels: {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    )


@xp_cli.command("verify")
@click.option("--user", "name", help="Check only this user's ledger (a user name or email).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@one_line_errors
def verify_ledger(name: str | None, as_json: bool) -> None:
    """Check the ledger invariants; exit 1 and list every problem if any is broken."""
    user_id = None if name is None else accounts.find_user(name).id
    report = audit.verify_ledger(user_id)
    if as_json:
        click.echo(json.dumps(verification_json(report)))
    else:
        echo_verification(report)
    if not report.is_clean:
        click.get_current_context().exit(1)


def echo_verification(report: audit.LedgerReport) -> None:
    counts = f"{report.users_checked} users, {report.entries_checked} entries"
    if report.is_clean:
        click.echo(f"ledger verified: {counts}, no problems")
        return
    for problem in report.problems:
        user = problem.user_id if problem.user_id is not None else "-"
        click.echo(f"invariant {problem.invariant}, user {user}: {problem.detail}")
    click.echo(f"ledger NOT verified: {len(report.problems)} problems in {counts}")


def verification_json(report: audit.LedgerReport) -> dict[str, Any]:
    return {
        "ok": report.is_clean,
        "users_checked": report.users_checked,
        "violations": [
            {
                "invariant": problem.invariant,
                "user": report.usernames.get(problem.user_id),
                "detail": problem.detail,
            }
            for problem in report.problems
        ],
    }


EXPORT_COLUMNS = [column.name for column in fields(export.LedgerEntry)]


@xp_cli.command("export")
@click.argument("name")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="csv: a header and one line per entry; json: one object with the entries.",
)
@one_line_errors
def export_ledger(name: str, output_format: str) -> None:
    """Print every ledger entry of user NAME (a user name or email), oldest first."""
    user = accounts.find_user(name)
    records = [export_record(entry) for entry in export.ledger_entries(user.id)]
    if output_format == "json":
        click.echo(json.dumps({"user": user.username, "entries": records}))
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    # CSV has no types: booleans are written as JSON writes them, absent values as empty fields.
    writer.writerows(
        {key: json.dumps(value) if isinstance(value, bool) else value for key, value in row.items()}
        for row in records
    )
    click.echo(buffer.getvalue(), nl=False)


def export_record(entry: export.LedgerEntry) -> dict[str, Any]:
    # PostgreSQL hands back timestamps in the session's time zone; the export is always UTC.
    return asdict(entry) | {"created_at": entry.created_at.astimezone(UTC).isoformat()}


# ignore_unknown_options lets a negative DELTA such as -50 through as an argument.
@xp_cli.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("user")
@click.argument("delta")
@click.option("--note", required=True, help="Why; kept in the ledger entry.")
@one_line_errors
def adjust_xp(user: str, delta: str, note: str) -> None:
    """Add DELTA XP (negative to take away) to USER, a user name or email address."""
    try:
        amount = int(delta)
    except ValueError:
        raise click.ClickException(f"DELTA must be a whole number, not {delta!r}.") from None
    found = accounts.find_user(user)
    username = found.username
    result = admin.adjust_xp(found.id, amount, note)
    click.echo(
        f"adjusted {username} by {amount:+d} XP (entry {result.entry.id}); "
        f"new total {result.new_total_xp} XP"
    )


@xp_cli.command("revoke")
@click.argument("completion_id", type=int)
@click.option("--note", required=True, help="Why; kept in the ledger entry.")
@one_line_errors
def revoke_completion(completion_id: int, note: str) -> None:
    """Revoke the completion COMPLETION_ID and reverse the XP it was awarded."""
    result = admin.revoke_completion(completion_id, note)
    click.echo(
        f"revoked completion {result.completion_id}: reversed {result.reversed_xp} XP; "
        f"new total {result.new_total_xp} XP"
    )


@xp_cli.command("reset")
@click.argument("user")
@click.option("--note", required=True, help="Why; kept in every reversal entry.")
@one_line_errors
def reset_user(user: str, note: str) -> None:
    """Revoke every standing completion of USER (a user name or email) in one transaction."""
    found = accounts.find_user(user)
    username = found.username
    result = admin.reset_user(found.id, note)
    click.echo(
        f"reset {username}: revoked {result.revoked_completions} completions, reversed "
        f"{result.reversed_xp} XP; new total {result.new_total_xp} XP"
    )


@xp_cli.command("archive")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    required=True,
    help="Move entries recorded more than DAYS days ago (0: everything recorded before now).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, archive.MAX_BATCH_SIZE),
    default=archive.DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Entries moved per transaction.",
)
def archive_ledger(days: int, batch_size: int) -> None:
    """Move old ledger entries to xp_history_archive, a batch per transaction; safe to stop and
    run again. Totals and `flask xp verify` are unchanged by it."""
    cutoff = utcnow() - timedelta(days=days)

    def report(number: int, moved: int) -> None:
        click.echo(f"batch {number}: moved {moved} entries")

    run = archive.archive_older_than(cutoff, batch_size, on_batch=report)
    click.echo(
        f"archived {run.moved} entries recorded before {run.cutoff.isoformat()} "
        f"in {run.batches} batches"
    )


@leaderboard_cli.command("rebuild")
def rebuild_leaderboard() -> None:
    """Recompute the boards' totals from the ledger (after a LEADERBOARD_TIMEZONE change, or
    when `flask xp verify` reports invariant 6)."""
    written = leaderboard.rebuild_leaderboard_totals()
    click.echo("leaderboard totals rebuilt: " + ", ".join(f"{p} {n}" for p, n in written.items()))


@leaderboard_cli.command("prune")
def prune_leaderboard() -> None:
    """Delete the totals of weeks and months that have ended (no board reads them)."""
    click.echo(f"pruned {leaderboard.prune_leaderboard_totals()} totals of ended periods")


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Relay what is pending, then exit.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=outbox.DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Events per transaction.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is pending.",
)
def relay_outbox(once: bool, batch_size: int, interval: float) -> None:
    """Move pending outbox events to the queue on REDIS_URL, oldest first; run until stopped.
    Several relays may run at once: each takes events no other one holds."""
    target = outbox.queue()
    relayed = 0
    while True:
        batch = outbox.relay_batch(target, batch_size)
        relayed += batch.relayed
        if batch.relayed:
            click.echo(f"relayed {batch.relayed} events ({batch.ids[0]} to {batch.ids[-1]})")
        if batch.relayed < batch_size:
            if once:
                break
            time.sleep(interval)
    click.echo(f"relayed {relayed} events in all; {outbox.pending_count()} pending")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then exit.")
@with_appcontext
def run_worker(burst: bool) -> None:
    """Run the queue's jobs (achievements) until stopped, inside this app."""
    from rq import SimpleWorker

    connection = outbox.redis_connection()
    # SimpleWorker runs each job in this process, in this command's app context, with the
    # app's database pool; jobs are short, and a job that fails is recorded and retried by
    # nothing (the next event of the player recomputes the same state).
    worker = SimpleWorker([outbox.queue(connection)], connection=connection)
    worker.work(burst=burst, logging_level="WARNING")


@tracking_cli.command("status")
def tracking_status() -> None:
    """Print the flag, the rollout percentage and how many users are in the cohort."""
    config = current_app.config
    flag = "on" if config["ENABLE_SERVER_SIDE_TRACKING"] else "off"
    counts = rollout.cohort_counts()
    click.echo(f"ENABLE_SERVER_SIDE_TRACKING: {flag}")
    click.echo(
        f"SERVER_SIDE_TRACKING_ROLLOUT_PERCENT: {config['SERVER_SIDE_TRACKING_ROLLOUT_PERCENT']}"
        f" (tracking {rollout.effective_percent()}% of users)"
    )
    click.echo(f"users in the cohort: {counts.tracked}")
    click.echo(f"users not in the cohort: {counts.untracked}")


def register_cli(app: Flask) -> None:
    for group in (
        users_cli,
        tokens_cli,
        levels_cli,
        xp_cli,
        leaderboard_cli,
        outbox_cli,
        tracking_cli,
        run_worker,
    ):
        app.cli.add_command(group)
