"""The admins' console: drag-and-drop upload with live progress, the document list (search, filter,
delete, re-index, retry) and the overview (totals; refused and voted-down questions).

Files are uploaded by the page's script through the REST API (`POST /api/v1/documents/`, one
request per file so each has its own progress bar); these views list, poll and act, each through
one service.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ingestion.access import can_read_document, readable_document, readable_sources
from ingestion.errors import Conflict
from ingestion.models import Document, DocumentVersion
from ingestion.parsers import SUPPORTED_SUFFIXES
from ingestion.services.documents import document_delete, document_reindex, document_retry
from ingestion.services.sync import OUTCOMES, source_sync_queue
from ingestion.services.uploads import ARCHIVE_SUFFIXES, DuplicateDocument
from ingestion.services.versions import version_upload
from kbqa.console.selectors import (
    answer_timings,
    console_documents,
    flagged_answers,
    knowledge_base_totals,
)
from kbqa.errors import error_response

PAGE_SIZE = 50
STATUS_LABELS = {
    Document.Status.UPLOADED: gettext_lazy("Uploaded"),
    Document.Status.QUEUED: gettext_lazy("Queued"),
    Document.Status.PARSING: gettext_lazy("Parsing"),
    Document.Status.EMBEDDING: gettext_lazy("Embedding"),
    Document.Status.INDEXED: gettext_lazy("Indexed"),
    Document.Status.FAILED: gettext_lazy("Failed"),
}
OUTCOME_LABELS = {
    "added": gettext_lazy("added"),
    "updated": gettext_lazy("updated"),
    "removed": gettext_lazy("removed"),
    "unchanged": gettext_lazy("unchanged"),
    "failed": gettext_lazy("failed"),
}
VERSION_LABELS = {
    DocumentVersion.Status.PENDING: gettext_lazy("Being indexed"),
    DocumentVersion.Status.CURRENT: gettext_lazy("Current"),
    DocumentVersion.Status.REPLACED: gettext_lazy("Replaced"),
    DocumentVersion.Status.FAILED: gettext_lazy("Failed"),
}
# Where each state sits on one bar from upload to indexed; embedding fills most of it, or OCR
# (10–70 %) where pages are OCRed, which takes far longer. A failed document shows its reason
# instead of a bar.
_STATE_PERCENT = {"uploaded": 5, "queued": 10, "parsing": 20, "indexed": 100}


def console_view(view):
    """Signed in and allowed to add documents (the admins); others get 403, not a login loop."""

    @login_required
    @permission_required("ingestion.add_document", raise_exception=True)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapper


def document_row(document: Document) -> dict:
    """A document's state as the console shows it, in the page and in the status JSON."""
    label = str(STATUS_LABELS.get(document.status, document.status))
    ocr = document.ocr_total > 0
    if document.status == Document.Status.EMBEDDING and ocr:
        percent = 70 + round(0.3 * document.progress)
    elif document.status == Document.Status.EMBEDDING:
        percent = 25 + round(0.75 * document.progress)
    elif document.status == Document.Status.PARSING and ocr:
        percent = 10 + round(60 * document.ocr_done / document.ocr_total)
        label = _("OCR %(done)s/%(total)s pages") % {
            "done": document.ocr_done,
            "total": document.ocr_total,
        }
    else:
        percent = _STATE_PERCENT.get(document.status, 0)
    newest = max(document.versions.all(), key=lambda v: v.number, default=None)
    version_note = ""
    if newest is not None and newest.status == DocumentVersion.Status.PENDING:
        version_note = _("Version %(number)s is being indexed (%(progress)s%%).") % {
            "number": newest.number,
            "progress": newest.progress,
        }
    elif newest is not None and newest.status == DocumentVersion.Status.FAILED:
        version_note = _("Version %(number)s failed: %(reason)s The current one still answers.") % {
            "number": newest.number,
            "reason": newest.failure,
        }
    return {
        "id": document.pk,
        "title": str(document),
        "version_note": version_note,
        "status": document.status,
        "label": label,
        "percent": percent,
        "progress": document.progress,
        "ocr_done": document.ocr_done,
        "ocr_total": document.ocr_total,
        "error": document.failure,
        "retryable": document.retryable,
        "notes": document.notes,
        "pages": document.page_count,
        "chunks": getattr(document, "chunk_count", None),
        "version": document.current_version.number if document.current_version else None,
        "busy": document.status in Document.IN_PROGRESS,
        "archived": document.archived_at is not None,
    }


def _strings() -> dict[str, str]:
    return {
        "uploading": _("Uploading"),
        "retry": _("Retry"),
        "duplicate": _("Already in the knowledge base as “%(title)s”; not added again."),
        "rejected": _("Refused"),
        "network": _("The upload failed (network or server error)."),
        "from_archive": _("from %(archive)s"),
        "nothing_new": _("Nothing new in this archive."),
        "already_stored": _("Already stored"),
        "archive_summary": _(
            "%(created)s new, %(duplicates)s already stored, %(rejected)s refused"
        ),
        **{f"status_{key}": str(label) for key, label in STATUS_LABELS.items()},
    }


@console_view
@require_GET
def upload(request: HttpRequest) -> HttpResponse:
    recent = [document_row(d) for d in console_documents(request.user)[:10]]
    # The file picker offers exactly what uploads accept, so the two cannot drift apart.
    accept = ",".join(sorted(SUPPORTED_SUFFIXES | ARCHIVE_SUFFIXES))
    return render(
        request,
        "console/upload.html",
        {"recent": recent, "strings": _strings(), "tab": "upload", "accept": accept},
    )


@console_view
@require_GET
def documents(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in Document.Status.values:
        status = ""
    page = Paginator(console_documents(request.user, query=query, status=status), PAGE_SIZE)
    page_obj = page.get_page(request.GET.get("page"))
    context = {
        "rows": [document_row(d) for d in page_obj],
        "page_obj": page_obj,
        "query": query,
        "status": status,
        "statuses": list(STATUS_LABELS.items()),
        "tab": "documents",
        "strings": _strings(),
    }
    return render(request, "console/documents.html", context)


@console_view
@require_GET
def documents_status(request: HttpRequest) -> JsonResponse:
    """States of the documents listed in `ids` (comma-separated), for the live progress bars."""
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:500]
    rows = [document_row(d) for d in console_documents(request.user).filter(pk__in=ids)]
    return JsonResponse({"documents": rows})


def _done(request: HttpRequest, payload: dict) -> HttpResponse:
    """JSON for the page's script; a redirect back to the list (with a message) for a form."""
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(payload)
    messages.success(request, payload["detail"])
    return _back(request)


def _refused(request: HttpRequest, error: Exception, code: str, status: int) -> HttpResponse:
    """The one error body for the page's script; a message on the list for a form."""
    if request.headers.get("Accept") == "application/json":
        return error_response(code, str(error), status)
    messages.error(request, str(error))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(request.POST.get("next") or reverse("console:documents"))


@console_view
@require_POST
def reindex(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-index a document, or (`retry=1`) retry a failed one."""
    document = readable_document(request.user, pk)
    change = document_retry if request.POST.get("retry") else document_reindex
    try:
        change(document=document, by=request.user)
    except Conflict as exc:
        return _refused(request, exc, "conflict", 409)
    except PermissionDenied as exc:
        return _refused(request, exc, "permission_denied", 403)
    detail = _("“%(title)s” is queued for indexing.") % {"title": document}
    return _done(request, {"detail": detail, "document": document_row(document)})


@console_view
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = readable_document(request.user, pk)
    title = str(document)
    try:
        document_delete(document=document, by=request.user)
    except PermissionDenied as exc:
        return _refused(request, exc, "permission_denied", 403)
    return _done(request, {"detail": _("“%(title)s” was deleted.") % {"title": title}})


@console_view
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    """A document's versions (dates, who uploaded them, state, download), and (POST, multipart
    `file`) the upload of a new one, indexed in the background while the current one answers."""
    document = readable_document(request.user, pk)
    if request.method == "POST":
        return _upload_version(request, document)
    rows = list(document.versions.select_related("uploaded_by").order_by("-number"))
    for version in rows:
        version.label = VERSION_LABELS[version.status]
    context = {
        "document": document,
        "versions": rows,
        "busy": any(v.status == DocumentVersion.Status.PENDING for v in rows),
        "tab": "documents",
        "accept": ",".join(sorted(SUPPORTED_SUFFIXES)),
    }
    return render(request, "console/versions.html", context)


def _upload_version(request: HttpRequest, document: Document) -> HttpResponse:
    back = HttpResponseRedirect(reverse("console:versions", args=[document.pk]))
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the file of the new version."))
        return back
    try:
        version = version_upload(document=document, file=upload, by=request.user)
    except DuplicateDocument as exc:
        if can_read_document(request.user, exc.existing):
            message = _("Identical to a version of “%(title)s”; not added.") % {
                "title": exc.existing
            }
        else:  # a document the uploader may not read stays unnamed
            message = _(
                "An identical file is already stored, in a collection you cannot read; not added."
            )
        messages.error(request, message)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Version %(number)s is being indexed; the current version answers until it is ready.")
            % {"number": version.number},
        )
    return back


@console_view
@require_GET
def sources(request: HttpRequest) -> HttpResponse:
    """The sources with their schedule, the running sync's progress and the last run's report."""
    rows = list(readable_sources(request.user))
    for source in rows:
        source.report = [(OUTCOME_LABELS[k], source.last_report.get(k, 0)) for k in OUTCOMES]
        source.done = [(OUTCOME_LABELS[k], source.progress.get(k, 0)) for k in OUTCOMES]
    return render(request, "console/sources.html", {"sources": rows, "tab": "sources"})


@console_view
@require_POST
def source_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Sync now": queue a sync of the source for a worker."""
    source = get_object_or_404(readable_sources(request.user), pk=pk)
    back = HttpResponseRedirect(reverse("console:sources"))
    try:
        source_sync_queue(source=source, by=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return back
    messages.success(request, _("A sync of “%(name)s” is queued.") % {"name": source})
    return back


@console_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    totals = knowledge_base_totals(request.user)
    timed_answers, stage_times = answer_timings()
    context = {
        "totals": totals,
        "by_status": [(STATUS_LABELS[s], n) for s, n in totals.by_status.items()],
        "flagged": flagged_answers(),
        "timed_answers": timed_answers,
        "stage_times": stage_times,
        "tab": "overview",
    }
    return render(request, "console/overview.html", context)
