"""REST API v1: thin views that validate input and call one service."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.models import Chunk
from ingestion.selectors import chunks_by_id, documents_with_counts
from ingestion.uploads import documents_upload, is_archive
from kbqa.api.serializers import (
    AskSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    SearchSerializer,
)
from kbqa.api.streaming import answer_events, answer_payload
from kbqa.chat.selectors import conversation_of, conversations_of
from kbqa.chat.services import conversation_ask, conversation_ask_stream
from retrieval.services import search


class CanManageDocuments(permissions.BasePermission):
    """Uploading is for admins: users holding the `ingestion.add_document` permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.has_perm("ingestion.add_document")


def _ask_arguments(request) -> dict:
    serializer = AskSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    conversation = None
    if "conversation_id" in data:
        conversation = conversation_of(user=request.user, pk=data["conversation_id"])
    return {"user": request.user, "question": data["question"], "conversation": conversation}


class AskView(APIView):
    """Answer a question (optionally as a follow-up in a conversation) and store both turns."""

    def post(self, request):
        conversation, answer, message = conversation_ask(**_ask_arguments(request))
        return Response(answer_payload(answer, conversation, message))


class AskStreamView(APIView):
    """The same answer as Server-Sent Events: tokens as written, then the verified result."""

    def post(self, request):
        events = conversation_ask_stream(**_ask_arguments(request))
        response = StreamingHttpResponse(answer_events(events), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold tokens back
        return response


class ConversationListView(generics.ListAPIView):
    serializer_class = ConversationSerializer

    def get_queryset(self):
        return conversations_of(user=self.request.user)


class ConversationDetailView(generics.RetrieveAPIView):
    serializer_class = ConversationDetailSerializer

    def get_object(self):
        return conversation_of(user=self.request.user, pk=self.kwargs["pk"])


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
