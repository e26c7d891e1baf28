"""REST API v1: thin views that validate input and call one service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.models import Chunk
from ingestion.selectors import chunks_by_id, documents_with_counts
from ingestion.services import document_create
from kbqa.api.serializers import (
    AskSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    SearchSerializer,
)
from llm.services import answer_question
from retrieval.services import search


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


class SearchView(APIView):
    """Retrieval only: the ranked chunks a question would be answered from."""

    def post(self, request):
        serializer = SearchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        chunk_ids = None
        if "document_ids" in data:
            chunk_ids = Chunk.objects.filter(document_id__in=data["document_ids"]).values_list(
                "id", flat=True
            )
        hits = search(query=data["query"], k=data["k"], chunk_ids=chunk_ids, user=request.user)
        chunks = chunks_by_id(hit.id for hit in hits)
        results = []
        for hit in hits:
            chunk = chunks.get(hit.id)
            if chunk is None:  # deleted, or its document is being re-ingested
                continue
            results.append(
                {
                    "rank": len(results) + 1,
                    "chunk_id": chunk.pk,
                    "document_id": chunk.document_id,
                    "title": chunk.document.title or chunk.document.file.name,
                    "page": chunk.page,
                    "page_end": chunk.page_end,
                    "section": getattr(chunk, "section", ""),
                    "score": hit.score,
                    "text": chunk.text,
                }
            )
        return Response({"query": data["query"], "results": results})


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
