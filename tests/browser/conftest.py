"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

No browser is downloaded: Playwright launches /usr/bin/chromium (bin/test installs it with apt when
it is missing); without it these tests skip and say so. Screenshots of each step are written to
`var/test-artifacts/browser/` (named in the README), so a failed run can be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = Path(os.environ.get("KBQA_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "var" / "test-artifacts" / "browser"
PASSWORD = "pw-for-tests"


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    """A headless chromium for one test. Playwright's sync API runs an event loop in the test's
    thread while it lives; Django refuses database access from a thread with a running loop unless
    told it is safe, and it is: the loop only waits for the browser. (Per test, not per session,
    so the loop is gone before the next test's database work.)"""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: bin/test installs it (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_factory(browser, request):
    """New pages in fresh contexts (own cookies and language), closed after the test. What the
    page logs (console messages, script errors, failed requests) goes to `browser.log` beside
    the screenshots, so a failure can be read afterwards."""
    contexts = []
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "browser.log").open("w")

    def make(*, locale: str = "en-US", width: int = 1366, height: int = 860):
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": height}, accept_downloads=True
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: log.write(f"console {m.type}: {m.text}\n"))
        page.on("pageerror", lambda e: log.write(f"page error: {e}\n"))
        page.on("requestfailed", lambda r: log.write(f"request failed: {r.url} {r.failure}\n"))
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and log.write(f"HTTP {r.status}: {r.request.method} {r.url}\n")
            ),
        )
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            if getattr(request.node, "rep_call_failed", False):
                page.screenshot(path=str(folder / "failure.png"))
        context.close()
    log.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Tell fixtures whether the test itself failed (for the failure screenshot)."""
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


@pytest.fixture
def screenshot(request):
    """`screenshot(page, "step")` saves var/test-artifacts/browser/<test>/<nn>-step.png."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    count = 0

    def take(page, step: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    page.wait_for_load_state()  # the chat's script is attached before anything is typed
