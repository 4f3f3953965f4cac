"""The operators' console at /admin: players and totals, a player's ledger and completions, and
revoke / adjust / reset, each changing nothing until it is confirmed; admins only."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LevelCompletion, User, XPHistory
from app.models.types import utcnow
from app.services import accounts, admin, archive, directory
from tests import factories

BODY = {"level_id": 1, "score": 850, "time_spent": 120, "metadata": {"hints_used": 0}}


# --- helpers -------------------------------------------------------------------------------


class Rows(HTMLParser):
    """The text of each cell of the table rows marked data-testid=<testid>."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.rows, self.row, self.cell = testid, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid") == self.testid:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def rows(page: str, testid: str) -> list[list[str]]:
    parser = Rows(testid)
    parser.feed(page)
    return parser.rows


def text(response) -> str:
    """The page as a reader sees its words (tags dropped, white space collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True))).split())


def alerts(response) -> list[str]:
    page = response.get_data(as_text=True)
    found = re.findall(r'<div class="alert alert-(\w+)[^"]*" role="alert">(.*?)<button', page, re.S)
    return [(kind, " ".join(message.split())) for kind, message in found]


def link(response, testid: str) -> str:
    page = response.get_data(as_text=True)
    href = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', page)
    assert href, f"no {testid} link"
    return href.group(1).replace("&amp;", "&")


def snapshot(app):
    """What a correction would change: completions and their revocations, entries, totals."""
    with app.app_context():
        totals = dict(db.session.execute(select(User.username, User.total_xp)).tuples().all())
        return {
            "completions": db.session.scalar(select(func.count()).select_from(LevelCompletion)),
            "revoked": db.session.scalar(
                select(func.count()).where(LevelCompletion.revoked_at.is_not(None))
            ),
            "entries": db.session.scalar(select(func.count()).select_from(XPHistory)),
            "totals": totals,
        }


def complete(client, **changes) -> dict:
    response = client.post("/api/levels/complete", json=BODY | changes)
    assert response.status_code == 200, response.json
    return response.json


def total_of(app, username: str) -> int:
    return snapshot(app)["totals"][username]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture()
def played(levels, player, player_client):
    """player1 has completed levels 1 and 2; returns both completions as the API answered."""
    return [complete(player_client), complete(player_client, level_id=2)]


@pytest.fixture()
def small_pages(monkeypatch):
    monkeypatch.setattr(directory, "PAGE_SIZE", 2)


# --- the list of players -------------------------------------------------------------------


def test_the_console_lists_every_player_with_their_total(app, admin_client, played, player):
    # A revocation after a penalty leaves the total below 0; the console shows it as it is.
    awarded = played[0]["awarded_xp"] + played[1]["awarded_xp"]
    with app.app_context():
        admin.adjust_xp(player.id, -awarded, "penalty")
        admin.revoke_completion(played[0]["completion_id"], "cheated")
    expected = -played[0]["awarded_xp"]

    response = admin_client.get("/admin")
    assert response.status_code == 200
    listed = {row[1].removesuffix(" admin"): row for row in rows(response.text, "user-row")}
    assert set(listed) == {"boss", "player1"}
    assert listed["player1"][2] == "player1@example.test"
    assert listed["player1"][3] == str(expected) and expected < 0
    assert listed["boss"][3] == "0"
    assert "2 players." in text(response)
    assert admin_client.get("/admin/users").text == response.text


def test_search_matches_a_part_of_the_name_or_the_email_whatever_its_case(app, admin_client):
    with app.app_context():
        factories.make_user("alice")
        factories.make_user("malik")
        accounts.create_user("zed", "zed@alibaba.example", factories.DEFAULT_PASSWORD)

    def names(q):
        response = admin_client.get("/admin", query_string={"q": q})
        assert response.status_code == 200
        return sorted(row[1] for row in rows(response.text, "user-row"))

    assert names("ALI") == ["alice", "malik", "zed"]
    assert names("  Alibaba.EX ") == ["zed"]
    assert names("bob") == []
    # Wildcards are matched as typed, not as patterns; a NUL byte matches nobody.
    assert names("%") == []
    assert names("a_i") == []
    assert names("\x00") == []
    page = admin_client.get("/admin?q=ALI")
    assert "3 players match “ALI”." in text(page)
    assert 'value="ALI"' in page.text


def test_the_list_is_paginated_and_its_links_keep_the_search(app, admin_client, small_pages):
    with app.app_context():
        for name in ("ann", "bea", "cat", "dan", "eve"):
            accounts.create_user(name, f"{name}@team.example", factories.DEFAULT_PASSWORD)

    first = admin_client.get("/admin?q=TEAM")
    assert [row[1] for row in rows(first.text, "user-row")] == ["ann", "bea"]
    assert "users-previous" not in first.text
    assert "5 players match" in text(first)

    second_url = link(first, "users-next")
    assert parse_qs(urlsplit(second_url).query) == {"q": ["TEAM"], "page": ["2"]}
    second = admin_client.get(second_url)
    assert [row[1] for row in rows(second.text, "user-row")] == ["cat", "dan"]
    assert "Page 2" in text(second)

    third = admin_client.get(link(second, "users-next"))
    assert [row[1] for row in rows(third.text, "user-row")] == ["eve"]
    assert "users-next" not in third.text
    back = admin_client.get(link(third, "users-previous"))
    assert [row[1] for row in rows(back.text, "user-row")] == ["cat", "dan"]


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "99999999999999999999", ""])
def test_a_page_that_is_not_a_positive_number_is_a_400_page(admin_client, player, page):
    for url in ("/admin", f"/admin/users/{player.id}"):
        response = admin_client.get(url, query_string={"page": page})
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "page must be a whole number" in text(response)


def test_only_an_admin_sees_the_admin_link_in_the_menu(admin_client, player_client, client):
    assert 'data-testid="nav-admin"' in admin_client.get("/").text
    assert link(admin_client.get("/"), "nav-admin") == "/admin"
    assert 'data-testid="nav-admin"' not in player_client.get("/").text
    assert 'data-testid="nav-admin"' not in client.get("/").text


# --- one player's page ---------------------------------------------------------------------


def test_a_players_page_shows_their_ledger_and_completions(
    app, admin_client, admin_user, played, player
):
    first, second = played
    with app.app_context():
        admin.adjust_xp(player.id, 25, "tournament prize", actor_id=admin_user.id)
    total = first["awarded_xp"] + second["awarded_xp"] + 25

    response = admin_client.get(f"/admin/users/{player.id}")
    assert response.status_code == 200
    page = text(response)
    assert f"Total {total} XP" in page and "player1@example.test" in page

    completions = rows(response.text, "completion-row")
    assert [row[0] for row in completions] == [
        str(second["completion_id"]),
        str(first["completion_id"]),
    ]
    assert completions[1][1:7] == [
        f"{first['level']['name']} (1)",
        "850",
        "normal",
        str(first["awarded_xp"]),
        completions[1][5],
        "—",
    ]
    assert completions[1][5].endswith("UTC")
    assert response.text.count('data-testid="revoke-button"') == 2

    ledger = rows(response.text, "ledger-row")
    assert [row[2:] for row in ledger] == [
        ["+25", str(total), "manual_adjustment", "tournament prize", "boss"],
        [
            f"+{second['awarded_xp']}",
            str(first["awarded_xp"] + second["awarded_xp"]),
            f"level_completion (completion {second['completion_id']})",
            "",
            "—",
        ],
        [
            f"+{first['awarded_xp']}",
            str(first["awarded_xp"]),
            f"level_completion (completion {first['completion_id']})",
            "",
            "—",
        ],
    ]
    assert 'data-testid="archived-summary"' not in response.text


def test_a_players_ledger_and_completions_page_separately(
    app, admin_client, played, player, small_pages
):
    with app.app_context():
        admin.adjust_xp(player.id, 5, "one")
        admin.adjust_xp(player.id, 7, "two")
    url = f"/admin/users/{player.id}"
    first = admin_client.get(url)
    assert [row[5] for row in rows(first.text, "ledger-row")] == ["two", "one"]

    older = admin_client.get(link(first, "ledger-next"))
    assert len(rows(older.text, "ledger-row")) == 2
    assert [row[5] for row in rows(older.text, "ledger-row")] == ["", ""]
    # The completions stay on their own first page while the ledger moves on.
    assert len(rows(older.text, "completion-row")) == 2
    assert parse_qs(urlsplit(link(older, "ledger-previous")).query) == {
        "page": ["1"],
        "completions_page": ["1"],
    }
    assert "ledger-next" not in older.text


def test_the_ledger_ends_with_what_was_archived(app, admin_client, played, player):
    with app.app_context():
        archive.archive_older_than(utcnow() + timedelta(seconds=1))
        admin.adjust_xp(player.id, 10, "after the archive")
    archived_xp = played[0]["awarded_xp"] + played[1]["awarded_xp"]

    response = admin_client.get(f"/admin/users/{player.id}")
    assert [row[5] for row in rows(response.text, "ledger-row")] == ["after the archive"]
    assert f"…and 2 archived entries, {archived_xp} XP." in text(response)


def test_an_unknown_player_or_completion_is_a_404_page(admin_client):
    for url in ("/admin/users/9999", "/admin/users/9999/reset", "/admin/completions/9999/revoke"):
        response = admin_client.get(url)
        assert response.status_code == 404
        assert "No " in text(response) and "CyberQuest" in text(response)


# --- revoke --------------------------------------------------------------------------------


def test_revoking_asks_for_confirmation_before_changing_anything(app, admin_client, played, player):
    completion = played[0]
    url = f"/admin/completions/{completion['completion_id']}/revoke"
    before = snapshot(app)

    shown = admin_client.get(url)
    assert shown.status_code == 200
    assert (
        f"Revoke completion {completion['completion_id']} of player1: takes back"
        f" {completion['awarded_xp']} XP." in text(shown)
    )
    assert 'data-testid="confirm"' in shown.text
    # A first POST, with a note but not from the confirmation page, only shows it again.
    posted = admin_client.post(url, data={"note": "cheated"})
    assert posted.status_code == 200
    assert "takes back" in text(posted) and "cheated" in posted.text
    assert snapshot(app) == before


def test_a_confirmed_revocation_takes_the_xp_back_in_the_admins_name(
    app, admin_client, played, player
):
    completion = played[0]
    url = f"/admin/completions/{completion['completion_id']}/revoke"
    before = total_of(app, "player1")

    response = admin_client.post(url, data={"note": "used a walkthrough", "confirmed": "yes"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{player.id}"
    page = admin_client.get(response.headers["Location"])
    assert alerts(page) == [
        (
            "success",
            f"Revoked completion {completion['completion_id']} of player1: took back"
            f" {completion['awarded_xp']} XP; their total is now"
            f" {before - completion['awarded_xp']} XP.",
        )
    ]
    assert total_of(app, "player1") == before - completion["awarded_xp"]
    newest = rows(page.text, "ledger-row")[0]
    assert newest[2:] == [
        f"-{completion['awarded_xp']}",
        str(before - completion["awarded_xp"]),
        f"completion_revoked (completion {completion['completion_id']})",
        "used a walkthrough",
        "boss",
    ]
    revoked = next(
        row
        for row in rows(page.text, "completion-row")
        if row[0] == str(completion["completion_id"])
    )
    assert revoked[6].endswith("UTC")
    assert page.text.count('data-testid="revoke-button"') == 1  # only the standing one is left


@pytest.mark.parametrize("note", ["", "   "])
def test_a_revocation_without_a_note_is_refused_and_changes_nothing(
    app, admin_client, played, note
):
    before = snapshot(app)
    url = f"/admin/completions/{played[0]['completion_id']}/revoke"
    response = admin_client.post(url, data={"note": note, "confirmed": "yes"})
    assert response.status_code == 400
    assert "Say why: the note is required." in text(response)
    assert 'data-testid="confirm"' in response.text  # the admin can type one and confirm
    assert snapshot(app) == before


def test_a_note_longer_than_the_services_limit_is_refused_with_its_reason(
    app, admin_client, played
):
    before = snapshot(app)
    url = f"/admin/completions/{played[0]['completion_id']}/revoke"
    long_note = "x" * (admin.MAX_NOTE_LENGTH + 1)
    response = admin_client.post(url, data={"note": long_note, "confirmed": "yes"})
    assert response.status_code == 400
    assert f"Say why in 1 to {admin.MAX_NOTE_LENGTH} characters." in text(response)
    assert snapshot(app) == before


def test_revoking_a_revoked_completion_shows_why_and_changes_nothing(
    app, admin_client, played, player
):
    url = f"/admin/completions/{played[0]['completion_id']}/revoke"
    admin_client.post(url, data={"note": "first", "confirmed": "yes"})
    before = snapshot(app)

    shown = admin_client.get(url)
    assert "was revoked at" in text(shown)
    assert 'data-testid="confirm"' not in shown.text
    again = admin_client.post(url, data={"note": "second", "confirmed": "yes"})
    assert again.status_code == 409
    assert [kind for kind, _ in alerts(again)] == ["danger"]
    assert "was already revoked" in alerts(again)[0][1]
    assert snapshot(app) == before


# --- adjust --------------------------------------------------------------------------------


def test_an_adjustment_asks_for_confirmation_before_changing_anything(
    app, admin_client, played, player
):
    before = snapshot(app)
    total = before["totals"]["player1"]
    url = f"/admin/users/{player.id}/adjust"
    response = admin_client.post(url, data={"delta": "-30", "note": "spamming the forum"})
    assert response.status_code == 200
    expected = f"Adjust player1 by -30 XP: their total goes from {total} to {total - 30} XP."
    assert expected in text(response)
    assert "spamming the forum" in text(response)
    assert 'data-testid="confirm"' in response.text
    assert admin_client.get(url).status_code == 200  # the form on its own page
    assert snapshot(app) == before


def test_a_confirmed_adjustment_changes_the_total_in_the_admins_name(
    app, admin_client, played, player
):
    before = total_of(app, "player1")
    url = f"/admin/users/{player.id}/adjust"
    response = admin_client.post(
        url, data={"delta": "-30", "note": "spamming the forum", "confirmed": "yes"}
    )
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"])
    assert alerts(page) == [
        ("success", f"Adjusted player1 by -30 XP: their total is now {before - 30} XP.")
    ]
    assert total_of(app, "player1") == before - 30
    assert rows(page.text, "ledger-row")[0][2:] == [
        "-30",
        str(before - 30),
        "manual_adjustment",
        "spamming the forum",
        "boss",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"delta": "10", "note": ""}, "Say why: the note is required."),
        ({"delta": "10", "note": "   "}, "Say why: the note is required."),
        ({"delta": "", "note": "why"}, "Enter a whole number of XP."),
        ({"delta": "ten", "note": "why"}, "Not a valid integer value."),
        ({"delta": "0", "note": "why"}, "Use a non-zero whole number"),
        ({"delta": str(admin.MAX_ADJUSTMENT + 1), "note": "why"}, "Use a non-zero whole number"),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_a_bad_adjustment_is_refused_with_its_reason_and_changes_nothing(
    app, admin_client, player, fields, message, confirmed
):
    before = snapshot(app)
    response = admin_client.post(
        f"/admin/users/{player.id}/adjust", data=fields | {"confirmed": confirmed}
    )
    assert response.status_code == 400
    assert message in text(response)
    assert 'data-testid="confirm"' not in response.text
    assert snapshot(app) == before


def test_an_adjustment_below_zero_is_shown_as_refused_and_changes_nothing(
    app, admin_client, player
):
    with app.app_context():
        admin.adjust_xp(player.id, 20, "seed")
    before = snapshot(app)
    response = admin_client.post(
        f"/admin/users/{player.id}/adjust",
        data={"delta": "-21", "note": "too much", "confirmed": "yes"},
    )
    assert response.status_code == 409
    assert alerts(response) == [
        ("danger", "A change of -21 would take the balance of 20 XP below zero.")
    ]
    assert 'data-testid="player-total">20<' in response.text
    assert snapshot(app) == before


# --- reset ---------------------------------------------------------------------------------


def test_a_reset_asks_for_confirmation_before_changing_anything(app, admin_client, played, player):
    awarded = played[0]["awarded_xp"] + played[1]["awarded_xp"]
    before = snapshot(app)
    url = f"/admin/users/{player.id}/reset"
    for response in (admin_client.get(url), admin_client.post(url, data={"note": "start over"})):
        assert response.status_code == 200
        assert f"Reset player1: revokes 2 completions, taking back {awarded} XP." in text(response)
        assert 'data-testid="confirm"' in response.text
    assert snapshot(app) == before


def test_a_confirmed_reset_revokes_every_completion_in_the_admins_name(
    app, admin_client, played, player
):
    with app.app_context():
        admin.adjust_xp(player.id, 15, "bonus")
    awarded = played[0]["awarded_xp"] + played[1]["awarded_xp"]
    response = admin_client.post(
        f"/admin/users/{player.id}/reset", data={"note": "shared account", "confirmed": "yes"}
    )
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"])
    assert alerts(page) == [
        (
            "success",
            f"Reset player1: revoked 2 completions and took back {awarded} XP;"
            " their total is now 15 XP.",
        )
    ]
    assert total_of(app, "player1") == 15
    assert 'data-testid="revoke-button"' not in page.text
    newest = rows(page.text, "ledger-row")[:2]
    assert [row[4].split(" ")[0] for row in newest] == ["completion_revoked"] * 2
    assert [row[5:] for row in newest] == [["shared account", "boss"]] * 2


@pytest.mark.parametrize("note", ["", "  "])
def test_a_reset_without_a_note_is_refused_and_changes_nothing(
    app, admin_client, played, player, note
):
    before = snapshot(app)
    response = admin_client.post(
        f"/admin/users/{player.id}/reset", data={"note": note, "confirmed": "yes"}
    )
    assert response.status_code == 400
    assert "Say why: the note is required." in text(response)
    assert snapshot(app) == before


# --- CSRF ----------------------------------------------------------------------------------


def test_a_correction_without_a_csrf_token_is_refused(
    app, admin_client, played, player, config_override
):
    config_override(WTF_CSRF_ENABLED=True)
    url = f"/admin/completions/{played[0]['completion_id']}/revoke"
    before = snapshot(app)
    for data in ({}, {"csrf_token": "forged"}):
        refused = admin_client.post(url, data=data | {"note": "cheated", "confirmed": "yes"})
        assert refused.status_code == 400
        assert "CSRF" in text(refused)
    assert snapshot(app) == before

    page = admin_client.get(url).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = admin_client.post(
        url, data={"note": "cheated", "confirmed": "yes", "csrf_token": token}
    )
    assert accepted.status_code == 302
    assert snapshot(app)["revoked"] == 1


# --- who may use the console ---------------------------------------------------------------

ROUTES = [
    ("GET", "/admin", {}),
    ("GET", "/admin/users", {}),
    ("GET", "/admin/users/{user}", {}),
    ("GET", "/admin/users/{user}/adjust", {}),
    ("POST", "/admin/users/{user}/adjust", {"delta": "500", "note": "mine", "confirmed": "yes"}),
    ("GET", "/admin/completions/{completion}/revoke", {}),
    ("POST", "/admin/completions/{completion}/revoke", {"note": "x", "confirmed": "yes"}),
    ("GET", "/admin/users/{user}/reset", {}),
    ("POST", "/admin/users/{user}/reset", {"note": "x", "confirmed": "yes"}),
]


def call(client, route, player, completion):
    method, path, data = route
    url = path.format(user=player.id, completion=completion["completion_id"])
    return client.open(url, method=method, data=data)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_a_player_who_is_not_an_admin_is_refused_everywhere(
    app, player_client, played, player, route
):
    with app.app_context():
        factories.make_user("other")
    before = snapshot(app)
    for victim in (player, accounts_user(app, "other")):
        response = call(player_client, route, victim, played[0])
        assert response.status_code == 403
        assert response.mimetype == "text/html"
        page = text(response)
        assert "403" in page and "Only administrators can use the operators' console." in page
        assert "CyberQuest" in page and "Sign out" in page  # the site's layout, still signed in
    assert snapshot(app) == before


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_an_anonymous_visitor_is_sent_to_sign_in_everywhere(app, client, played, player, route):
    before = snapshot(app)
    response = call(client, route, player, played[0])
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin")
    assert snapshot(app) == before


def accounts_user(app, username):
    with app.app_context():
        user = accounts.find_account(username)
        return factories.UserInfo(user.id, user.username, user.email, factories.DEFAULT_PASSWORD)
