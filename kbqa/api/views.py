"""REST API v1: thin views that validate input and call one service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.selectors import documents_with_counts
from ingestion.services import document_create
from kbqa.api.serializers import (
    AskSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
)
from kbqa.api.streaming import answer_events, answer_payload
from kbqa.chat.selectors import conversation_of, conversations_of
from kbqa.chat.services import conversation_ask, conversation_ask_stream


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
