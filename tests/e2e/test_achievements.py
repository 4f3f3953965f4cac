"""Achievements as a player meets them: a perfect hard run of level 1 earns the level's whole
reward at once, and once the relay and the worker (real processes) have run, the progress page
shows the achievements it unlocked, with a notice the first time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from redis import Redis

from tests.e2e.play import expect_perfect_run_awarded, start_level, submit_completion
from tests.e2e.test_level_1 import answers, judge_all, open_feed

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUE_REDIS = "redis://127.0.0.1:6379/15"  # shared with tests/test_outbox.py, never at once


@pytest.fixture()
def background(app, config_override):
    """run("outbox", "relay", "--once"): a `flask` command as its own process, on the test
    database and a Redis database of the tests' own."""
    config_override(REDIS_URL=QUEUE_REDIS)
    Redis.from_url(QUEUE_REDIS).flushdb()
    factory = (
        "app:create_app('testing', {"
        f"'SQLALCHEMY_DATABASE_URI': {app.config['SQLALCHEMY_DATABASE_URI']!r}, "
        f"'REDIS_URL': {QUEUE_REDIS!r}}})"
    )

    started: list[subprocess.Popen] = []

    def run(*args: str, wait: bool = True) -> str:
        command = [sys.executable, "-m", "flask", "--app", factory, *args]
        if not wait:  # a service left running until the test ends
            started.append(subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL))
            return ""
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    yield run
    for process in started:
        process.terminate()
        process.wait(timeout=30)
    Redis.from_url(QUEUE_REDIS).flushdb()


def achievement(page: Page, key: str):
    return page.locator(f'[data-testid="achievement"][data-key="{key}"]')


def test_a_perfect_hard_run_earns_100_xp_and_then_its_achievements(
    signed_in_page: Page, background, screenshot
):
    page = signed_in_page
    page.clock.install()
    start_level(page, 1, "hard")
    open_feed(page)
    judge_all(page, answers(page, "hard"))
    # Level 1 is worth 100 XP in the catalog: a perfect run on hard, quick and without hints,
    # is the best run there is, so it earns all of it.
    assert expect_perfect_run_awarded(page, 1, submit_completion(page)) == 100

    page.goto("/progress")
    expect(achievement(page, "level-1")).to_have_attribute("data-earned", "false")
    assert "relayed 1 events in all; 0 pending" in background("outbox", "relay", "--once")
    background("worker", "--burst")

    page.goto("/progress")
    for key in ("first-completion", "level-1", "hint-free", "perfect-score", "xp-100"):
        expect(achievement(page, key)).to_have_attribute("data-earned", "true")
    expect(achievement(page, "all-levels")).to_have_attribute("data-earned", "false")
    expect(page.get_by_text("Achievement unlocked: Flawless")).to_be_visible()
    expect(page.get_by_test_id("achievements-count")).to_have_text("5 of 12")
    achievement(page, "level-1").scroll_into_view_if_needed()
    screenshot(page, "achievements")

    page.reload()  # the notice is shown once
    expect(page.get_by_text("Achievement unlocked: Flawless")).to_have_count(0)


def test_with_the_worker_running_the_result_dialog_announces_the_achievements(
    signed_in_page: Page, background
):
    background("outbox", "relay", "--interval", "0.1", wait=False)
    background("worker", wait=False)
    page = signed_in_page
    page.clock.install()
    start_level(page, 1, "hard")
    open_feed(page)
    judge_all(page, answers(page, "hard"))
    submit_completion(page)
    announced = page.get_by_test_id("new-achievement")
    for _ in range(30):  # the dialog looks again each second of the page's clock
        if announced.count():
            break
        page.clock.fast_forward(1000)
        page.wait_for_timeout(500)
    expect(announced.filter(has_text="Achievement unlocked: Flawless")).to_be_visible()
    expect(announced.filter(has_text="Achievement unlocked: First Steps")).to_be_visible()
