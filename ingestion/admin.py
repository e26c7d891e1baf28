"""Admin for documents and collections: bulk upload (files and ZIP archives), live state and
progress, the retry / re-index / delete actions, and who may read what.

Every change goes through the same service the API and the console call, so the same permission
check runs and the same audit record is written; the admin's own change log is left to the
services (one record per action, not two)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from ingestion.access import readable_documents
from ingestion.errors import Conflict
from ingestion.models import Chunk, Collection, Document, Source
from ingestion.services.collections import (
    collection_create,
    collection_delete,
    collection_update,
)
from ingestion.services.documents import (
    document_delete,
    document_reindex,
    document_retry,
    document_update,
)
from ingestion.services.sync import OUTCOMES, source_sync_queue
from ingestion.services.uploads import documents_upload

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
    collection = forms.ModelChoiceField(
        Collection.objects.all(),
        required=False,
        help_text="Who may read them: empty means the default collection.",
    )


class ChunkInline(admin.TabularInline):
    model = Chunk
    fields = ("ordinal", "section", "page", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ServiceAuditedAdmin(admin.ModelAdmin):
    """The services write the audit record; the admin's own LogEntry would be a second one."""

    def log_addition(self, request, obj, message):
        pass

    def log_change(self, request, obj, message):
        pass

    def log_deletions(self, request, queryset):
        pass


@admin.register(Document)
class DocumentAdmin(ServiceAuditedAdmin):
    list_display = (
        "title", "collection", "status", "progress_bar", "page_count", "error", "notes",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "collection")
    search_fields = ("title", "sha256")
    readonly_fields = (
        "sha256", "status", "progress", "error", "notes", "page_count", "worker", "uploaded_by",
        "created_at", "updated_at",
    )  # fmt: skip
    fields = ("title", "collection", *readonly_fields)
    inlines = [ChunkInline]
    actions = ["retry", "reindex"]
    change_list_template = "admin/ingestion/document/change_list.html"

    @admin.display(description="Progress")
    def progress_bar(self, obj: Document) -> str:
        value = 100 if obj.status == Document.Status.INDEXED else obj.progress
        return format_html(
            '<progress max="100" value="{}" title="{}%">{}%</progress>', value, value, value
        )

    def get_queryset(self, request):
        """Staff see (and so manage) only documents in collections they may read."""
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=readable_documents(request.user).values("pk"))
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
                by=request.user,
                collection=form.cleaned_data["collection"],
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

    def save_model(self, request, obj: Document, form, change: bool) -> None:
        """Only changes reach here (uploads have their own view): rename or move."""
        stored = Document.objects.get(pk=obj.pk)
        document_update(
            document=stored, by=request.user, title=obj.title, collection=obj.collection
        )

    def delete_model(self, request, obj: Document) -> None:
        document_delete(document=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for document in queryset:
            document_delete(document=document, by=request.user)

    def _enqueue(self, request, queryset, change, verb: str) -> None:
        done, refused = 0, []
        for document in queryset:
            try:
                change(document=document, by=request.user)
                done += 1
            except Conflict as exc:
                refused.append(str(exc))
        self.message_user(request, f"{verb} {done} document(s).")
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Retry failed documents")
    def retry(self, request, queryset) -> None:
        self._enqueue(request, queryset, document_retry, "Retrying")

    @admin.action(description="Re-index (parse, chunk and embed again)")
    def reindex(self, request, queryset) -> None:
        self._enqueue(request, queryset, document_reindex, "Re-indexing")


@admin.register(Collection)
class CollectionAdmin(ServiceAuditedAdmin):
    """Who may read what: a collection's reader groups (or everyone signed in). Superusers read
    every collection; changes apply to the next search."""

    list_display = ("name", "everyone", "readers", "is_default", "document_count")
    list_filter = ("everyone",)
    search_fields = ("name", "description")
    filter_horizontal = ("reader_groups",)
    fields = ("name", "description", "reader_groups", "everyone", "is_default")
    readonly_fields = ("is_default",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(documents_total=Count("documents"))

    @admin.display(description="Reader groups")
    def readers(self, obj: Collection) -> str:
        return ", ".join(g.name for g in obj.reader_groups.all()) or "—"

    @admin.display(description="Documents", ordering="documents_total")
    def document_count(self, obj: Collection) -> int:
        return obj.documents_total

    def save_model(self, request, obj: Collection, form, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data["description"],
            "everyone": data["everyone"],
            "reader_groups": data["reader_groups"],
        }
        if change:
            collection_update(collection=obj, by=request.user, **fields)
        else:
            obj.pk = collection_create(by=request.user, **fields).pk

    def save_related(self, request, form, formsets, change: bool) -> None:
        """The reader groups were set by the service, with the rest."""

    def delete_model(self, request, obj: Collection) -> None:
        collection_delete(collection=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for collection in queryset:
            collection_delete(collection=collection, by=request.user)

    def has_delete_permission(self, request, obj: Collection | None = None) -> bool:
        if obj is not None and (obj.is_default or obj.documents.exists()):
            return False  # documents are PROTECTed; the default collection stays
        return super().has_delete_permission(request, obj)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Where documents are synced from: a folder (`{"path": "/srv/share"}`) or a web site section
    (`{"start_url": "https://intranet/policies/", "prefix": "/policies/"}`), into a collection,
    every `interval_minutes` (0: only when asked)."""

    list_display = ("name", "kind", "collection", "interval_minutes", "enabled", "last_run")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("running_since", "last_started_at", "last_finished_at", "last_report")
    actions = ["sync_now"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "kind":  # the kinds configured now (KBQA_SOURCE_KINDS), as a list
            kinds = [(kind, kind) for kind in sorted(settings.KBQA_SOURCE_KINDS)]
            return forms.ChoiceField(choices=kinds, help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Last run")
    def last_run(self, obj: Source) -> str:
        if obj.running_since:
            return "running"
        counts = ", ".join(f"{obj.last_report.get(k, 0)} {k}" for k in OUTCOMES)
        return f"{obj.last_finished_at:%Y-%m-%d %H:%M}: {counts}" if obj.last_finished_at else "—"

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset) -> None:
        for source in queryset:
            source_sync_queue(source=source, by=request.user)
        self.message_user(request, f"Queued {queryset.count()} sync(s).")
