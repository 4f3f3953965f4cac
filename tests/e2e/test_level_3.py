"""Level 3 (Malware Mayhem) played in a real browser: inspect the workstation's processes in the
simulated Task Manager, isolate the malware, leave everything else running, submit."""

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

LEVEL_ID = 3
MODULE = "/static/js/simulated-pc/levels/level-3.js"


def shown_processes(page: Page, difficulty: str) -> list[dict]:
    """The level's own answer data (PROCESSES), as shown on this difficulty."""
    return page.evaluate(
        "async ([url, mode]) => { const m = await import(url);"
        " return m.forDifficulty(m.PROCESSES, mode); }",
        [MODULE, difficulty],
    )


def open_task_manager(page: Page, difficulty: str = "normal") -> list[dict]:
    page.clock.install()
    start_level(page, LEVEL_ID, difficulty)
    expect(page.get_by_test_id("window-briefing")).to_be_visible()
    page.get_by_test_id("briefing-start").click()
    page.get_by_test_id("icon-task-manager").dblclick()
    expect(page.get_by_test_id("window-task-manager")).to_be_visible()
    return shown_processes(page, difficulty)


def inspect_all(page: Page, processes: list[dict]) -> None:
    for process in processes:
        page.get_by_test_id(f"inspect-{process['pid']}").click()
        expect(page.get_by_test_id(f"detail-{process['pid']}")).to_be_visible()


def test_a_perfect_investigation_scores_full_marks_and_earns_the_awarded_xp(
    signed_in_page, screenshot
):
    page = signed_in_page
    processes = open_task_manager(page)
    assert len(processes) == 12
    page.get_by_test_id("open-security-log").click()
    expect(page.get_by_test_id("security-log-table")).to_contain_text("203.0.113.47:8443")
    page.get_by_test_id("window-security-log").get_by_role("button", name="Close").click()

    inspect_all(page, processes)
    for process in processes:
        if process["malicious"]:
            page.get_by_test_id(f"isolate-{process['pid']}").click()
            expect(page.get_by_test_id(f"status-{process['pid']}")).to_contain_text("Isolated")
    page.get_by_test_id("inspect-7712").click()
    screenshot(page, "level-3-playing")

    answer = submit_completion(page)
    expect_perfect_run_awarded(page, LEVEL_ID, answer)


def test_isolating_the_wrong_processes_scores_less_and_counts_mistakes(signed_in_page):
    page = signed_in_page
    processes = open_task_manager(page)
    inspect_all(page, processes)
    page.get_by_test_id("isolate-7712").click()  # fake svchost: right
    page.get_by_test_id("isolate-8120").click()  # crypto-miner: right
    page.get_by_test_id("isolate-4410").click()  # the backup agent: busy but legitimate
    page.get_by_test_id("isolate-748").click()  # lsass.exe: critical, Windows refuses
    expect(page.get_by_test_id("mistakes")).to_have_text("1")
    expect(page.get_by_test_id("status-748")).to_contain_text("Running")
    # The keylogger (6604) is left running.

    submit_level(page)
    # 1000 x 2/3 for the malware - 150 for the isolated backup agent - 200 for the lsass attempt
    expect(page.get_by_test_id("result")).to_contain_text("Score 317 of 1000")
    expect(page.get_by_test_id("mistakes")).to_have_text("3")
    expect(page.get_by_test_id("verdict-6604")).to_have_text("Malware — missed")
    expect(page.get_by_test_id("verdict-4410")).to_have_text("Legitimate — wrongly isolated")
    expect(page.get_by_test_id("feedback-6604")).to_contain_text("keylogger")
    xp = awarded_xp(page)
    level = server_level(page, LEVEL_ID)
    assert level["best_score"] == 317
    assert level["xp_earned"] == xp


def test_submit_stays_disabled_until_every_process_is_inspected(signed_in_page):
    page = signed_in_page
    processes = open_task_manager(page)
    submit_button = page.get_by_test_id("submit-level")
    expect(submit_button).to_be_disabled()
    inspect_all(page, processes[:-1])
    expect(submit_button).to_be_disabled()
    expect(page.get_by_test_id("review-progress")).to_contain_text("inspect 1 more")
    inspect_all(page, processes[-1:])
    expect(submit_button).to_be_enabled()


def test_hard_mode_hides_the_publisher_column_and_adds_a_disguised_process(signed_in_page):
    page = signed_in_page
    processes = open_task_manager(page, "hard")
    assert len(processes) == 14
    expect(page.get_by_test_id("process-table")).not_to_contain_text("Publisher")
    expect(page.get_by_test_id("process-9344")).to_contain_text("RuntimeBroker.exe")
    page.get_by_test_id("inspect-9344").click()
    expect(page.get_by_test_id("detail-9344")).to_contain_text("does NOT verify")


def test_easy_mode_adds_analyst_notes_to_the_process_details(signed_in_page):
    page = signed_in_page
    open_task_manager(page, "easy")
    page.get_by_test_id("inspect-8120").click()
    expect(page.get_by_test_id("analyst-notes")).to_contain_text("mining pool")


def test_the_hint_points_at_a_legitimate_process_the_player_isolated(signed_in_page):
    page = signed_in_page
    open_task_manager(page)
    page.get_by_test_id("isolate-4410").click()
    page.get_by_test_id("hint-button").click()
    expect(page.get_by_test_id("hint-text")).to_contain_text("BluefinBackup.exe")
    expect(page.get_by_test_id("hints-used")).to_have_text("1")
