"""Admin upload: saving a new document stores the file and queues ingestion."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from ingestion.models import Chunk, Document
from ingestion.services import (
    document_create,
    document_delete,
    document_enqueue,
    validate_upload_name,
)


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ("file", "title")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload_name(upload.name)
        return upload


class ChunkInline(admin.TabularInline):
    model = Chunk
    fields = ("ordinal", "page", "page_end", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ("title", "status", "page_count", "error", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "sha256")
    readonly_fields = ("sha256", "status", "error", "page_count", "uploaded_by", "created_at")
    inlines = [ChunkInline]
    actions = ["requeue"]

    def get_fields(self, request, obj=None):
        return ("file", "title") if obj is None else ("title", *self.readonly_fields)

    def save_model(self, request, obj: Document, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = document_create(
            file=form.cleaned_data["file"], title=obj.title, uploaded_by=request.user
        )
        obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request, queryset) -> None:
        for document in queryset:
            document_delete(document=document)

    @admin.action(description="Re-run ingestion")
    def requeue(self, request, queryset) -> None:
        for document in queryset:
            document_enqueue(document=document)
        self.message_user(request, f"Queued {queryset.count()} document(s) for ingestion.")
