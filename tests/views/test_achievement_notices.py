"""A player sees a notice of each new achievement on their next page, once; and the progress
page's partial shows the earned ones with their icon and the rest greyed."""

import pytest
import sqlalchemy as sa
from flask import render_template
from sqlalchemy import event

from app.services import achievements
from tests import factories

BODY = {"level_id": 1, "score": 700, "time_spent": 300, "metadata": {"hints_used": 2}}


@pytest.fixture()
def achievement_queries(app):
    """The SQL statements any engine runs during the test that read or write achievements."""
    seen = []

    def on_execute(_conn, _cursor, statement, *_args):
        if "user_achievements" in statement:
            seen.append(statement)

    event.listen(sa.engine.Engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(sa.engine.Engine, "before_cursor_execute", on_execute)


def earn_first_level(app, client, user_id):
    assert client.post("/api/levels/complete", json=BODY).status_code == 200
    with app.app_context():
        return achievements.evaluate(user_id).earned


def notices(page):
    return [line.strip() for line in page.splitlines() if "Achievement unlocked:" in line]


def test_the_next_page_shows_each_new_achievement_once(app, levels, player, player_client):
    earned = earn_first_level(app, player_client, player.id)
    assert earned[:2] == ["first-completion", "level-1"]
    page = player_client.get("/levels").get_data(as_text=True)
    shown = notices(page)
    assert shown[:2] == [
        "Achievement unlocked: First Steps",
        "Achievement unlocked: The Misinformation Maze",
    ]
    assert len(shown) == len(earned)
    assert 'class="alert alert-success' in page
    assert notices(player_client.get("/levels").get_data(as_text=True)) == []
    assert notices(player_client.get("/progress").get_data(as_text=True)) == []


def test_api_calls_and_probes_leave_the_notice_for_a_page(app, levels, player, player_client):
    earn_first_level(app, player_client, player.id)
    for path in ("/api/achievements", "/api/levels", "/healthz", "/readyz"):
        response = player_client.get(path)
        assert response.status_code == 200, path
        assert "Achievement unlocked" not in response.get_data(as_text=True), path
    assert "Achievement unlocked: First Steps" in notices(
        player_client.get("/").get_data(as_text=True)
    )


def test_an_achievement_taken_away_before_it_was_seen_is_never_announced(
    app, levels, player, player_client, admin_client
):
    completion_id = player_client.post("/api/levels/complete", json=BODY).json["completion_id"]
    with app.app_context():
        achievements.evaluate(player.id)
    response = admin_client.post(
        f"/api/admin/completions/{completion_id}/revoke", json={"note": "cheated"}
    )
    assert response.status_code == 200
    with app.app_context():
        achievements.evaluate(player.id)
    assert notices(player_client.get("/levels").get_data(as_text=True)) == []


def test_another_player_is_not_told_of_my_achievements(app, levels, player, player_client):
    with app.app_context():
        factories.make_user("rival")
    earn_first_level(app, player_client, player.id)
    rival_client = app.test_client()
    factories.sign_in(rival_client, "rival")
    assert notices(rival_client.get("/levels").get_data(as_text=True)) == []
    assert notices(player_client.get("/levels").get_data(as_text=True))


def test_a_page_costs_a_signed_in_player_one_read_and_a_visitor_none(
    app, levels, player, player_client, client, achievement_queries
):
    assert player_client.get("/levels").status_code == 200
    assert len(achievement_queries) == 1
    assert achievement_queries[0].lstrip().upper().startswith("SELECT")
    achievement_queries.clear()
    assert client.get("/levels").status_code == 200
    assert player_client.get("/api/levels").status_code == 200
    assert player_client.get("/healthz").status_code == 200
    assert achievement_queries == []


def test_the_partial_shows_earned_ones_with_their_icon_and_greys_the_rest(
    app, levels, player, player_client
):
    earned = earn_first_level(app, player_client, player.id)
    with app.test_request_context():
        html = render_template(
            "_achievements.html", achievements=achievements.for_player(player.id)
        )
    items = html.split('data-testid="achievement"')[1:]
    assert len(items) == 12
    by_key = {item.split('data-key="')[1].split('"')[0]: item for item in items}
    first = by_key["first-completion"]
    assert 'data-earned="true"' in first and "bi-flag" in first and "opacity-50" not in first
    assert "Earned " in first
    rest = by_key["all-levels"]
    assert 'data-earned="false"' in rest and "bi-award" in rest and "opacity-50" in rest
    assert "Not earned yet" in rest
    assert f"{len(earned)} of 12" in html
    assert sum('data-earned="true"' in item for item in items) == len(earned)
