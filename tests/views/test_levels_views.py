"""The levels page lists the catalog with its icons and facts, inside the site layout."""

from app.levels_catalog import LEVELS


def test_the_levels_page_lists_every_level_with_its_facts(client, levels):
    response = client.get("/levels")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for level in LEVELS:
        assert level["name"] in page
        assert f"bi {level['icon']}" in page
        assert level["category"] in page
        assert level["difficulty"] in page
        assert level["estimated_time"] in page


def test_pages_use_the_site_layout_with_locally_served_assets(client, levels):
    page = client.get("/levels").get_data(as_text=True)
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in page
    assert "navbar" in page
    assert "https://" not in page.split("<body")[0]  # nothing loaded from elsewhere


def test_the_home_page_and_an_unknown_page_render_html(client):
    assert client.get("/").status_code == 200
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
