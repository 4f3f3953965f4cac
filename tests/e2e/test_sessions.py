"""Signing out everywhere, in a real browser: another browser's session ends with it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests import factories

SIGN_IN_PAGE = re.compile(r"/login\?next=")


def sign_in(page: Page, username: str, *, remember: bool = False) -> None:
    page.goto("/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    if remember:
        page.check("input[name=remember]")
    page.click("button[type=submit]")
    page.wait_for_url("**/levels")


def test_sign_out_everywhere_in_one_browser_ends_the_other_browsers_session(
    browser, live_server, page: Page, levels, player, screenshot
):
    other_context = browser.new_context(base_url=live_server)
    try:
        other = other_context.new_page()
        sign_in(other, player.username, remember=True)
        sign_in(page, player.username)

        page.goto("/account")
        expect(page.get_by_test_id("session-row")).to_have_count(2)
        expect(page.get_by_test_id("this-device")).to_have_count(1)
        screenshot(page, "account-sessions")
        page.get_by_test_id("sign-out-everywhere").click()
        page.wait_for_url("**/login")

        other.goto("/progress")
        other.wait_for_url(SIGN_IN_PAGE)
        assert other.request.get("/api/levels/progress").status == 401
        # Even its remember-me cookie no longer signs it back in.
        other_context.clear_cookies(name="session")
        other.goto("/progress")
        other.wait_for_url(SIGN_IN_PAGE)
    finally:
        other_context.close()


def test_ending_another_device_from_the_sessions_list(
    browser, live_server, page: Page, levels, player
):
    other_context = browser.new_context(base_url=live_server)
    try:
        other = other_context.new_page()
        sign_in(other, player.username)
        sign_in(page, player.username)
        page.goto("/account")
        row = page.get_by_test_id("session-row").filter(has_not=page.get_by_test_id("this-device"))
        row.get_by_test_id("end-session").click()
        expect(page.get_by_test_id("session-row")).to_have_count(1)
        other.goto("/progress")
        other.wait_for_url(SIGN_IN_PAGE)
        page.goto("/progress")
        expect(page.get_by_test_id("progress-total-xp")).to_be_visible()
    finally:
        other_context.close()
