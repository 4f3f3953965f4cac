"""Level 5, The Hunt for The Null: tag evidence on a compromised server, then file the case
report. Played through the real UI in headless Chromium; the right answers come from the
level module's own exports."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.play import (
    awarded_xp,
    catalog_level,
    expect_perfect_run_awarded,
    server_level,
    start_level,
    submit_completion,
    submit_level,
)

LEVEL_ID = 5
MODULE = "/static/js/simulated-pc/levels/level-5.js"


def level_data(page: Page, difficulty: str) -> dict:
    """EVIDENCE, REPORT_QUESTIONS and the hidden-file layout as the module exports them."""
    return page.evaluate(
        """async ([url, difficulty]) => {
            const m = await import(url);
            return {
                evidence: m.evidenceFor(difficulty),
                questions: m.REPORT_QUESTIONS,
                files: m.filesFor(difficulty).map((f) => ({ id: f.id, path: f.path })),
            };
        }""",
        [MODULE, difficulty],
    )


def begin(page: Page, difficulty: str = "normal") -> dict:
    """Open level 5 with a fake clock, close the briefing and show hidden files."""
    page.clock.install()
    start_level(page, LEVEL_ID, difficulty)
    expect(page.get_by_test_id("window-briefing")).to_be_visible()
    page.get_by_test_id("briefing-start").click()
    expect(page.get_by_test_id("window-files")).to_be_visible()
    toggle = page.get_by_test_id("toggle-hidden")
    if not toggle.is_checked():
        toggle.check()
    return level_data(page, difficulty)


def open_file(page: Page, file_id: str) -> None:
    page.get_by_test_id(f"file-{file_id}").dblclick()
    expect(page.get_by_test_id("window-viewer")).to_be_visible()


def tag(page: Page, evidence_id: str, category: str) -> None:
    page.get_by_test_id(f"category-{evidence_id}").select_option(category)
    page.get_by_test_id(f"tag-{evidence_id}").click()
    expect(page.get_by_test_id(f"locker-{evidence_id}")).to_be_visible()


def tag_all(page: Page, tags: dict[str, str], evidence: list[dict]) -> None:
    """Open each file once and tag the chosen items in it."""
    by_file: dict[str, list[str]] = {}
    for item in evidence:
        if item["id"] in tags:
            by_file.setdefault(item["file"], []).append(item["id"])
    for file_id, ids in by_file.items():
        open_file(page, file_id)
        for evidence_id in ids:
            tag(page, evidence_id, tags[evidence_id])


def answer_report(page: Page, answers: dict[str, str]) -> None:
    page.get_by_test_id("icon-report").dblclick()
    for question_id, option_id in answers.items():
        page.get_by_test_id(f"report-{question_id}").select_option(option_id)


def perfect_choices(data: dict) -> tuple[dict, dict]:
    tags = {e["id"]: e["category"] for e in data["evidence"] if not e["decoy"]}
    answers = {q["id"]: q["answer"] for q in data["questions"]}
    return tags, answers


def test_perfect_case_file_scores_full_marks_and_shows_the_xp_the_server_awarded(
    signed_in_page, screenshot
):
    page = signed_in_page
    data = begin(page)
    tags, answers = perfect_choices(data)
    tag_all(page, tags, data["evidence"])
    screenshot(page, "level-5-playing")
    answer_report(page, answers)
    expect(page.get_by_test_id("submit-level")).to_be_enabled()
    answer = submit_completion(page)

    expect_perfect_run_awarded(page, LEVEL_ID, answer)
    max_score = catalog_level(page, LEVEL_ID)["max_score"]
    feedback = page.get_by_test_id("feedback")
    expect(feedback).to_contain_text(f"Score {max_score} of {max_score}")
    expect(page.get_by_test_id("feedback-decoys")).to_have_count(0)


def test_innocent_items_wrong_categories_and_wrong_answers_cost_points_and_count_as_mistakes(
    signed_in_page, screenshot
):
    page = signed_in_page
    data = begin(page)
    tags, answers = perfect_choices(data)
    tags["auth-mara-accepted"] = "initial-access"  # Mara's own login: innocent
    tags["nullpdf"] = "attribution"  # "Null" in a file name is not attribution
    tags["archive"] = "persistence"  # real evidence, wrong category
    answers["entry"] = "web-shell"  # the web shell came after the SSH break-in
    tag_all(page, tags, data["evidence"])
    answer_report(page, answers)
    submit_level(page)
    expect(page.get_by_test_id("awarded-xp")).to_be_visible()

    # Level 5's max_score is 1500, its own points too. 16 of the 17 exhibits with the right
    # category, two innocent items, four of five answers: 900 x 16/17 - 2 x 75 + 4 x 120
    # = 847.06 - 150 + 480 = 1177.06, rounded 1177.
    result = page.get_by_test_id("result")
    expect(result).to_contain_text("Score 1177 of 1500")
    expect(result).to_contain_text("4 mistakes")
    expect(page.get_by_test_id("mistakes")).to_have_text("4")
    assert awarded_xp(page) == server_level(page, LEVEL_ID)["xp_earned"]
    screenshot(page, "level-5-result")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("result")).to_be_hidden()
    screenshot(page, "level-5-feedback")
    expect(page.get_by_test_id("feedback-decoys")).to_contain_text("Null-Pointer")
    expect(page.get_by_test_id("feedback-wrong-category")).to_contain_text("q1_clients.tar.gz")
    expect(page.get_by_test_id("feedback-entry")).to_have_attribute("data-correct", "false")
    expect(page.get_by_test_id("feedback-entry")).to_contain_text("Right answer")


def test_submit_stays_disabled_until_every_question_is_answered_and_each_category_has_an_exhibit(
    signed_in_page,
):
    page = signed_in_page
    data = begin(page)
    _, answers = perfect_choices(data)
    page.get_by_test_id("icon-report").dblclick()
    submit_button = page.get_by_test_id("submit-level")
    expect(submit_button).to_be_disabled()

    answer_report(page, answers)
    expect(submit_button).to_be_disabled()
    expect(page.get_by_test_id("submit-status")).to_contain_text("Exfiltration")

    page.get_by_test_id("window-report").locator(".btn-close").click()
    one_per_category = {
        "auth-deploy-accepted": "initial-access",
        "cron-sessionclean2": "persistence",
        "archive": "exfiltration",
        "note": "attribution",
    }
    tag_all(page, one_per_category, data["evidence"])
    page.get_by_test_id("icon-report").dblclick()
    expect(submit_button).to_be_enabled()

    page.get_by_test_id("untag-note").click()
    expect(submit_button).to_be_disabled()
    expect(page.get_by_test_id("submit-status")).to_contain_text("Attribution")


def test_tag_button_is_disabled_until_a_category_is_chosen(signed_in_page):
    page = signed_in_page
    begin(page)
    open_file(page, "auth-log")
    expect(page.get_by_test_id("tag-auth-deploy-accepted")).to_be_disabled()
    page.get_by_test_id("category-auth-deploy-accepted").select_option("initial-access")
    expect(page.get_by_test_id("tag-auth-deploy-accepted")).to_be_enabled()


def test_hidden_files_appear_only_after_show_hidden_files_is_switched_on(signed_in_page):
    page = signed_in_page
    page.clock.install()
    start_level(page, LEVEL_ID)
    page.get_by_test_id("briefing-start").click()
    expect(page.get_by_test_id("file-archive")).to_have_count(0)
    expect(page.get_by_test_id("file-root-history")).to_have_count(0)
    page.get_by_test_id("toggle-hidden").check()
    expect(page.get_by_test_id("file-archive")).to_be_visible()
    expect(page.get_by_test_id("file-root-history")).to_be_visible()


def test_hard_mode_mixes_time_zones_and_explains_them_in_the_briefing(signed_in_page, screenshot):
    page = signed_in_page
    page.clock.install()
    start_level(page, LEVEL_ID, "hard")
    screenshot(page, "level-5-hard-briefing")
    expect(page.get_by_test_id("timezone-note")).to_contain_text("UTC")
    expect(page.get_by_test_id("timezone-note")).to_contain_text("subtract the offset")
    page.get_by_test_id("briefing-start").click()
    page.get_by_test_id("toggle-hidden").check()
    open_file(page, "access-log")
    expect(page.get_by_test_id("line-web-shell-upload")).to_contain_text(
        "13/Mar/2025:22:19:07 -0400"
    )
    open_file(page, "sync-log")
    expect(page.get_by_test_id("line-sync-upload-ok")).to_contain_text("11:38:12 +0900")
    open_file(page, "auth-log")
    screenshot(page, "level-5-hard-log")
    expect(page.get_by_test_id("file-ufw-log")).to_be_visible()


def test_easy_mode_stars_the_files_that_hold_evidence(signed_in_page):
    page = signed_in_page
    page.clock.install()
    start_level(page, LEVEL_ID, "easy")
    page.get_by_test_id("briefing-start").click()
    expect(page.get_by_test_id("file-auth-log")).to_have_class(re.compile("l5-key"))
    expect(page.get_by_test_id("file-archive")).to_have_class(re.compile("l5-key"))
    expect(page.get_by_test_id("file-rota")).not_to_have_class(re.compile("l5-key"))


def test_hint_points_to_the_next_missing_category(signed_in_page):
    page = signed_in_page
    data = begin(page)
    tag_all(page, {"auth-deploy-accepted": "initial-access"}, data["evidence"])
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("cron.d")
    expect(page.get_by_test_id("hints-used")).to_have_text("1")
