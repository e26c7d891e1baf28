"""The staff chat in the browser: the page, and the small endpoints its script calls (rename and
delete a conversation, an answer's HTML, feedback, the source viewer, page images, downloads).

Questions are asked through the API's stream (`POST /api/v1/ask/stream/`); these views only read
and render. Every document or chunk shown goes through `ingestion.access`.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ingestion.access import readable_chunk, readable_document
from ingestion.selectors import cited_version
from kbqa.chat import pdf_pages
from kbqa.chat.rendering import message_context
from kbqa.chat.selectors import (
    conversation_of,
    conversations_of,
    message_of,
    messages_visible,
)
from kbqa.chat.services import conversation_delete, conversation_rename, message_feedback
from kbqa.chat.sources import parse_spans, passage_in_context
from kbqa.errors import error_response

SIDEBAR_CONVERSATIONS = 200  # the most recent; older ones stay in the API and the admin


def _browser_strings() -> dict[str, str]:
    """Texts the page's script shows, translated here so the script holds no language."""
    return {
        "stop": _("Stop"),
        "stopped": _("Stopped: the answer was not finished."),
        "thinking": _("Searching the documents…"),
        "writing": _("Writing the answer…"),
        "queued": _("Waiting for the model: {n} question(s) before yours…"),
        "sources_read": _("Sources being read"),
        "page": _("p. {page}"),
        "failed": _("The answer failed; please ask again."),
        "copied": _("Copied"),
        "rename_prompt": _("New title for this conversation:"),
        "delete_confirm": _("Delete this conversation? This cannot be undone."),
        "thanks": _("Thank you for the feedback."),
        "source_failed": _("The source could not be opened."),
        "rename": _("Rename"),
        "delete": _("Delete"),
    }


@login_required
@require_GET
def chat(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    conversation = conversation_of(user=request.user, pk=pk) if pk else None
    turns = []
    if conversation is not None:
        # Access is checked as history is read: an answer from a document the user can no longer
        # read is withheld (ingestion.access, README "Permissions").
        for message in messages_visible(user=request.user, messages=conversation.messages.all()):
            if message.role == message.Role.USER:
                turns.append({"question": message, "answer": None})
            elif turns and turns[-1]["answer"] is None:
                turns[-1]["answer"] = message_context(message)
    context = {
        "conversations": conversations_of(user=request.user)[:SIDEBAR_CONVERSATIONS],
        "conversation": conversation,
        "turns": turns,
        "strings": _browser_strings(),
    }
    return render(request, "chat/chat.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept") == "application/json"


@login_required
@require_POST
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = conversation_of(user=request.user, pk=pk)
    try:
        conversation_rename(conversation=conversation, title=request.POST.get("title", ""))
    except ValueError as exc:
        return error_response("invalid", str(exc), 400, {"title": [str(exc)]})
    if _wants_json(request):
        return JsonResponse({"id": conversation.pk, "title": conversation.title})
    return HttpResponseRedirect(reverse("conversation", args=[pk]))


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    conversation_delete(conversation=conversation_of(user=request.user, pk=pk))
    if _wants_json(request):
        return JsonResponse({"deleted": pk})
    return HttpResponseRedirect(reverse("chat"))


@login_required
@require_GET
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """One stored answer as HTML, swapped in for the plain text streamed while it was written."""
    (message,) = messages_visible(
        user=request.user, messages=[message_of(user=request.user, pk=pk)]
    )
    if message.role != message.Role.ASSISTANT:
        raise Http404
    return render(request, "chat/_answer.html", message_context(message))


@login_required
@require_POST
def feedback(request: HttpRequest, pk: int) -> JsonResponse:
    message = message_of(user=request.user, pk=pk)
    try:
        data = json.loads(request.body or b"{}")
        rating = int(data.get("rating", 0))
        message_feedback(
            user=request.user, message=message, rating=rating, comment=str(data.get("comment", ""))
        )
    except (ValueError, TypeError, AttributeError) as exc:
        return error_response("invalid", str(exc), 400)
    return JsonResponse({"rating": message.rating, "comment": message.feedback_comment})


@login_required
@require_GET
def source(request: HttpRequest, chunk_id: int) -> HttpResponse:
    """The source viewer's panel for one cited passage; `?spans=12-80,95-140` marks the sentences
    of it an answer used (character spans in the passage)."""
    chunk = readable_chunk(request.user, chunk_id)
    document = chunk.document
    old_version = cited_version(chunk)
    context = {
        "document": document,
        "chunk": chunk,
        "page": chunk.page,
        "section": chunk.section,
        "context": passage_in_context(chunk, used=parse_spans(request.GET.get("spans", ""))),
        "is_pdf": pdf_pages.is_pdf(document),
        # Page images are drawn from the current file: not those of a replaced version's page.
        "page_image": old_version is None and pdf_pages.has_page_images(document),
        "boxes": pdf_pages.chunk_boxes(chunk),
        "cited_version": old_version,
    }
    return render(request, "chat/_source.html", context)


@login_required
@require_GET
def document_page(request: HttpRequest, pk: int, page: int) -> HttpResponse:
    """The viewer's panel for a page without a passage (a refusal's closest documents)."""
    document = readable_document(request.user, pk)
    context = {
        "document": document,
        "page": page,
        "is_pdf": pdf_pages.is_pdf(document),
        "page_image": pdf_pages.has_page_images(document),
    }
    return render(request, "chat/_source.html", context)


@login_required
@require_GET
def page_image(request: HttpRequest, pk: int, page: int) -> FileResponse:
    document = readable_document(request.user, pk)
    if not pdf_pages.has_page_images(document):
        raise Http404
    try:
        path = pdf_pages.page_png(document, page)
    except ValueError as exc:
        raise Http404(str(exc)) from None
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def download(request: HttpRequest, pk: int, number: int | None = None) -> FileResponse:
    """The original file (of the current version, or of version `number`), for a user who may
    read the document."""
    document = readable_document(request.user, pk)
    file = document.file
    if number is not None:
        file = get_object_or_404(document.versions, number=number).file
    if not file or not file.storage.exists(file.name):
        raise Http404
    return FileResponse(file.open("rb"), as_attachment=True, filename=Path(file.name).name)
