"""Level 1, The Misinformation Maze, played through the real UI in a browser."""

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

LEVEL_MODULE = "/static/js/simulated-pc/levels/level-1.js"


def answers(page: Page, difficulty: str) -> list[dict]:
    """The right verdict and reason of each article in the feed, read from the level module."""
    return page.evaluate(
        """async ([url, difficulty]) => (await import(url)).articlesFor(difficulty)
             .map((a) => ({verdict: a.verdict, reason: a.reason}))""",
        [LEVEL_MODULE, difficulty],
    )


def open_feed(page: Page) -> None:
    page.get_by_test_id("icon-browser").dblclick()
    expect(page.get_by_test_id("window-browser")).to_be_visible()


def judge(page: Page, n: int, verdict: str, reason: str | None) -> None:
    page.get_by_test_id(f"verdict-{n}-{verdict}").click()
    if reason is not None:
        page.get_by_test_id(f"reason-{n}").select_option(reason)


def judge_all(page: Page, choices: list[dict], with_reason: bool = True) -> None:
    for n, choice in enumerate(choices, start=1):
        expect(page.get_by_test_id(f"article-{n}")).to_be_visible()
        judge(page, n, choice["verdict"], choice["reason"] if with_reason else None)


def flipped(verdict: str) -> str:
    return "misleading" if verdict == "credible" else "credible"


def test_a_perfect_run_scores_full_marks_and_shows_the_xp_the_server_awarded(
    signed_in_page: Page, screenshot
):
    page = signed_in_page
    page.clock.install()
    start_level(page, 1, "normal")
    expect(page.get_by_test_id("briefing")).to_be_visible()
    open_feed(page)
    right = answers(page, "normal")
    assert len(right) == 6
    judge_all(page, right)
    page.get_by_test_id("article-3").scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    screenshot(page, "level-1-playing")

    answer = submit_completion(page)

    expect_perfect_run_awarded(page, 1, answer)
    max_score = catalog_level(page, 1)["max_score"]
    expect(page.get_by_test_id("level-score")).to_contain_text(f"{max_score} / {max_score}")


def test_a_perfect_hard_run_judges_eight_articles_including_an_impostor_site(
    signed_in_page: Page,
):
    page = signed_in_page
    page.clock.install()
    start_level(page, 1, "hard")
    open_feed(page)
    right = answers(page, "hard")
    assert len(right) == 8
    assert "impostor-outlet" in {a["reason"] for a in right}
    judge_all(page, right)
    expect_perfect_run_awarded(page, 1, submit_completion(page))


def test_wrong_choices_score_less_count_mistakes_and_explain_the_answers(signed_in_page: Page):
    page = signed_in_page
    page.clock.install()
    start_level(page, 1, "normal")
    open_feed(page)
    choices = answers(page, "normal")
    # Two wrong verdicts and one right verdict with the wrong reason.
    for n in (1, 2):
        wrong = flipped(choices[n - 1]["verdict"])
        choices[n - 1] = {
            "verdict": wrong,
            "reason": "satire" if wrong == "misleading" else "credible",
        }
    assert choices[2]["reason"] != "satire"
    choices[2] = {"verdict": choices[2]["verdict"], "reason": "satire"}
    judge_all(page, choices)
    submit_level(page)

    # 6 articles x 5 points; two lose 5 points each, one loses its 2 reason points: 18 of 30.
    expect(page.get_by_test_id("result")).to_contain_text("Score 600 of 1000")
    expect(page.get_by_test_id("result")).to_contain_text("3 mistakes")
    expect(page.get_by_test_id("mistakes")).to_have_text("3")
    page.get_by_test_id("result").locator("..").get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("feedback-1")).to_contain_text("Not quite")
    expect(page.get_by_test_id("feedback-4")).to_contain_text("Correct")
    assert server_level(page, 1)["best_score"] == 600


def test_submit_stays_disabled_until_every_article_has_a_verdict_and_a_reason(
    signed_in_page: Page,
):
    page = signed_in_page
    start_level(page, 1, "normal")
    open_feed(page)
    submit = page.get_by_test_id("submit-level")
    right = answers(page, "normal")
    expect(submit).to_be_disabled()
    judge_all(page, right[:-1])
    expect(submit).to_be_disabled()
    last = len(right)
    misleading = next(n for n, a in enumerate(right, 1) if a["verdict"] == "misleading")
    page.get_by_test_id(f"reason-{misleading}").select_option("")
    page.get_by_test_id(f"verdict-{last}-misleading").click()
    expect(submit).to_be_disabled()  # two reasons missing
    page.get_by_test_id(f"reason-{misleading}").select_option(right[misleading - 1]["reason"])
    expect(submit).to_be_disabled()  # the last article still has no reason
    page.get_by_test_id(f"reason-{last}").select_option("satire")
    expect(submit).to_be_enabled()


def test_easy_mode_asks_only_for_verdicts_and_shows_tool_tips(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 1, "easy")
    open_feed(page)
    right = answers(page, "easy")
    expect(page.get_by_test_id("reason-1")).to_have_count(0)
    expect(page.get_by_test_id("tip-1")).to_be_visible()
    submit = page.get_by_test_id("submit-level")
    judge_all(page, right[:-1], with_reason=False)
    expect(submit).to_be_disabled()
    judge(page, len(right), right[-1]["verdict"], None)
    expect(submit).to_be_enabled()


def test_the_tools_reveal_what_the_articles_hide(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 1, "hard")
    page.get_by_test_id("icon-whois").dblclick()
    page.get_by_test_id("whois-query").fill("https://brackton-ledger-news.example/fee")
    page.get_by_test_id("whois-search").click()
    expect(page.get_by_test_id("whois-result")).to_contain_text("2025-06-08")

    page.get_by_test_id("icon-source-lookup").dblclick()
    page.get_by_test_id("source-query").fill("bracktonbugle.example")
    page.get_by_test_id("source-search").click()
    expect(page.get_by_test_id("source-results")).to_contain_text("Everything here is made up")

    page.get_by_test_id("icon-fact-check").dblclick()
    page.get_by_test_id("check-nowfeed-fish-image").click()
    expect(page.get_by_test_id("check-result-nowfeed-fish-image")).to_contain_text("2017")


def test_the_hint_points_at_the_first_article_still_to_judge(signed_in_page: Page):
    page = signed_in_page
    start_level(page, 1, "normal")
    open_feed(page)
    right = answers(page, "normal")
    judge(page, 1, right[0]["verdict"], right[0]["reason"])
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("Article 2")
    expect(page.get_by_test_id("hints-used")).to_have_text("1")
