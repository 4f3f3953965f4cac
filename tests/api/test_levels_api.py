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
    assert client.get("/api/levels").json == {"levels": []}
