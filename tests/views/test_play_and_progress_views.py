"""The play page and the progress page: who may see them and what the server tells them."""

import json
import re
import uuid

from sqlalchemy import update

from app.extensions import db
from app.models import Level


def play_config(page: str) -> dict:
    raw = re.search(r'<script type="application/json" id="play-config">(.*?)</script>', page, re.S)
    return json.loads(raw.group(1))


def complete(client, level_id=1, score=850):
    body = {
        "level_id": level_id,
        "score": score,
        "time_spent": 120,
        "client_event_id": str(uuid.uuid4()),
    }
    response = client.post("/api/levels/complete", json=body)
    assert response.status_code == 200
    return response.json


def test_an_anonymous_visitor_is_sent_to_login_from_play_and_progress(client, levels):
    for path in ("/play/1", "/progress"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_the_play_page_hands_the_level_and_tracking_state_to_the_client(
    player_client, player, levels
):
    response = player_client.get("/play/1")
    assert response.status_code == 200
    config = play_config(response.get_data(as_text=True))
    assert config["user_id"] == player.id
    assert config["tracking_enabled"] is True
    assert config["level"]["level_id"] == 1
    assert config["level"]["max_score"] == 1000
    assert config["level"]["min_time_seconds"] == 60


def test_the_play_page_shows_what_the_level_is_worth_in_each_mode(player_client, levels):
    page = player_client.get("/play/1").get_data(as_text=True)
    assert (
        'Up to <span data-testid="max-xp">100</span> XP for a perfect score, faster than the'
        " expected time, no hints, on hard." in page
    )
    # Perfect, fast, hint-free, of level 1's best 38.0: easy 16 + 4 + 10 = 30 -> 78.9 -> 79,
    # normal 20 + 4 + 10 = 34 -> 89.5 (89.47) -> 89, hard 100.
    for mode, xp in (("easy", 79), ("normal", 89), ("hard", 100)):
        assert f'data-testid="mode-max-xp-{mode}">· up to {xp} XP</span>' in page
    config = play_config(page)
    assert (config["level"]["xp_reward"], config["level"]["max_xp"]) == (100, 100)
    terms = {term["name"]: term for term in config["xp_rules"]["terms"]}
    assert terms["base"]["rule"] == "10 + score ÷ 100, rounded down"
    assert terms["raw_best"]["label"] == "Best possible run"


def test_the_pages_follow_a_changed_xp_rule(player_client, levels, config_override):
    config_override(XP_RULES={"base_points": 5, "difficulty_multipliers": {"easy": 1.5}})
    play = player_client.get("/play/1").get_data(as_text=True)
    assert "5 + score ÷ 100, rounded down" in play
    assert "on easy." in play
    assert play_config(play)["xp_rules"]["difficulty_multipliers"]["easy"] == "1.5"
    listing = player_client.get("/levels").get_data(as_text=True)
    assert "5 + score ÷ 100, rounded down" in listing
    assert "The most one run can earn: a perfect score" in listing and "on easy" in listing


def test_with_tracking_off_the_play_page_says_results_stay_on_this_device(
    player_client, levels, config_override
):
    config_override(ENABLE_SERVER_SIDE_TRACKING=False)
    page = player_client.get("/play/2").get_data(as_text=True)
    assert play_config(page)["tracking_enabled"] is False
    assert 'data-testid="local-only-notice"' in page
    assert 'data-tracked="false"' in page


def test_an_unknown_level_is_404_and_a_locked_one_403(app, player_client, levels):
    assert player_client.get("/play/99").status_code == 404
    with app.app_context():
        db.session.execute(update(Level).where(Level.level_id == "4").values(unlocked=False))
        db.session.commit()
    assert player_client.get("/play/4").status_code == 403


def test_the_levels_page_shows_the_players_standing(player_client, levels):
    complete(player_client, level_id=1, score=850)
    page = player_client.get("/levels").get_data(as_text=True)
    assert page.count('data-testid="completed-badge"') == 1
    # No hints_used sent, so no bonus: 18 + 3.6 = 21.6 of level 1's best 38.0; 100 x 21.6 / 38
    # = 56.8 -> 57 of its 100. Level 5 is worth its 500.
    assert "Best score 850 / 1000 · 57 / 100 XP" in page
    assert "Not completed yet · 0 / 500 XP" in page


def test_the_progress_page_shows_totals_and_categories_from_the_server(player_client, levels):
    complete(player_client, level_id=1, score=850)
    complete(player_client, level_id=5, score=1500)
    page = player_client.get("/progress").get_data(as_text=True)
    # Level 1 as above: 57. Level 5: 25 + 5.0 = 30.0 of its best 25 x 1.2 + 5 + 10 = 45.0;
    # 500 x 30 / 45 = 333.3 -> 333.
    assert re.search(r'data-testid="progress-total-xp">\s*(\d+)<', page).group(1) == str(57 + 333)
    assert "of 5 levels completed" in page and "57 / 100" in page and "333 / 500" in page
    assert '<span data-testid="completed-levels">2</span> of 5' in page
    assert "Information Literacy" in page and "Digital Forensics" in page
    assert "/static/vendor/chart.js/chart.umd.min.js" in page
