"""GET /api/levels: the public catalog as JSON."""

from app.levels_catalog import LEVELS


def test_the_catalog_is_public_and_in_catalog_order(client, levels):
    response = client.get("/api/levels")
    assert response.status_code == 200
    listed = response.json["levels"]
    assert [level["level_id"] for level in listed] == [1, 2, 3, 4, 5]
    assert [level["name"] for level in listed] == [entry["name"] for entry in LEVELS]


def test_a_level_carries_what_the_pages_show(client, levels):
    first = client.get("/api/levels").json["levels"][0]
    assert first == first | {
        "level_id": 1,
        "name": "The Misinformation Maze",
        "category": "Information Literacy",
        "icon": "bi-newspaper",
        "difficulty": "Beginner",
        "xp_reward": 100,
        "estimated_time": "15 minutes",
        "expected_time_seconds": 900,
        "max_score": 1000,
        "min_time_seconds": 60,
        "skills": ["Critical Thinking", "Source Verification", "Fact Checking"],
        "unlocked": True,
        "coming_soon": False,
    }


def test_an_empty_catalog_is_an_empty_list(client):
    body = client.get("/api/levels").json
    assert body["levels"] == []
    assert body["xp_rules"]["terms"]  # the rules are there even before levels are loaded


def test_each_level_is_worth_its_xp_reward(client, levels):
    listed = client.get("/api/levels").json["levels"]
    # The catalog's rewards: a perfect run earns exactly the level's xp_reward.
    assert [level["max_xp"] for level in listed] == [100, 150, 200, 350, 500]
    assert [level["xp_reward"] for level in listed] == [100, 150, 200, 350, 500]


def test_the_catalog_states_the_xp_rules_in_force(client, levels):
    rules = client.get("/api/levels").json["xp_rules"]
    assert rules | {"terms": None} == {
        "base_points": 10,
        "score_divisor": 100,
        "difficulty_multipliers": {"easy": "0.8", "normal": "1.0", "hard": "1.2"},
        "time_bonus_ratio": "0.2",
        "no_hint_bonus": 10,
        "scale_to_reward": True,
        "best_run": "a perfect score, faster than the expected time, no hints, on hard",
        "terms": None,
    }
    terms = {term["name"]: term for term in rules["terms"]}
    assert terms["base"] == {
        "name": "base",
        "label": "Base",
        "rule": "10 + score ÷ 100, rounded down",
        "sign": "",
    }
    assert terms["time_bonus"]["rule"] == "20% of base when faster than the expected time"
    assert [term["name"] for term in rules["terms"]] == [
        "base",
        "difficulty_multiplier",
        "time_bonus",
        "no_hint_bonus",
        "raw",
        "raw_best",
        "xp_reward",
        "scale",
        "xp",
        "previously_credited",
        "awarded",
    ]


def test_changed_xp_rules_change_what_the_catalog_says(client, levels, config_override):
    config_override(XP_RULES={"scale_to_reward": False, "difficulty_multipliers": {"easy": 2}})
    body = client.get("/api/levels").json
    # Raw values capped at the reward: 20 x 2 on easy + 4 + 10 = 54; level 5: 25 x 2 + 5 + 10 = 65.
    assert [level["max_xp"] for level in body["levels"]] == [54, 54, 54, 54, 65]
    rules = body["xp_rules"]
    assert rules["scale_to_reward"] is False
    assert rules["best_run"].endswith("on easy")
    assert "scale" not in [term["name"] for term in rules["terms"]]
