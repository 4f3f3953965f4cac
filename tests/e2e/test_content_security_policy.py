"""Every page is served with the Content-Security-Policy and keeps to it in a real browser; a
page that breaks it is caught."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import is_csp_violation
from tests.e2e.play import start_level

PLAYER_PAGES = [
    "/levels",
    "/play/1",
    "/progress",
    "/leaderboard",
    "/leaderboard?period=week",
    "/account",
    "/account/password",
    "/",
]
ANONYMOUS_PAGES = ["/", "/login", "/register", "/leaderboard"]

INLINE_SCRIPT = """() => {
  const script = document.createElement('script');
  script.textContent = 'window.injectedScriptRan = true;';
  document.body.append(script);
}"""
INLINE_STYLE = """() => {
  const box = document.createElement('div');
  box.innerHTML = '<span style="color: red">injected</span>';
  document.body.append(box);
}"""


def visit(page: Page, path: str) -> None:
    """Open a page, check it was served with the policy, and let its scripts and fetches settle."""
    response = page.goto(path)
    assert response.ok, f"{path}: HTTP {response.status}"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("inject", [INLINE_SCRIPT, INLINE_STYLE], ids=["script", "style"])
def test_a_violation_on_a_page_is_collected(page: Page, csp_violations, inject):
    visit(page, "/")
    with page.expect_console_message(is_csp_violation):
        page.evaluate(inject)
    page.wait_for_timeout(100)  # the context's listener sees the same message
    assert any("inline" in violation for violation in csp_violations), csp_violations
    assert page.evaluate("window.injectedScriptRan") is None
    csp_violations.clear()  # seen: the page fixture would otherwise fail this test


def test_every_page_keeps_to_the_policy(signed_in_page: Page, csp_violations):
    page = signed_in_page
    # One completion, so that the progress page draws its history and chart.
    answer = page.request.post(
        "/api/levels/complete",
        data={
            "level_id": 1,
            "score": 850,
            "time_spent": 120,
            "metadata": {"hints_used": 0, "mistakes": 1},
            "client_event_id": str(uuid.uuid4()),
        },
    )
    assert answer.ok, answer.text()

    for path in PLAYER_PAGES:
        visit(page, path)
    start_level(page, 1)
    page.get_by_test_id("icon-browser").dblclick()
    expect(page.get_by_test_id("feed")).to_be_visible()
    visit(page, "/progress")
    expect(page.get_by_test_id("xp-chart")).to_have_attribute("data-points", "1")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_load_state("networkidle")
    for path in ANONYMOUS_PAGES:
        visit(page, path)
    page.wait_for_timeout(100)
    assert csp_violations == []
