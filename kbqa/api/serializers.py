"""API input validation and output shapes; the response serializers also document the answers'
JSON in the OpenAPI schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ingestion.models import Collection, Document, DocumentVersion, Source
from kbqa.api.models import ApiToken
from kbqa.chat.models import Conversation, Message


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=2000, trim_whitespace=True)
    conversation_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="continue this conversation"
    )


class CitationSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="the number cited as [n] in the answer")
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    page = serializers.IntegerField(help_text="1-based")
    chunk_id = serializers.IntegerField()
    text = serializers.CharField()
    section = serializers.CharField(allow_blank=True)
    score = serializers.FloatField()
    kind = serializers.ChoiceField(
        choices=["text", "table"], default="text", help_text="table: Markdown rows under a header"
    )
    ocr = serializers.BooleanField(default=False, help_text="read by OCR from the page's image")
    rows = serializers.CharField(
        allow_blank=True, default="", help_text='a table passage\'s source rows, "12–40"'
    )
    page_label = serializers.CharField(
        allow_blank=True, default="", help_text="the page's name where it has one (a sheet's)"
    )
    spans = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        default=list,
        help_text="[start, end] character spans in `text`: in `sources`, the sentences the model "
        "read (empty: all of it); in `citations`, the sentences the answer used",
    )
    quote = serializers.CharField(
        allow_blank=True, default="", help_text='the text of `spans` ("…" between runs apart)'
    )


class SentenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    citations = serializers.ListField(child=serializers.IntegerField())
    supported = serializers.BooleanField()
    score = serializers.FloatField()


class ClosestDocumentSerializer(serializers.Serializer):
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    page = serializers.IntegerField()
    chunk_id = serializers.IntegerField(help_text="the closest passage, for a source viewer")
    score = serializers.FloatField()


class TimingsSerializer(serializers.Serializer):
    """Seconds per stage of the answer."""

    rewrite_s = serializers.FloatField(help_text="rewriting a follow-up into a standalone question")
    retrieve_s = serializers.FloatField(help_text="searching the documents")
    prompt_s = serializers.FloatField(help_text="the model reading the prompt (to its first token)")
    generate_s = serializers.FloatField(help_text="the model writing the answer")
    total_s = serializers.FloatField()

    def to_representation(self, instance) -> dict:
        return {key: round(value, 3) for key, value in super().to_representation(instance).items()}


class AnswerSerializer(serializers.Serializer):
    """An answer as the pipeline gives it (`llm.answer.Answer`)."""

    answer = serializers.CharField()
    refused = serializers.BooleanField()
    citations = CitationSerializer(many=True)
    sentences = SentenceSerializer(many=True)
    closest_documents = ClosestDocumentSerializer(many=True)
    standalone_question = serializers.CharField(source="question")
    sources = CitationSerializer(many=True, help_text="the passages the model read")
    error = serializers.CharField(allow_blank=True, help_text="set when the model failed")
    timings = TimingsSerializer()


class StoredAnswerSerializer(AnswerSerializer):
    """An answer stored in a conversation (`kbqa.chat.services.AnswerStored`)."""

    conversation_id = serializers.IntegerField()
    message_id = serializers.IntegerField()

    def to_representation(self, instance) -> dict:
        return {
            **AnswerSerializer(instance.answer).data,
            "conversation_id": instance.conversation_id,
            "message_id": instance.message_id,
        }


class ConversationEventSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()


class SourcesEventSerializer(serializers.Serializer):
    standalone_question = serializers.CharField(source="question")
    sources = CitationSerializer(many=True, help_text="the passages the model reads")


class QueueEventSerializer(serializers.Serializer):
    ahead = serializers.IntegerField(
        help_text="questions before this one for the model (the one being answered included)"
    )


class TextEventSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="checked sentences of the answer, to append")


class MessageSerializer(serializers.ModelSerializer):
    citations = CitationSerializer(many=True, read_only=True)
    sentences = SentenceSerializer(many=True, read_only=True)
    closest_documents = ClosestDocumentSerializer(many=True, read_only=True)
    timings = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text="seconds per stage (answers)"
    )
    withheld = serializers.SerializerMethodField(
        help_text="true when the answer cited a document the user can no longer read"
    )

    class Meta:
        model = Message
        fields = (
            "id",
            "role",
            "content",
            "standalone_question",
            "refused",
            "error",
            "citations",
            "sentences",
            "closest_documents",
            "withheld",
            "timings",
            "rating",
            "feedback_comment",
            "created_at",
        )

    def get_withheld(self, message: Message) -> bool:
        return getattr(message, "withheld", False)


class ConversationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = ("id", "title", "created_at", "updated_at")


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "messages")

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, conversation: Conversation) -> list[dict]:
        """Passed in by the view, already filtered by what the user may read now."""
        return MessageSerializer(self.context["messages"], many=True).data


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(
        choices=[1, 0, -1], help_text="1 helpful, -1 not helpful, 0 clears"
    )
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    document_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="only these documents' passages (an empty list: none, so no results)",
    )


class SearchResultSerializer(serializers.Serializer):
    """One passage of `ingestion.passages.search_passages`, with its rank."""

    rank = serializers.IntegerField()
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    page = serializers.IntegerField()
    page_end = serializers.IntegerField()
    section = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(help_text="fused score, comparable within one response only")
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "table"])
    ocr = serializers.BooleanField()
    rows = serializers.CharField(allow_blank=True)
    page_label = serializers.CharField(allow_blank=True)


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = SearchResultSerializer(many=True)


class DocumentUploadSerializer(serializers.Serializer):
    """One or more `file` parts (documents or ZIP archives); `title` names a single document;
    `collection` (an id) is where they go, the default collection when absent."""

    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False, min_length=1
    )  # an empty file is refused by the upload service, per file, with the rest going ahead
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)
    collection = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            plain = {"file": data.getlist("file"), "title": data.get("title", "")}
            if data.get("collection") not in (None, ""):
                plain["collection"] = data.get("collection")
            data = plain
        return super().to_internal_value(data)


class DocumentSerializer(serializers.ModelSerializer):
    chunk_count = serializers.IntegerField(read_only=True)
    collection_name = serializers.CharField(source="collection.name", read_only=True)
    error = serializers.CharField(
        source="failure", read_only=True, help_text="why it failed, in the request's language"
    )
    error_code = serializers.CharField(read_only=True, help_text="the reason's stable code")
    retryable = serializers.BooleanField(
        read_only=True, help_text="failed for a reason another run may not meet (worth a retry)"
    )

    class Meta:
        model = Document
        fields = (
            "id",
            "title",
            "collection",
            "collection_name",
            "status",
            "progress",
            "ocr_total",
            "ocr_done",
            "error",
            "error_code",
            "retryable",
            "notes",
            "page_count",
            "chunk_count",
            "sha256",
            "version",
            "archived_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = tuple(f for f in fields if f not in ("title", "collection"))

    version = serializers.IntegerField(
        source="current_version.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="the number of the version search answers from",
    )


class DocumentVersionSerializer(serializers.ModelSerializer):
    """One version of a document: `pending` while indexed beside the current one, `current`,
    `replaced` (kept, out of search) or `failed` (with `error`; the current version answers)."""

    error = serializers.CharField(
        source="failure", read_only=True, help_text="why it failed, in the request's language"
    )
    uploaded_by = serializers.CharField(
        source="uploaded_by.get_username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = DocumentVersion
        fields = (
            "id",
            "number",
            "status",
            "progress",
            "error",
            "error_code",
            "size",
            "sha256",
            "page_count",
            "uploaded_by",
            "created_at",
            "indexed_at",
            "replaced_at",
        )
        read_only_fields = fields


class VersionUploadSerializer(serializers.Serializer):
    """The new version's file (any supported type; not a ZIP archive)."""

    file = serializers.FileField(allow_empty_file=True)


class DocumentUpdateSerializer(serializers.ModelSerializer):
    """Rename a document or move it to another collection (which changes who may read it)."""

    class Meta:
        model = Document
        fields = ("title", "collection")
        extra_kwargs = {"title": {"required": False}, "collection": {"required": False}}


class DuplicateSerializer(serializers.Serializer):
    file = serializers.CharField(source="name")
    document = DocumentSerializer(
        allow_null=True,
        help_text="the stored twin; null when it is in a collection you cannot read",
    )


class RejectedSerializer(serializers.Serializer):
    file = serializers.CharField(source="name")
    error = serializers.CharField(source="reason", help_text="why it was refused")


class UploadResultSerializer(serializers.Serializer):
    created = DocumentSerializer(many=True)
    duplicates = DuplicateSerializer(many=True)
    rejected = RejectedSerializer(many=True)


class SourceSerializer(serializers.ModelSerializer):
    """A source documents are synced from; `last_report` holds the last run's counts (`added`,
    `updated`, `removed`, `unchanged`, `failed`) and `failures` (`key`, `error`); `progress` the
    running one's counts so far."""

    collection_name = serializers.CharField(source="collection.name", read_only=True)

    class Meta:
        model = Source
        fields = (
            "id",
            "name",
            "kind",
            "collection",
            "collection_name",
            "options",
            "interval_minutes",
            "on_removed",
            "enabled",
            "queued_at",
            "running_since",
            "progress",
            "last_started_at",
            "last_finished_at",
            "last_report",
        )
        read_only_fields = fields


class CollectionSerializer(serializers.ModelSerializer):
    reader_groups = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Group.objects.all(), required=False
    )
    document_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Collection
        fields = (
            "id",
            "name",
            "description",
            "reader_groups",
            "everyone",
            "is_default",
            "document_count",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("is_default", "created_at", "updated_at")


class ApiTokenSerializer(serializers.ModelSerializer):
    days = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        max_value=settings.KBQA_API_TOKEN_MAX_DAYS,
        help_text=f"lifetime in days (default {settings.KBQA_API_TOKEN_DEFAULT_DAYS})",
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "scope",
            "prefix",
            "days",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_active",
            "created_at",
        )
        read_only_fields = ("prefix", "expires_at", "revoked_at", "last_used_at", "created_at")


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="shown this once; store it now")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")
