"""Level 4 (The White Hat Test) played in a real browser: read the Rules of Engagement, scan
and inspect in-scope hosts from the simulated terminal, rate the findings, disclose responsibly."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.play import (
    awarded_xp,
    expect_perfect_run_awarded,
    server_level,
    start_level,
    submit_completion,
    submit_level,
)

LEVEL_ID = 4
MODULE = "/static/js/simulated-pc/levels/level-4.js"
IN_SCOPE_HOSTS = [
    "www.harborpine.test",
    "admin.harborpine.test",
    "files.harborpine.test",
    "legacy.harborpine.test",
    "mail.harborpine.test",
    "dev.harborpine.test",
]


def answers(page: Page) -> dict:
    """The level's own answer data: FINDINGS and the disclosure choices."""
    return page.evaluate(
        "async (url) => { const m = await import(url); return {findings: m.FINDINGS,"
        " disclosure: m.DISCLOSURE_OPTIONS, data: m.DATA_HANDLING_OPTIONS}; }",
        MODULE,
    )


def open_terminal(page: Page, difficulty: str = "normal") -> None:
    page.clock.install()
    start_level(page, LEVEL_ID, difficulty)
    page.get_by_test_id("briefing-start").click()
    page.get_by_test_id("icon-rules").dblclick()
    expect(page.get_by_test_id("rules-document")).to_contain_text("Out of scope")
    page.get_by_test_id("window-rules").get_by_role("button", name="Close").click()
    page.get_by_test_id("icon-terminal").dblclick()
    expect(page.get_by_test_id("terminal-output")).to_contain_text("type help")


def run(page: Page, command: str) -> None:
    terminal = page.get_by_test_id("terminal-input")
    terminal.fill(command)
    terminal.press("Enter")
    expect(page.get_by_test_id("terminal-output")).to_contain_text(f"$ {command}")


def find(page: Page, findings: list[dict]) -> None:
    for finding in findings:
        run(page, f"inspect {finding['host']} {finding['port']}")
        expect(page.get_by_test_id("terminal-output")).to_contain_text(finding["title"])


def test_a_perfect_engagement_scores_full_marks_and_earns_the_awarded_xp(
    signed_in_page, screenshot
):
    page = signed_in_page
    open_terminal(page)
    data = answers(page)
    run(page, "scope")
    for host in IN_SCOPE_HOSTS:
        run(page, f"scan {host}")
    run(page, "inspect mail.harborpine.test 25")
    expect(page.get_by_test_id("terminal-output")).to_contain_text("Nothing to report")
    find(page, data["findings"])
    screenshot(page, "level-4-playing")

    run(page, "report")
    for finding in data["findings"]:
        page.get_by_test_id(f"severity-{finding['id']}").select_option(finding["severity"])
    correct = next(option for option in data["disclosure"] if option["correct"])
    page.get_by_test_id(f"disclosure-{correct['id']}").check()
    page.get_by_test_id("data-handling-leave-untouched").check()
    answer = submit_completion(page)

    expect_perfect_run_awarded(page, LEVEL_ID, answer)


def test_leaving_scope_and_disclosing_publicly_scores_less_and_counts_mistakes(signed_in_page):
    page = signed_in_page
    open_terminal(page)
    findings = {finding["id"]: finding for finding in answers(page)["findings"]}
    run(page, "scan payments.harborpine.test")
    expect(page.get_by_test_id("terminal-output")).to_contain_text("[SCOPE VIOLATION]")
    expect(page.get_by_test_id("mistakes")).to_have_text("1")
    found = ["admin-default-login", "exposed-backup", "outdated-apache"]  # debug-errors missed
    find(page, [findings[finding_id] for finding_id in found])

    run(page, "report")
    page.get_by_test_id("severity-admin-default-login").select_option("critical")
    page.get_by_test_id("severity-exposed-backup").select_option("medium")  # one step too low
    page.get_by_test_id("severity-outdated-apache").select_option("high")
    page.get_by_test_id("disclosure-public-forum").check()
    page.get_by_test_id("data-handling-leave-untouched").check()
    submit_level(page)

    # 3 findings x 75 + severities 75+30+75 - 150 for the violation + 0 disclosure + 50 data
    expect(page.get_by_test_id("result")).to_contain_text("Score 305 of 1000")
    expect(page.get_by_test_id("mistakes")).to_have_text("3")
    feedback = page.get_by_test_id("level-feedback")
    expect(feedback).to_contain_text("Scope violations: 1")
    expect(page.get_by_test_id("feedback-debug-errors")).to_contain_text("Missed")
    expect(page.get_by_test_id("feedback-exposed-backup")).to_contain_text("Medium → High")
    xp = awarded_xp(page)
    level = server_level(page, LEVEL_ID)
    assert level["best_score"] == 305
    assert level["xp_earned"] == xp


def test_submit_stays_disabled_until_every_report_decision_is_made(signed_in_page):
    page = signed_in_page
    open_terminal(page)
    submit_button = page.get_by_test_id("submit-level")
    run(page, "report")
    expect(submit_button).to_be_disabled()
    expect(page.get_by_test_id("report-status")).to_contain_text("at least one finding")
    page.get_by_test_id("disclosure-private-report").check()
    page.get_by_test_id("data-handling-leave-untouched").check()
    expect(submit_button).to_be_disabled()

    page.get_by_test_id("window-report").get_by_role("button", name="Close").click()
    page.get_by_test_id("terminal-input").click()
    run(page, "inspect admin.harborpine.test 8080")
    run(page, "report")
    expect(page.get_by_test_id("report-status")).to_contain_text("1 severity rating")
    expect(submit_button).to_be_disabled()
    page.get_by_test_id("severity-admin-default-login").select_option("critical")
    expect(submit_button).to_be_enabled()


def test_hard_mode_hides_addresses_and_a_name_resolving_to_the_cdn_is_out_of_scope(
    signed_in_page,
):
    page = signed_in_page
    open_terminal(page, "hard")
    run(page, "resolve checkout.harborpine.test")
    expect(page.get_by_test_id("terminal-output")).to_contain_text(
        "checkout.harborpine.test has address 192.0.2.15"
    )
    expect(page.get_by_test_id("mistakes")).to_have_text("0")
    run(page, "scan static.harborpine.test")
    expect(page.get_by_test_id("terminal-output")).to_contain_text("[SCOPE VIOLATION]")
    expect(page.get_by_test_id("mistakes")).to_have_text("1")


def test_easy_mode_warns_before_an_out_of_scope_scan(signed_in_page):
    page = signed_in_page
    open_terminal(page, "easy")
    run(page, "scan cdn.harborpine.test")
    expect(page.get_by_test_id("terminal-output")).to_contain_text("OUT OF SCOPE")
    expect(page.get_by_test_id("mistakes")).to_have_text("0")
    run(page, "scan cdn.harborpine.test")
    expect(page.get_by_test_id("mistakes")).to_have_text("1")


def test_the_hint_follows_the_players_progress(signed_in_page):
    page = signed_in_page
    page.clock.install()
    start_level(page, LEVEL_ID)
    page.get_by_test_id("briefing-start").click()
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("Rules of Engagement")
    page.get_by_test_id("window-hint").get_by_role("button", name="Close").click()
    page.get_by_test_id("icon-rules").dblclick()
    page.get_by_test_id("window-rules").get_by_role("button", name="Close").click()
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("scan 192.0.2.10")
    expect(page.get_by_test_id("hints-used")).to_have_text("2")
