"""REST API v1: thin views that validate input and call one service."""

from __future__ import annotations

from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.selectors import documents_with_counts
from ingestion.uploads import documents_upload, is_archive
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


def _document_data(document) -> dict:
    if not hasattr(document, "chunk_count"):
        document.chunk_count = document.chunks.count()
    return DocumentSerializer(document).data


class DocumentListCreateView(generics.ListAPIView):
    """POST one `file` (not a ZIP): 201 with the document, as before; 409 with the matching
    `document` when an identical file exists; 400 `{"file": [reason]}` when refused.
    POST several `file` parts or a ZIP: 201 (200 if nothing new) with
    `{"created": [document...], "duplicates": [{"file", "document"}], "rejected": [{"file",
    "error"}]}`; each file succeeds or fails on its own."""

    permission_classes = [permissions.IsAuthenticated, CanManageDocuments]
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return documents_with_counts()

    def post(self, request):
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        files = serializer.validated_data["file"]
        result = documents_upload(
            files=files,
            title=serializer.validated_data.get("title", ""),
            uploaded_by=request.user,
        )
        if len(files) == 1 and not is_archive(files[0].name):
            if result.created:
                return Response(_document_data(result.created[0]), status=status.HTTP_201_CREATED)
            if result.duplicates:
                duplicate = result.duplicates[0]
                return Response(
                    {
                        "detail": f"Identical to document {duplicate.existing.pk}; not added.",
                        "document": _document_data(duplicate.existing),
                    },
                    status=status.HTTP_409_CONFLICT,
                )
            return Response(
                {"file": [result.rejected[0].reason]}, status=status.HTTP_400_BAD_REQUEST
            )
        body = {
            "created": [_document_data(d) for d in result.created],
            "duplicates": [
                {"file": d.name, "document": _document_data(d.existing)} for d in result.duplicates
            ],
            "rejected": [{"file": r.name, "error": r.reason} for r in result.rejected],
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class DocumentDetailView(generics.RetrieveAPIView):
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return documents_with_counts()
