"""REST API v1: thin views that validate input and call one service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.selectors import documents_with_counts
from ingestion.services import document_create
from kbqa.api.serializers import AskSerializer, DocumentSerializer, DocumentUploadSerializer
from llm.services import answer_question


class CanManageDocuments(permissions.BasePermission):
    """Uploading is for admins: users holding the `ingestion.add_document` permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.has_perm("ingestion.add_document")


class AskView(APIView):
    def post(self, request):
        serializer = AskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = answer_question(serializer.validated_data["question"])
        return Response(answer.as_dict())


class DocumentListCreateView(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, CanManageDocuments]
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return documents_with_counts()

    def post(self, request):
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            document = document_create(
                file=serializer.validated_data["file"],
                title=serializer.validated_data.get("title", ""),
                uploaded_by=request.user,
            )
        except DjangoValidationError as exc:
            raise ValidationError({"file": exc.messages}) from exc
        document.chunk_count = 0  # as created; the worker may already have started on it
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailView(generics.RetrieveAPIView):
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return documents_with_counts()
