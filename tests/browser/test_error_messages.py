"""The pages show the server's reasons, in the reader's language: a refused upload in the console
says why it was refused (not "network or server error") and offers no pointless Retry; an ask
that is refused or throttled says so in words in the chat (not "[object Object]")."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _zip_named_pdf(tmp_path: Path) -> Path:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    path = tmp_path / "report.pdf"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    ("locale", "reason"),
    [("en-US", "its content is a ZIP archive"), ("zh-CN", "内容是 ZIP 压缩包")],
)
def test_a_refused_upload_shows_the_servers_reason(
    live_server, admin_user, page_factory, screenshot, tmp_path, locale, reason
):
    page = page_factory(locale=locale)
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/console/")
    page.wait_for_load_state()
    page.set_input_files("#file-input", str(_zip_named_pdf(tmp_path)))
    item = page.locator("#uploads .upload.failed").first
    item.wait_for()
    screenshot(page, f"refused-upload-{locale}")
    assert reason in item.locator(".detail").inner_text()
    assert item.locator(".retry").count() == 0  # the same file would be refused again
    assert not item.locator("progress").is_visible()  # no full bar that looks like success


def test_a_throttled_or_refused_ask_says_why_in_the_chat(
    live_server, admin_user, page_factory, screenshot, settings, isolated_index
):
    settings.KBQA_API_RATES = {"api": "100000/min", "ask": "1/min"}
    page = page_factory()
    log_in(page, live_server.url, admin_user.username)
    page.fill("#question", "When does the cafeteria open?")
    page.keyboard.press("Enter")
    page.locator(".answer[data-message]").wait_for()  # nothing indexed: refused at once
    page.fill("#question", "And on weekends?")
    page.keyboard.press("Enter")
    note = page.locator(".answer.failed .error").last
    note.wait_for()
    screenshot(page, "throttled")
    assert "Too many requests; please wait" in note.inner_text()
    assert "object" not in note.inner_text()

    settings.KBQA_API_RATES = {"api": "100000/min", "ask": "100000/min"}
    page.evaluate("document.getElementById('question').removeAttribute('maxlength')")
    page.fill("#question", "why " * 600)
    page.keyboard.press("Enter")
    note = page.locator(".answer.failed .error").nth(1)
    note.wait_for()
    screenshot(page, "refused-question")
    assert "question" in note.inner_text() and "2000" in note.inner_text()
