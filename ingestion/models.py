"""Documents uploaded by admins and the chunks extracted from them.

A chunk's primary key is its id in the vector index, so a search hit maps straight to a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Document(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="documents/%Y/%m/")
    title = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, editable=False
    )
    error = models.TextField(blank=True, editable=False)
    page_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
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
