"""Documents uploaded by admins and the chunks extracted from them.

A chunk's primary key is its id in the vector index, so a search hit maps straight to a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Document(models.Model):
    class Status(models.TextChoices):
        """uploaded → queued → parsing → embedding → indexed, or failed (with `error`)."""

        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        PARSING = "parsing", "Parsing"
        EMBEDDING = "embedding", "Embedding"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Failed"

    IN_PROGRESS = (Status.QUEUED, Status.PARSING, Status.EMBEDDING)

    file = models.FileField(upload_to="documents/%Y/%m/")
    title = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.UPLOADED, editable=False
    )
    progress = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="0–100 while embedding"
    )
    error = models.TextField(blank=True, editable=False)
    notes = models.TextField(
        blank=True, editable=False, help_text="warnings that did not stop ingestion"
    )
    page_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    worker = models.CharField(
        max_length=200, blank=True, editable=False, help_text="Celery node running the ingestion"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or self.file.name


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    section = models.CharField(
        max_length=1000, blank=True, help_text='heading path, e.g. "3 Leave > 3.2 Annual leave"'
    )
    page = models.PositiveIntegerField(help_text="1-based page where the chunk starts")
    page_end = models.PositiveIntegerField(help_text="1-based page where the chunk ends")
    char_start = models.PositiveIntegerField(help_text="offset in the document's extracted text")
    char_end = models.PositiveIntegerField()

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="unique_chunk_ordinal")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal} (p. {self.page})"
