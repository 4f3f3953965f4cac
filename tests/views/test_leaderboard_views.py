"""The leaderboard page: the three periods, the table, and the visitor's own row marked."""

import pytest

from app.services import admin
from tests import factories


@pytest.fixture()
def standings(app, player):
    with app.app_context():
        rival = factories.make_user("rival")
        admin.adjust_xp(rival.id, 100, "seeded standing")
        admin.adjust_xp(player.id, 40, "seeded standing")


def test_an_anonymous_visitor_sees_the_board_and_every_period(client, standings):
    response = client.get("/leaderboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for period in ("all", "week", "month"):
        assert f'href="/leaderboard?period={period}"' in page
    assert "rival" in page and "player1" in page
    assert 'data-testid="my-row"' not in page
    assert 'href="/leaderboard"' in client.get("/").get_data(as_text=True)  # the menu links it


@pytest.mark.parametrize("period", ["all", "week", "month"])
def test_a_signed_in_player_sees_their_own_row_highlighted(player_client, standings, period):
    page = player_client.get(f"/leaderboard?period={period}").get_data(as_text=True)
    row = page.split('data-testid="my-row"')[1].split("</tr>")[0]
    assert "player1" in row and ">2<" in row and ">40<" in row
    assert "You are <strong>#2</strong> with <strong>40</strong> XP." in page


def test_a_player_without_xp_is_told_how_to_join(app, client):
    with app.app_context():
        factories.make_user("newcomer")
    factories.sign_in(client, "newcomer")
    page = client.get("/leaderboard?period=week").get_data(as_text=True)
    assert "Earn XP in this period to join the board." in page
    assert "Nobody has earned XP in this period yet." in page


def test_an_unknown_period_is_a_400_page(client):
    response = client.get("/leaderboard?period=year")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_the_page_shows_an_adjustment_on_the_next_visit(app, player, player_client, standings):
    with app.app_context():
        admin.adjust_xp(player.id, 70, "tournament prize")
    page = player_client.get("/leaderboard?period=week").get_data(as_text=True)
    row = page.split('data-testid="my-row"')[1].split("</tr>")[0]
    assert "player1" in row and ">1<" in row and ">110<" in row
