"""A player's completions reach the server exactly once, whatever the network does, and the
progress they read back is the server's."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.play import awarded_xp, server_level, server_total, start_level

LEVEL_1 = "/static/js/simulated-pc/levels/level-1.js"


def play_level_1(page: Page, difficulty: str = "normal") -> None:
    """Start Level 1 and judge every article correctly through the real UI (not submitted)."""
    start_level(page, 1, difficulty)
    page.get_by_test_id("icon-browser").dblclick()
    answers = page.evaluate(
        "async ([url, mode]) => (await import(url)).articlesFor(mode)"
        ".map((a) => ({verdict: a.verdict, reason: a.reason}))",
        [LEVEL_1, difficulty],
    )
    for n, answer in enumerate(answers, start=1):
        page.get_by_test_id(f"verdict-{n}-{answer['verdict']}").click()
        if difficulty != "easy":
            page.get_by_test_id(f"reason-{n}").select_option(answer["reason"])
    page.clock.fast_forward("02:30")  # nobody reads six articles in under a minute


def history(page: Page) -> list[dict]:
    return page.request.get("/api/xp/history?limit=100").json()["items"]


def test_register_play_level_one_and_find_the_same_total_after_a_reload(
    page: Page, levels, screenshot
):
    page.clock.install()
    page.goto("/register")
    page.fill("input[name=username]", "newplayer")
    page.fill("input[name=email]", "newplayer@example.test")
    page.fill("input[name=password]", "a-long-passphrase")
    page.fill("input[name=confirm]", "a-long-passphrase")
    page.click("button[type=submit]")
    page.wait_for_url("**/levels")

    play_level_1(page)
    screenshot(page, "simulated-pc")
    page.get_by_test_id("submit-level").click()
    xp = awarded_xp(page)
    # Perfect, quick and hint-free on normal: base 20 + speed 4 + no hints 10 = 34.0, of the
    # level's best run on hard (20 x 1.2 + 4 + 10 = 38.0); 100 x 34 / 38 = 89.47 -> 89.
    assert xp == 89
    breakdown = page.get_by_test_id("xp-breakdown")
    expect(breakdown).to_be_visible()
    # The rows read the server's words and numbers.
    expect(breakdown.locator("tr[data-term=raw]")).to_contain_text("= 34.0")
    expect(breakdown.locator("tr[data-term=raw_best]")).to_contain_text("Best possible run")
    expect(breakdown.locator("tr[data-term=raw_best]")).to_contain_text("38.0")
    times = "\N{MULTIPLICATION SIGN}"
    expect(breakdown.locator("tr[data-term=scale]")).to_contain_text(f"{times} 2.6316")
    expect(breakdown.locator("tr[data-term=xp]")).to_contain_text("= 89")

    page.goto("/progress")
    page.reload()
    expect(page.get_by_test_id("progress-total-xp")).to_have_text(str(xp))
    expect(page.get_by_test_id("history-row")).to_have_count(1)
    expect(page.get_by_test_id("xp-chart")).to_have_attribute("data-points", "1")
    expect(page.locator("[data-testid=xp-rules] li[data-term=base]")).to_contain_text(
        "10 + score ÷ 100"
    )
    screenshot(page, "progress-page")
    assert server_total(page) == xp


def test_a_completion_sent_while_the_network_is_down_is_recorded_once_after_a_reload(
    signed_in_page: Page,
):
    page = signed_in_page
    page.clock.install()
    attempts = []

    def drop(route):
        attempts.append(route.request.post_data_json["client_event_id"])
        route.abort("internetdisconnected")

    page.route("**/api/levels/complete", drop)
    play_level_1(page)
    page.get_by_test_id("submit-level").click()
    expect(page.get_by_test_id("result")).to_contain_text("Saving your result")
    # The first attempt fails; the completion waits in the outbox with that attempt counted.
    page.wait_for_function(
        """() => Object.entries(localStorage).some(([key, value]) =>
             key.startsWith('cyberquest.outbox')
             && JSON.parse(value).some((entry) => entry.attempts >= 1))"""
    )
    outbox = page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.startsWith('cyberquest.outbox'))"
    )
    assert len(outbox) == 1 and attempts[0] in outbox[0][1]

    page.unroute("**/api/levels/complete")
    with page.expect_response("**/api/levels/complete") as answer:
        page.reload()  # the outbox is sent on the next page load
    assert answer.value.status == 200
    page.wait_for_function(
        """() => Object.entries(localStorage)
             .every(([key, value]) => !key.startsWith('cyberquest.outbox') || value === '[]')"""
    )
    level = server_level(page, 1)
    assert level["completions"] == 1
    assert len(history(page)) == 1
    assert {attempts[0]} == set(attempts)  # every retry carried the same event id


def test_submitting_twice_quickly_awards_once(signed_in_page: Page):
    page = signed_in_page
    page.clock.install()
    play_level_1(page)
    page.get_by_test_id("submit-level").dblclick()
    expect(page.get_by_test_id("awarded-xp")).to_be_visible()
    page.reload()
    level = server_level(page, 1)
    assert level["completions"] == 1
    assert len(history(page)) == 1


def test_with_tracking_off_a_finished_level_sends_nothing(signed_in_page: Page, config_override):
    config_override(ENABLE_SERVER_SIDE_TRACKING=False)
    page = signed_in_page
    page.clock.install()
    sent = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if "/levels/complete" in request.url else None,
    )
    play_level_1(page)
    expect(page.get_by_test_id("local-only-notice")).to_be_visible()
    page.get_by_test_id("submit-level").click()
    expect(page.get_by_test_id("local-only-result")).to_be_visible()
    page.reload()
    assert sent == []
    config_override(ENABLE_SERVER_SIDE_TRACKING=True)
    assert server_total(page) == 0


REPORT_THROUGH_THE_CLIENT = """
async ([userId, levelId, score]) => {
  const module = '/static/js/simulated-pc/levels/completion-client.js';
  const { createCompletionClient } = await import(module);
  const client = createCompletionClient({
    userId, fetch: window.fetch.bind(window), storage: window.localStorage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  const outcome = await client.reportCompletion({
    level_id: levelId, level_type: 'simulation', score, time_spent: 300,
    difficulty: 'hard', metadata: { hints_used: 0, mistakes: 0 },
  });
  return outcome.status;
}
"""


def test_the_progress_page_adds_up_after_all_five_levels(signed_in_page: Page, player):
    page = signed_in_page
    for level_id, score in ((1, 1000), (2, 800), (3, 600), (4, 1000), (5, 1500), (1, 500)):
        status = page.evaluate(REPORT_THROUGH_THE_CLIENT, [player.id, level_id, score])
        assert status == "recorded"
    page.goto("/progress")
    expect(page.get_by_test_id("history-row")).to_have_count(5)  # the worse replay earns nothing
    shown_total = int(page.get_by_test_id("progress-total-xp").inner_text())
    changes = page.get_by_test_id("history-row").evaluate_all(
        "rows => rows.map((row) => Number(row.children[2].textContent))"
    )
    assert sum(changes) == shown_total == server_total(page)
    expect(page.get_by_test_id("completed-levels")).to_have_text("5")
