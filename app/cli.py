"""`flask` sub-commands for operators: users, tokens, levels."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app.errors import AppError
from app.services import accounts, levels, tokens

users_cli = AppGroup("users", help="Manage players and operators.")
tokens_cli = AppGroup("tokens", help="Issue and revoke API tokens.")
levels_cli = AppGroup("levels", help="Manage the level catalog.")

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


def register_cli(app: Flask) -> None:
    for group in (users_cli, tokens_cli, levels_cli):
        app.cli.add_command(group)
