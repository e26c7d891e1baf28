from __future__ import annotations

from rest_framework import serializers

from ingestion.models import Document
from ingestion.services import validate_upload_name


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=2000, trim_whitespace=True)


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    document_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False
    )


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
