"""Asking (JSON or Server-Sent Events) and searching: what the caller may read, nothing else."""

from __future__ import annotations

from dataclasses import asdict

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.passages import search_passages
from kbqa.api.serializers import (
    AskSerializer,
    SearchResponseSerializer,
    SearchSerializer,
    StoredAnswerSerializer,
)
from kbqa.api.streaming import EventStreamRenderer, event_stream_response
from kbqa.api.throttling import AskRateThrottle, ClientRateThrottle
from kbqa.chat.selectors import conversation_of
from kbqa.chat.services import AnswerStored, conversation_ask_stream


def _ask(request):
    serializer = AskSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    conversation = None
    if "conversation_id" in data:
        conversation = conversation_of(user=request.user, pk=data["conversation_id"])
    return conversation_ask_stream(
        user=request.user, question=data["question"], conversation=conversation
    )


class AskView(APIView):
    """Answer a question from the documents the caller may read (optionally as a follow-up in
    one of their conversations) and store both turns. A model that is down or too slow gives 200
    with `error` set and the retrieved `sources`, never a 5xx."""

    throttle_classes = [ClientRateThrottle, AskRateThrottle]
    error_statuses = {"POST": (404,)}  # no such conversation_id

    @extend_schema(request=AskSerializer, responses=StoredAnswerSerializer)
    def post(self, request):
        conversation, answer, message = _ask(request).finish()
        stored = AnswerStored(answer, conversation.pk, message.pk)
        return Response(StoredAnswerSerializer(stored).data)


class AskStreamView(APIView):
    """The same answer as Server-Sent Events: `conversation`, `sources`, `token` events carrying
    the answer sentence by sentence with its checked citations, then `done` with the JSON
    `POST /ask/` returns (or `error`)."""

    throttle_classes = [ClientRateThrottle, AskRateThrottle]
    error_statuses = {"POST": (404,)}  # no such conversation_id
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        request=AskSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.ANY,
                description="Server-Sent Events: conversation, sources, token..., done (or error)",
            )
        },
    )
    def post(self, request) -> StreamingHttpResponse:
        return event_stream_response(_ask(request))


class SearchView(APIView):
    """Retrieval only: the ranked passages a question would be answered from, among the documents
    the caller may read (the restriction is applied inside the search, before the top k)."""

    @extend_schema(request=SearchSerializer, responses=SearchResponseSerializer)
    def post(self, request):
        serializer = SearchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        passages = search_passages(
            query=data["query"],
            k=data["k"],
            user=request.user,
            document_ids=data.get("document_ids"),
        )
        results = [{"rank": rank, **asdict(p)} for rank, p in enumerate(passages, start=1)]
        return Response(SearchResponseSerializer({"query": data["query"], "results": results}).data)
