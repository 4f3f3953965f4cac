"""Browser tests: the app served on a loopback port, driven by headless Chromium (Debian's
package, through Playwright). Screenshots go to test-artifacts/."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without these, Chromium tries to reach outside services at start, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium reports each violation of the page's Content-Security-Policy as a console error
# that names the policy (a blocked script, style attribute, image, frame or connection).
CSP_VIOLATION_MARK = "Content Security Policy"


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served for real on 127.0.0.1 (a free port), threaded like a dev server."""
    # One access line per static file would drown the test report; failures still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture()
def context(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def is_csp_violation(message: ConsoleMessage) -> bool:
    return message.type == "error" and CSP_VIOLATION_MARK in message.text


@pytest.fixture()
def csp_violations(context) -> list[str]:
    """What Chromium refused under the Content-Security-Policy, on every page of the context."""
    violations: list[str] = []
    context.on(
        "console",
        lambda message: violations.append(message.text) if is_csp_violation(message) else None,
    )
    return violations


@pytest.fixture()
def page(context, csp_violations) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.wait_for_timeout(100)  # deliver what the browser reported as the test ended
    assert errors == [], f"JavaScript errors on the page: {errors}"
    assert csp_violations == [], f"Content-Security-Policy violations: {csp_violations}"


@pytest.fixture()
def signed_in_page(app, page, levels, player) -> Page:
    """A player signed in through the real login form, with the catalog loaded."""
    page.goto("/login")
    page.fill("input[name=login]", player.username)
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/levels")
    return page


@pytest.fixture()
def screenshot():
    """Save a screenshot of the page under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
