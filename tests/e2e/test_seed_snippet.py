"""The seed design note's plain fetch snippet works unchanged from a signed-in page."""

SEED_SNIPPET = """
async () => {
  const payload = {
    level_id: 2,
    level_type: 'simulation',
    score: 850,
    time_spent: 300,
    difficulty: 'normal',
    metadata: { hints_used: 0, mistakes: 1 },
    client_event_id: crypto.randomUUID()
  };
  const data = await fetch('/api/levels/complete', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
    credentials: 'include'
  }).then(r => r.json());
  return data;
}
"""


def test_the_seed_fetch_snippet_is_accepted_from_a_signed_in_page(signed_in_page):
    data = signed_in_page.evaluate(SEED_SNIPPET)
    assert data["success"] is True
    assert data["is_new_completion"] is True
    # 18 + 3.6 + 10 = 31.6 of level 2's best 38.0, scaled to its 150: 4740 / 38 = 124.7 -> 125.
    assert data["awarded_xp"] == 125
    assert data["level"]["name"] == "Shadow in the Inbox"
    progress = signed_in_page.request.get("/api/levels/progress").json()
    assert progress["total_xp"] == 125


def test_a_page_on_another_origin_cannot_post_with_the_players_cookie(signed_in_page, live_server):
    # Another origin serving a page of its own: without our Content-Security-Policy, which
    # would stop the fetch before the browser even asks the server.
    other = live_server.replace("127.0.0.1", "localhost")
    signed_in_page.route(
        other + "/",
        lambda route: route.fulfill(content_type="text/html", body="<!doctype html><p>elsewhere"),
    )
    signed_in_page.goto(other + "/")
    outcome = signed_in_page.evaluate(
        """async (target) => {
          try {
            const r = await fetch(target + '/api/levels/complete', {
              method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({level_id: 1, score: 900, time_spent: 300}),
              credentials: 'include'});
            return 'status ' + r.status;
          } catch (e) { return 'blocked'; }
        }""",
        live_server,
    )
    assert outcome == "blocked"  # no CORS grant: the browser refuses the preflight
    assert signed_in_page.request.get(live_server + "/api/levels/progress").json()["total_xp"] == 0
