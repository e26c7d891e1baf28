"""Admin for documents: bulk upload (files and ZIP archives), live state and progress, and the
retry / re-index / delete actions. Every action calls a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from ingestion.models import Chunk, Document
from ingestion.services import document_delete, document_enqueue
from ingestion.uploads import documents_upload

REFRESH_SECONDS = 3


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)  # refused per file by the upload service
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        return (
            [single(item, initial) for item in data]
            if isinstance(data, list)
            else [single(data, initial)]
        )


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text="PDF, Word (.docx), HTML, Markdown or text files, or ZIP archives of them."
    )
    title = forms.CharField(
        max_length=500, required=False, help_text="Only used when a single document is uploaded."
    )


class ChunkInline(admin.TabularInline):
    model = Chunk
    fields = ("ordinal", "section", "page", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "progress_bar", "page_count", "error", "notes", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "sha256")
    readonly_fields = (
        "sha256", "status", "progress", "error", "notes", "page_count", "worker", "uploaded_by",
        "created_at", "updated_at",
    )  # fmt: skip
    fields = ("title", *readonly_fields)
    inlines = [ChunkInline]
    actions = ["retry", "reindex"]
    change_list_template = "admin/ingestion/document/change_list.html"

    @admin.display(description="Progress")
    def progress_bar(self, obj: Document) -> str:
        value = 100 if obj.status == Document.Status.INDEXED else obj.progress
        return format_html(
            '<progress max="100" value="{}" title="{}%">{}%</progress>', value, value, value
        )

    def changelist_view(self, request, extra_context=None):
        busy = Document.objects.filter(
            status__in=[Document.Status.UPLOADED, *Document.IN_PROGRESS]
        ).exists()
        extra_context = {**(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if busy else 0}
        return super().changelist_view(request, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """Upload replaces the one-document form: several files or ZIP archives at once."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:ingestion_document_changelist"))
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            result = documents_upload(
                files=form.cleaned_data["files"],
                title=form.cleaned_data["title"],
                uploaded_by=request.user,
            )
            if result.created:
                names = ", ".join(str(d) for d in result.created)
                self.message_user(request, f"Queued {len(result.created)} document(s): {names}.")
            for duplicate in result.duplicates:
                self.message_user(
                    request,
                    f"{duplicate.name} is identical to document {duplicate.existing.pk} "
                    f"“{duplicate.existing}”; not added again.",
                    messages.WARNING,
                )
            for rejected in result.rejected:
                self.message_user(request, f"{rejected.name}: {rejected.reason}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:ingestion_document_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Upload documents",
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/ingestion/document/upload.html", context)

    def delete_model(self, request, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request, queryset) -> None:
        for document in queryset:
            document_delete(document=document)

    def _enqueue(self, request, queryset, allowed: set[str], verb: str) -> None:
        done = skipped = 0
        for document in queryset:
            if document.status in allowed:
                document_enqueue(document=document)
                done += 1
            else:
                skipped += 1
        self.message_user(request, f"{verb} {done} document(s).")
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} document(s) in a state this action does not apply to.",
                messages.WARNING,
            )

    @admin.action(description="Retry failed documents")
    def retry(self, request, queryset) -> None:
        self._enqueue(request, queryset, {Document.Status.FAILED}, "Retrying")

    @admin.action(description="Re-index (parse, chunk and embed again)")
    def reindex(self, request, queryset) -> None:
        allowed = {Document.Status.INDEXED, Document.Status.FAILED, Document.Status.UPLOADED}
        self._enqueue(request, queryset, allowed, "Re-indexing")
