"""Level 2, Shadow in the Inbox, played through the real UI in a browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.play import (
    catalog_level,
    expect_perfect_run_awarded,
    server_level,
    start_level,
    submit_completion,
    submit_level,
)

LEVEL_MODULE = "/static/js/simulated-pc/levels/level-2.js"


def answers(page: Page, difficulty: str) -> list[dict]:
    """The right triage and red flag of each email in the inbox, read from the level module."""
    return page.evaluate(
        """async ([url, difficulty]) => (await import(url)).emailsFor(difficulty)
             .map((e) => ({verdict: e.verdict, flag: e.flag}))""",
        [LEVEL_MODULE, difficulty],
    )


def open_inbox(page: Page) -> None:
    page.get_by_test_id("icon-mail").dblclick()
    expect(page.get_by_test_id("window-mail")).to_be_visible()


def triage(page: Page, n: int, verdict: str, flag: str | None) -> None:
    page.get_by_test_id(f"email-{n}").click()
    page.get_by_test_id(f"triage-{n}-{verdict}").click()
    if flag is not None:
        page.get_by_test_id(f"flag-{n}").select_option(flag)


def triage_all(page: Page, choices: list[dict], with_flag: bool = True) -> None:
    for n, choice in enumerate(choices, start=1):
        triage(page, n, choice["verdict"], choice["flag"] if with_flag else None)


def test_a_perfect_run_scores_full_marks_and_shows_the_xp_the_server_awarded(
    signed_in_page: Page, screenshot
):
    page = signed_in_page
    page.clock.install()
    start_level(page, 2, "normal")
    expect(page.get_by_test_id("briefing")).to_be_visible()
    open_inbox(page)
    right = answers(page, "normal")
    assert len(right) == 8
    assert {"phishing", "legit"} == {a["verdict"] for a in right}
    triage_all(page, right)
    page.get_by_test_id("email-2").click()
    page.get_by_test_id("headers-toggle-2").click()
    page.get_by_test_id("link-2-1").hover()
    screenshot(page, "level-2-playing")

    answer = submit_completion(page)

    expect_perfect_run_awarded(page, 2, answer)
    max_score = catalog_level(page, 2)["max_score"]
    expect(page.get_by_test_id("level-score")).to_contain_text(f"{max_score} / {max_score}")


def test_a_perfect_hard_run_triages_ten_emails(signed_in_page: Page):
    page = signed_in_page
    page.clock.install()
    start_level(page, 2, "hard")
    open_inbox(page)
    right = answers(page, "hard")
    assert len(right) == 10
    assert "reply-to-mismatch" in {a["flag"] for a in right}
    triage_all(page, right)
    expect_perfect_run_awarded(page, 2, submit_completion(page))


def test_reporting_genuine_mail_and_keeping_phishing_both_cost_points(signed_in_page: Page):
    page = signed_in_page
    page.clock.install()
    start_level(page, 2, "normal")
    open_inbox(page)
    choices = answers(page, "normal")
    legit = next(i for i, a in enumerate(choices) if a["verdict"] == "legit")
    phish = [i for i, a in enumerate(choices) if a["verdict"] == "phishing"]
    choices[legit] = {"verdict": "phishing", "flag": "link-mismatch"}
    choices[phish[0]] = {"verdict": "legit", "flag": "none"}
    wrong_flag = "mfa-fatigue" if choices[phish[1]]["flag"] != "mfa-fatigue" else "link-mismatch"
    choices[phish[1]] = {"verdict": "phishing", "flag": wrong_flag}
    triage_all(page, choices)
    submit_level(page)

    # 8 emails x 5 points; two lose 5 points each, one loses its 2 flag points: 28 of 40.
    expect(page.get_by_test_id("result")).to_contain_text("Score 700 of 1000")
    expect(page.get_by_test_id("result")).to_contain_text("3 mistakes")
    expect(page.get_by_test_id("mistakes")).to_have_text("3")
    page.get_by_test_id("result").locator("..").get_by_role("button", name="Close").click()
    page.get_by_test_id(f"email-{legit + 1}").click()
    expect(page.get_by_test_id(f"feedback-{legit + 1}")).to_contain_text("Not quite")
    expect(page.get_by_test_id(f"triage-{legit + 1}-legit")).to_be_disabled()
    assert server_level(page, 2)["best_score"] == 700


def test_submit_stays_disabled_until_every_email_is_triaged_and_flagged(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 2, "normal")
    open_inbox(page)
    submit = page.get_by_test_id("submit-level")
    right = answers(page, "normal")
    expect(submit).to_be_disabled()
    triage_all(page, right[:-1])
    expect(submit).to_be_disabled()
    last = len(right)
    triage(page, last, "phishing", None)
    expect(submit).to_be_disabled()  # reported, but no red flag named yet
    page.get_by_test_id(f"flag-{last}").select_option(right[-1]["flag"])
    expect(submit).to_be_enabled()
    expect(page.get_by_test_id("triaged-count")).to_have_text(f"{last} of {last} triaged")


def test_easy_mode_asks_only_for_triage_and_shows_link_targets(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 2, "easy")
    open_inbox(page)
    right = answers(page, "easy")
    page.get_by_test_id("email-2").click()
    expect(page.get_by_test_id("flag-2")).to_have_count(0)
    expect(page.get_by_test_id("message-2")).to_contain_text("mail-storage-verify.test")
    expect(page.get_by_test_id("external-banner")).to_be_visible()
    submit = page.get_by_test_id("submit-level")
    triage_all(page, right[:-1], with_flag=False)
    expect(submit).to_be_disabled()
    triage(page, len(right), right[-1]["verdict"], None)
    expect(submit).to_be_enabled()


def test_inspecting_an_email_reveals_link_targets_headers_and_attachments(
    signed_in_page: Page,
):
    page = signed_in_page
    start_level(page, 2, "hard")
    open_inbox(page)
    page.get_by_test_id("email-2").click()
    page.get_by_test_id("link-2-1").hover()
    expect(page.get_by_test_id("link-target")).to_contain_text(
        "larkspur-logistics.example.mail-storage-verify.test"
    )
    page.get_by_test_id("email-9").click()
    expect(page.get_by_test_id("sender-address-9")).to_be_hidden()  # hard hides it
    page.get_by_test_id("headers-toggle-9").click()
    expect(page.get_by_test_id("headers-9")).to_contain_text(
        "Reply-To: <jordan.lee.finance@freemail.test>"
    )
    expect(page.get_by_test_id("headers-9")).to_contain_text("dmarc=fail")
    page.get_by_test_id("email-5").click()
    page.get_by_test_id("attachment-5-1").click()
    expect(page.get_by_test_id("attachment-details-5-1")).to_contain_text("Windows application")


def test_the_hint_fits_the_email_that_is_open(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 2, "normal")
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("Mail")
    open_inbox(page)
    page.get_by_test_id("email-5").click()
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("attachment")
    expect(page.get_by_test_id("hints-used")).to_have_text("2")
