from __future__ import annotations

from rest_framework import serializers

from ingestion.models import Document
from ingestion.services import validate_upload_name
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


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate_file(self, upload):
        validate_upload_name(upload.name)
        return upload


class DocumentSerializer(serializers.ModelSerializer):
    chunk_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Document
        fields = (
            "id",
            "title",
            "status",
            "error",
            "page_count",
            "chunk_count",
            "sha256",
            "created_at",
            "updated_at",
        )
