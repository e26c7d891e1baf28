from __future__ import annotations

from rest_framework import serializers

from ingestion.models import Document
from kbqa.chat.models import Conversation, Message


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=2000, trim_whitespace=True)
    conversation_id = serializers.IntegerField(required=False, min_value=1)


class MessageSerializer(serializers.ModelSerializer):
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
            "created_at",
        )


class ConversationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = ("id", "title", "created_at", "updated_at")


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "messages")


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    document_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False
    )


class DocumentUploadSerializer(serializers.Serializer):
    """One or more `file` parts (documents or ZIP archives); `title` names a single document."""

    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False
    )  # an empty file is refused by the upload service, per file, with the rest going ahead
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            data = {"file": data.getlist("file"), "title": data.get("title", "")}
        return super().to_internal_value(data)


class DocumentSerializer(serializers.ModelSerializer):
    chunk_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Document
        fields = (
            "id",
            "title",
            "status",
            "progress",
            "error",
            "notes",
            "page_count",
            "chunk_count",
            "sha256",
            "created_at",
            "updated_at",
        )
