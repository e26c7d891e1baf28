"""The whole product in a real browser: an admin uploads a real PDF in the console and watches it
reach indexed (real Celery worker, real embedder), then asks in the chat, sees the answer stream
in, opens a citation and sees the passage highlighted on the PDF page, gives feedback, stops a
second answer, and switches the UI to Chinese. Every step is saved as a screenshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kbqa.chat.models import Message
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A question whose answer is one sentence of page 19 the model can copy. The /media question the
# flow asked before depended on how the pinned 0.5B model weighed the rationale's "/mnt/cdrom"
# against the heading: its answer changed with the prompt and the CPU (CI said "/mnt/cdrom1").
QUESTION = "What is the /mnt directory provided for?"
INGEST_TIMEOUT_MS = 15 * 60_000  # ~150 passages through the bundled embedder on a shared 2-core CI
ANSWER_TIMEOUT_MS = 10 * 60_000


RECORD_STREAMED_TEXT = """
window.streamedText = "";
new MutationObserver(() => {
  const body = document.querySelector(".answer.streaming .body.streamed");
  if (body && body.textContent) window.streamedText = body.textContent;
}).observe(document.getElementById("turns"), {childList: true, subtree: true, characterData: true});
"""


def navigate(page, link: str) -> None:
    """Follow a link and wait for the page's load event: the page's script (deferred) has run by
    then, so what the test types next goes to the script's handlers, not a bare form."""
    with page.expect_navigation():
        page.click(link)
    page.wait_for_load_state()


def test_upload_ask_cite_feedback_stop_and_chinese(
    live_server, redis_worker, admin_user, shared_docs: Path, page_factory, screenshot
):
    base = live_server.url
    page = page_factory()
    page.goto(f"{base}/")
    screenshot(page, "login")
    log_in(page, base, admin_user.username)

    # --- Console: upload and watch the states go by ---------------------------------------------
    navigate(page, ".topnav >> text=Console")
    page.wait_for_selector("#dropzone")
    page.set_input_files("#file-input", str(shared_docs / "en" / "fhs-3.0.pdf"))
    item = page.locator("#uploads .upload").first
    item.locator(".name", has_text="fhs-3.0").wait_for()
    screenshot(page, "upload-started")
    page.wait_for_selector(
        "#uploads .upload.parsing, #uploads .upload.embedding, #uploads .upload.indexed",
        timeout=INGEST_TIMEOUT_MS,
    )
    screenshot(page, "upload-in-progress")
    page.wait_for_selector(
        "#uploads .upload.indexed, #uploads .upload.failed", timeout=INGEST_TIMEOUT_MS
    )
    screenshot(page, "upload-indexed")
    assert "indexed" in item.get_attribute("class"), (item.inner_text(), redis_worker.output())
    assert int(item.locator("progress").get_attribute("value")) == 100

    navigate(page, ".tabs >> text=Documents")
    row = page.locator("#documents tbody tr", has_text="fhs-3.0")
    assert "Indexed" in row.inner_text()
    screenshot(page, "document-list")

    # --- Chat: the answer streams in, then renders with citation chips ------------------------
    navigate(page, ".topnav >> text=Chat")
    # The stream shows each sentence once its citations are checked, so a one-sentence answer is
    # on screen only briefly before the stored answer replaces it: record what it showed.
    page.evaluate(RECORD_STREAMED_TEXT)
    page.fill("#question", QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#stop:visible")
    page.wait_for_selector(
        ".answer.streaming .status:has-text('Writing the answer')", timeout=ANSWER_TIMEOUT_MS
    )
    screenshot(page, "answer-streaming")
    answer = page.locator(".answer[data-message]").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    screenshot(page, "answer-done")
    streamed = page.evaluate("window.streamedText")
    assert streamed.strip(), "no text was shown while the answer was written"
    # What was streamed is the final answer, citation numbers included.
    assert (
        streamed.strip()
        == Message.objects.get(pk=int(answer.get_attribute("data-message"))).content
    )
    assert "refused" not in answer.get_attribute("class"), answer.inner_text()
    assert "temporar" in answer.locator(".body").inner_text()
    assert re.search(r"/c/\d+/$", page.url), page.url  # the new conversation has its address
    assert page.locator("#conversation-list .conv.current").count() == 1

    # --- Source viewer: the passage on page 19, highlighted in the text and on the page -------
    chip = answer.locator(".sources .source-link", has_text="p. 19").first
    chip.click()
    passage = page.locator("#source-panel #passage")
    passage.wait_for()
    assert "temporarily mount a filesystem" in passage.inner_text()
    assert "page 19" in page.locator("#source-panel .meta").inner_text()
    image = page.locator("#source-panel .pdf-page img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert page.locator("#source-panel .pdf-page .box").count() > 0
    screenshot(page, "source-viewer")
    with page.expect_download() as download:
        page.click("#source-panel a.download")
    assert download.value.suggested_filename.endswith(".pdf")
    page.keyboard.press("Escape")
    assert page.locator("#source-panel").is_hidden()

    # --- Feedback: thumbs down with a comment, stored with the message ------------------------
    answer.locator('.vote[data-rating="-1"]').click()
    answer.locator(".comment-form textarea").fill("Should also say what not to put there.")
    answer.locator(".comment-form button[type=submit]").click()
    page.wait_for_function(
        "el => el.textContent.trim().length > 0",
        arg=answer.locator(".feedback-status").element_handle(),
    )
    screenshot(page, "feedback")
    message = Message.objects.get(pk=int(answer.get_attribute("data-message")))
    assert (message.rating, message.feedback_comment) == (
        -1,
        "Should also say what not to put there.",
    )

    # --- Overview: the voted-down question is there for the admins -----------------------------
    conversation_url = page.url
    navigate(page, ".topnav >> text=Console")
    navigate(page, ".tabs >> text=Overview")
    flagged = page.locator("#flagged tbody").inner_text()
    assert QUESTION in flagged and "Should also say what not to put there." in flagged
    assert page.locator("#total-documents").inner_text() == "1"
    screenshot(page, "overview")
    page.goto(conversation_url)

    # --- Stop generation: the second answer is cut off, the page stays usable ------------------
    # The stream shows sentences once their citations are checked; the model is at work from the
    # moment the sources arrive ("Writing the answer…").
    page.fill("#question", "What is /tmp used for?")
    page.keyboard.press("Enter")
    page.wait_for_selector(
        ".answer.streaming .status:has-text('Writing the answer')", timeout=ANSWER_TIMEOUT_MS
    )
    page.click("#stop")
    page.wait_for_selector(".answer.stopped .stopped-note")
    assert page.locator("#send").is_visible()
    screenshot(page, "stopped")

    # --- Chinese UI: the same conversation, then a new one answered after the stop -----------
    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    page.wait_for_load_state()
    page.wait_for_selector("text=新对话")
    assert page.url == conversation_url  # the switch keeps the user where they were
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#send").inner_text() == "提问"
    assert page.locator(".answer[data-message] .cite").count() > 0  # history kept its chips
    screenshot(page, "chinese")
    navigate(page, "text=新对话")
    page.fill("#question", QUESTION)
    page.keyboard.press("Enter")
    # The stopped answer freed the model: this one is written and stored.
    answer = page.locator(".answer[data-message]").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert answer.locator(".cite").count() > 0, answer.inner_text()
    assert "来源" in answer.locator(".sources-title").inner_text()
    screenshot(page, "chinese-answer")

    # --- Phone width --------------------------------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(".answer[data-message] .cite").first.scroll_into_view_if_needed()
    screenshot(page, "phone")
    page.locator(".answer[data-message] .cite").first.click()
    page.locator("#source-panel #passage").wait_for()
    screenshot(page, "phone-source")


def test_a_chinese_browser_gets_the_chinese_ui(
    live_server, page_factory, screenshot, django_user_model
):
    django_user_model.objects.create_user("li", password="pw-for-tests")
    page = page_factory(locale="zh-CN", width=390, height=844)
    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "登录"
    screenshot(page, "login-zh")
    log_in(page, live_server.url, "li")
    assert page.locator("#send").inner_text() == "提问"
    assert page.get_by_placeholder("输入问题…（Enter 发送，Shift+Enter 换行）").is_visible()
    screenshot(page, "chat-zh-phone")
