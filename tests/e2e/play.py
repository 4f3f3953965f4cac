"""Helpers that play levels in the browser: start a level, submit it, and read back what the
result dialog and the server say. Level-specific moves (judge, triage, tag, run…) stay in each
level's test file."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Response, expect

AWARDED_XP = re.compile(r"\+(\d+) XP")


def start_level(page: Page, level_id: int, difficulty: str = "normal") -> None:
    """Open a level, pick the mode by clicking its visible label (as a player does: Bootstrap
    hides the radio itself, so a forced check does not select it) and press Start; waits until
    the taskbar shows that mode and the desktop icons are there."""
    page.goto(f"/play/{level_id}")
    page.locator(f"label[for=mode-{difficulty}]").click()
    expect(page.locator(f"#mode-{difficulty}")).to_be_checked()
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("difficulty-mode")).to_have_text(difficulty)
    page.wait_for_selector("[data-testid=desktop-icons] .sim-icon")


def submit_level(page: Page, after: str = "02:00") -> None:
    """Let `after` pass on the page's fake clock, press Submit and wait for the result dialog.

    The server refuses completions faster than a level's minimum time (60 s), so the clock is
    moved on first; page.clock.install() must have been called before the level started."""
    page.clock.fast_forward(after)
    page.get_by_test_id("submit-level").click()
    expect(page.get_by_test_id("result")).to_be_visible()


def submit_completion(page: Page, after: str = "02:00") -> Response:
    """submit_level, returning the server's answer to the completion the page posted (its
    request is the completion as sent)."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/levels/complete")
    ) as answer:
        submit_level(page, after)
    return answer.value


def awarded_xp(page: Page) -> int:
    """The N of "+N XP" in the result dialog, once the server's answer is shown."""
    awarded = page.get_by_test_id("awarded-xp")
    expect(awarded).to_be_visible()
    expect(awarded).to_contain_text("XP")
    return int(AWARDED_XP.search(awarded.inner_text()).group(1))


def server_progress(page: Page) -> dict:
    """GET /api/levels/progress as the signed-in player."""
    return page.request.get("/api/levels/progress").json()


def server_level(page: Page, level_id: int) -> dict:
    """The level's entry in GET /api/levels/progress."""
    return next(level for level in server_progress(page)["levels"] if level["level_id"] == level_id)


def server_total(page: Page) -> int:
    """The player's total XP as GET /api/levels/progress reports it."""
    return server_progress(page)["total_xp"]


def catalog_level(page: Page, level_id: int) -> dict:
    """The level's entry in GET /api/levels (max_score, xp_reward...)."""
    levels = page.request.get("/api/levels").json()["levels"]
    return next(level for level in levels if level["level_id"] == level_id)


def expect_perfect_run_awarded(page: Page, level_id: int, answer: Response) -> int:
    """The page sent the level's max_score (as the catalog API gives it), the result dialog shows
    full marks and no mistakes, and the XP it shows is what the server recorded: its answer to the
    completion, the level's progress, the total and the newest ledger entry. `answer` is what
    submit_completion returned. Returns the XP awarded."""
    max_score = catalog_level(page, level_id)["max_score"]
    sent = answer.request.post_data_json
    assert sent["level_id"] == level_id
    assert sent["score"] == max_score
    result = page.get_by_test_id("result")
    expect(result).to_contain_text(f"Score {max_score} of {max_score}")
    expect(result).to_contain_text("0 mistakes")
    xp = awarded_xp(page)
    assert xp > 0
    recorded = answer.json()
    assert recorded["awarded_xp"] == xp
    level = server_level(page, level_id)
    assert level["completed"] is True
    assert level["best_score"] == max_score
    assert level["xp_earned"] == xp
    assert server_total(page) == recorded["new_total_xp"] == xp
    newest = page.request.get("/api/xp/history?limit=1").json()["items"][0]
    assert (newest["delta"], newest["balance_after"]) == (xp, xp)
    return xp
