"""Helpers that make tests read as stories: users, tokens, levels, signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass

from app.services import accounts, levels, tokens

DEFAULT_PASSWORD = "correct-horse-battery"
# The achievement catalog as a player sees it, in order: written out, not read from the app.
ACHIEVEMENT_KEYS = [
    "first-completion",
    "level-1",
    "level-2",
    "level-3",
    "level-4",
    "level-5",
    "all-levels",
    "hint-free",
    "perfect-score",
    "xp-100",
    "xp-500",
    "xp-1000",
]


@dataclass(frozen=True)
class UserInfo:
    """A plain record of a created user, safe to use outside the session that made it."""

    id: int
    username: str
    email: str
    password: str


def make_user(
    username: str = "player1", *, password: str = DEFAULT_PASSWORD, is_admin: bool = False
) -> UserInfo:
    """Create a user through the accounts service (needs an app context)."""
    user = accounts.create_user(username, f"{username}@example.test", password, is_admin=is_admin)
    return UserInfo(id=user.id, username=user.username, email=user.email, password=password)


def make_token(user: UserInfo, name: str = "tests") -> str:
    """Issue an API token for `user` and return its secret (needs an app context)."""
    return tokens.create_token(accounts.get_user(user.id), name).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def sync_levels() -> list[str]:
    levels.sync_catalog()
    return [level.level_id for level in levels.list_levels()]


def sign_in(client, login: str, password: str = DEFAULT_PASSWORD):
    """Sign `client` in through the real login form; returns the response."""
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
