"""Collections of documents, the documents uploaded by admins, their versions and the chunks
extracted from them.

A chunk's primary key is its id in the vector index, so a search hit maps straight to a row.
Who may read what is decided by collection (see `ingestion.access`). A document answers from one
version at a time, the one `Document.current_version` names: search keeps only the chunks of
that version (`SEARCHABLE_CHUNKS`), so flipping the pointer in one transaction switches every
search from the old version to the new one at once (see `ingestion.services.versions`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from ingestion.failures import RETRYABLE, failure_message

DEFAULT_COLLECTION_NAME = "General"


class CollectionQuerySet(models.QuerySet):
    def default(self) -> Collection:
        """The collection documents uploaded without one go into (created by migration 0003;
        re-created here if someone deleted it, with the same secure default: no readers)."""
        collection = self.filter(is_default=True).first()
        if collection is None:
            collection, _ = self.get_or_create(
                name=DEFAULT_COLLECTION_NAME, defaults={"is_default": True}
            )
        return collection


class Collection(models.Model):
    """A set of documents readable by chosen groups. Superusers read every collection; everyone
    else reads the collections one of their groups is a reader of, or that are open to everyone
    signed in (`everyone`)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    reader_groups = models.ManyToManyField(
        Group, blank=True, related_name="readable_collections", help_text="groups that may read it"
    )
    everyone = models.BooleanField(
        default=False, help_text="readable by every signed-in user, whatever their groups"
    )
    is_default = models.BooleanField(
        default=False, editable=False, help_text="where documents uploaded without one go"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_collection",
            )
        ]

    def __str__(self) -> str:
        return self.name


def default_collection_id() -> int:
    return Collection.objects.default().pk


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

    collection = models.ForeignKey(
        Collection,
        on_delete=models.PROTECT,  # deleting a collection must not silently delete documents
        related_name="documents",
        default=default_collection_id,
    )
    file = models.FileField(upload_to="documents/%Y/%m/")
    title = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.UPLOADED, editable=False
    )
    progress = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="0–100 while OCRing (pages) and while embedding"
    )
    ocr_total = models.PositiveIntegerField(
        default=0, editable=False, help_text="pages to OCR (0: none)"
    )
    ocr_done = models.PositiveIntegerField(default=0, editable=False, help_text="pages OCRed")
    error = models.TextField(blank=True, editable=False, help_text="why it failed, in English")
    error_code = models.CharField(
        max_length=40,
        blank=True,
        editable=False,
        help_text="the reason's code (ingestion.failures)",
    )
    error_params = models.JSONField(default=dict, blank=True, editable=False)
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
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="its source file was removed: kept, out of search",
    )
    current_version = models.ForeignKey(
        "DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="the version search answers from; `file` and `sha256` are its",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Documents being ingested (few): their chunks are hidden from every search.
            models.Index(
                fields=["status"],
                condition=~models.Q(status="indexed"),
                name="document_not_indexed",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.file.name

    @property
    def failure(self) -> str:
        """Why it failed, in the active language ("" unless failed)."""
        return failure_message(self.error_code, self.error_params, self.error) if self.error else ""

    @property
    def retryable(self) -> bool:
        """Failed for a reason another run may not meet (see `ingestion.failures.RETRYABLE`)."""
        return self.status == self.Status.FAILED and self.error_code in RETRYABLE


class DocumentVersion(models.Model):
    """One uploaded file of a document. The first is ingested as the document itself (its state
    is the document's `status`); a later one is ingested beside the current one (its own
    `status` and `progress`) and replaces it in one step once fully indexed. Old versions keep
    their chunk rows (a stored answer's citation still opens its passage) but not their vectors."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being indexed"
        CURRENT = "current", "Current"
        REPLACED = "replaced", "Replaced"
        FAILED = "failed", "Failed"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3, … in upload order")
    file = models.FileField(upload_to="documents/%Y/%m/")
    # null, not "": several legacy duplicates may lack a hash under the unique constraint
    sha256 = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text="unique: an identical file is a duplicate (null only for duplicates stored "
        "before versions existed)",
    )
    size = models.PositiveBigIntegerField(default=0, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, editable=False
    )
    progress = models.PositiveSmallIntegerField(default=0, editable=False)
    in_index = models.BooleanField(
        default=False,
        editable=False,
        help_text="its chunks' vectors may be in the index (set before they are added, cleared "
        "after they are removed)",
    )
    error = models.TextField(blank=True, editable=False)
    error_code = models.CharField(max_length=40, blank=True, editable=False)
    error_params = models.JSONField(default=dict, blank=True, editable=False)
    page_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    notes = models.TextField(blank=True, editable=False)
    worker = models.CharField(max_length=200, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="document_versions",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    indexed_at = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_version_number"),
            # Two identical uploads at the same instant: one insert wins, the other is told which
            # document it duplicates (no check-then-create race).
            models.UniqueConstraint(fields=["sha256"], name="unique_version_content"),
        ]
        indexes = [
            # Versions whose vectors search must hide (ingestion.selectors.hidden_chunk_ids):
            # only the few being swapped, so every search can afford to look them up.
            models.Index(
                fields=["status"],
                condition=models.Q(in_index=True) & ~models.Q(status="current"),
                name="version_in_index_not_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    @property
    def failure(self) -> str:
        return failure_message(self.error_code, self.error_params, self.error) if self.error else ""


# The chunks search may return: those of an indexed, not archived document's current version.
SEARCHABLE_CHUNKS = models.Q(
    document__status=Document.Status.INDEXED,
    document__archived_at__isnull=True,
    version_id=models.F("document__current_version_id"),
)


class Chunk(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        TABLE = "table", "Table"  # Markdown: header row, then whole rows of one table

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    ocr = models.BooleanField(default=False, help_text="its text was read from the page's image")
    rows = models.CharField(
        max_length=40, blank=True, help_text='a table chunk\'s source rows, e.g. "12–40"'
    )
    page_label = models.CharField(
        max_length=200, blank=True, help_text="the page's name where it has one (a sheet's)"
    )
    boxes = models.JSONField(
        default=list,
        blank=True,
        help_text="where an OCR passage lies on its page: [left, top, width, height] in percent",
    )
    section = models.CharField(
        max_length=1000, blank=True, help_text='heading path, e.g. "3 Leave > 3.2 Annual leave"'
    )
    page = models.PositiveIntegerField(help_text="1-based page where the chunk starts")
    page_end = models.PositiveIntegerField(help_text="1-based page where the chunk ends")
    char_start = models.PositiveIntegerField(help_text="offset in the document's extracted text")
    char_end = models.PositiveIntegerField()

    class Meta:
        ordering = ["document", "version", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["version", "ordinal"], name="unique_chunk_ordinal")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal} (p. {self.page})"

    @property
    def span_text(self) -> str:
        """The document text at [char_start, char_end): a table chunk's text also starts with
        its table's header lines, which stand once above the table in the document."""
        if self.kind == self.Kind.TABLE:
            return self.text.split("\n", 2)[-1]
        return self.text


class Source(models.Model):
    """Somewhere documents are pulled from and kept in step with: a folder, a web site section
    (`kind` picks the back end in `KBQA_SOURCE_KINDS`; `options` are its keyword arguments). A
    sync adds new files, uploads changed ones as new versions and deletes (or archives) those
    gone; `items` remember what was seen, so an unchanged file costs a stat, not a hash."""

    class OnRemoved(models.TextChoices):
        DELETE = "delete", "Delete the document"
        ARCHIVE = "archive", "Archive it (out of search, kept)"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, help_text="a key of KBQA_SOURCE_KINDS: folder, web, …")
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="sources")
    options = models.JSONField(
        default=dict, blank=True, help_text='the back end\'s settings, e.g. {"path": "/srv/docs"}'
    )
    interval_minutes = models.PositiveIntegerField(
        default=0, help_text="sync every so many minutes (Celery beat); 0: only when asked"
    )
    on_removed = models.CharField(
        max_length=10, choices=OnRemoved.choices, blank=True,
        help_text="what a removed file does to its document (blank: KBQA_SYNC_REMOVED)",
    )  # fmt: skip
    enabled = models.BooleanField(default=True)
    run = models.PositiveIntegerField(
        default=0, editable=False, help_text="the number of the latest (or running) sync"
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="when its latest sync was queued"
    )
    running_since = models.DateTimeField(null=True, blank=True, editable=False)
    worker = models.CharField(max_length=200, blank=True, editable=False)
    progress = models.JSONField(
        default=dict, blank=True, editable=False, help_text="the running sync's counts so far"
    )
    last_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_report = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text='the last run\'s counts {"added", "updated", "removed", "unchanged", '
        '"failed"} and its failures',
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def waiting(self) -> bool:
        """A sync is queued and no worker has started it yet."""
        return (
            self.running_since is None
            and self.queued_at is not None
            and (self.last_started_at is None or self.queued_at > self.last_started_at)
        )

    def clean(self) -> None:
        """A kind kbqa knows and options its back end accepts (a web source's URL, say), checked
        when the source is saved in the admin, not at its first sync."""
        from ingestion.sources import SourceError, backend_for

        if not isinstance(self.options, dict):
            message = _('Options are a JSON object, like {"path": "/srv/docs"}.')
            raise ValidationError({"options": message})
        try:
            backend_for(self.kind, self.options)
        except ImproperlyConfigured:
            known = ", ".join(sorted(settings.KBQA_SOURCE_KINDS))
            raise ValidationError(
                {"kind": _("Unknown kind of source; known: %(known)s.") % {"known": known}}
            ) from None
        except SourceError as error:
            raise ValidationError({"options": str(error)}) from None


class SourceItem(models.Model):
    """One file (or page) of a source, as the last sync saw it, and the document it became."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1000, help_text="its path in the folder, or its URL")
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_items"
    )
    sha256 = models.CharField(max_length=64, blank=True)
    stamp = models.CharField(
        max_length=200, blank=True, help_text="modification time and size: unchanged, no hashing"
    )
    error = models.TextField(blank=True, help_text="why the last sync could not take it")
    synced_in = models.PositiveIntegerField(
        default=0, help_text="the sync run that last took it into account (a resumed run skips it)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "key"]
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="unique_source_item")]

    def __str__(self) -> str:
        return self.key
