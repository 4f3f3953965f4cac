"""After `flask xp archive`, a player's progress page still adds up: the live entries, then a
line for what was archived."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.models.types import utcnow
from app.services import admin, archive


def test_the_progress_page_ends_with_the_archived_summary(app, signed_in_page: Page, player):
    with app.app_context():
        admin.adjust_xp(player.id, 40, note="welcome bonus")
        admin.adjust_xp(player.id, -15, note="penalty")
        archive.archive_older_than(utcnow())
        admin.adjust_xp(player.id, 5, note="meetup")
    page = signed_in_page
    page.goto("/progress")
    expect(page.get_by_test_id("progress-total-xp")).to_have_text("30")
    expect(page.get_by_test_id("history-row")).to_have_count(1)
    expect(page.get_by_test_id("history-archived")).to_have_text(
        "Before these: 2 archived entries, +25 XP in all."
    )
    expect(page.get_by_test_id("history-more")).to_be_hidden()
