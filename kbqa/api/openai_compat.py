"""An OpenAI-compatible facade: `POST /v1/chat/completions` and `GET /v1/models`, so intranet tools
and OpenAI SDKs plug in by changing only their base URL and key (a kbqa API token).

The last `user` message is the question; the earlier turns are the conversation it may follow up
on (rewritten into a standalone question before retrieval, as in the chat). The answer comes from
the documents the token's user may read. Nothing is stored: like OpenAI's endpoint, it is
stateless. OpenAI's sampling parameters (temperature, max_tokens, ...) are accepted and ignored:
kbqa's answers are grounded and verified, not sampled to taste.

The extra, documented field `kbqa` carries what the OpenAI shape has no place for: `citations`,
`sentences` (support verdicts), `refused`, `closest_documents`, `sources`, `standalone_question`
and `error`, as `POST /api/v1/ask/` returns them. In a stream it rides on the final chunk.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from kbqa.api.errors import exception_handler as api_exception_handler
from kbqa.api.streaming import EventStreamRenderer
from kbqa.api.throttling import AskRateThrottle, ClientRateThrottle
from kbqa.errors import openai_error_body
from llm.services import Answer, stream_answer

logger = logging.getLogger(__name__)

MODEL_ID = "kbqa"
ROLES = ("system", "user", "assistant", "developer", "tool")


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = serializers.JSONField(
        help_text="a string, or a list of {type: 'text', text} parts (other parts are ignored)"
    )


class ChatCompletionRequestSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, required=False, default=MODEL_ID)
    messages = ChatMessageSerializer(many=True, allow_empty=False, max_length=200)
    stream = serializers.BooleanField(required=False, default=False)

    def validate_messages(self, messages: list[dict]) -> list[dict]:
        turns = [{"role": m["role"], "content": _text(m["content"])} for m in messages]
        if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
            raise serializers.ValidationError("The last message must be a non-empty user message.")
        if len(turns[-1]["content"]) > 2000:
            raise serializers.ValidationError("The question is longer than 2000 characters.")
        return turns


class ChatCompletionResponseSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = serializers.ListField(child=serializers.DictField())
    usage = serializers.DictField()
    kbqa = serializers.DictField(help_text="citations, sentences, refused, sources, error, ...")


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    if content is None:
        return ""
    raise serializers.ValidationError("Message content must be a string or a list of parts.")


def _openai_errors(exc, context):
    """OpenAI's error shape: {"error": {"message", "type", "code", "param"}}."""
    response = api_exception_handler(exc, context)
    response.data = openai_error_body(response.status_code, response.data["error"])
    return response


class OpenAIView(APIView):
    def get_exception_handler(self):
        return _openai_errors


def _usage(answer: Answer, prompt: str) -> dict:
    """Rough counts (words), since the answer may come from a back end that reports none."""
    prompt_words = len(prompt.split())
    completion_words = len(answer.answer.split())
    return {
        "prompt_tokens": prompt_words,
        "completion_tokens": completion_words,
        "total_tokens": prompt_words + completion_words,
    }


class ChatCompletionsView(OpenAIView):
    """OpenAI-compatible chat completions answered from the knowledge base, with citations in the
    extra `kbqa` field. `stream: true` gives `chat.completion.chunk` events and `data: [DONE]`."""

    throttle_classes = [ClientRateThrottle, AskRateThrottle]
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        request=ChatCompletionRequestSerializer,
        responses={
            200: ChatCompletionResponseSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.ANY,
                description="with stream: chat.completion.chunk events, then data: [DONE]",
            ),
        },
    )
    def post(self, request):
        serializer = ChatCompletionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        turns = data["messages"]
        question = turns[-1]["content"]
        history = [t for t in turns[:-1] if t["role"] in ("user", "assistant")]
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        events = stream_answer(question, user=request.user, history=history)
        head = {"id": completion_id, "created": int(time.time()), "model": data["model"]}
        if data["stream"]:
            response = StreamingHttpResponse(
                _chunks(events, head, question), content_type="text/event-stream"
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        answer = next(e for e in events if isinstance(e, Answer))
        return Response(
            {
                **head,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(answer, question),
                "kbqa": answer.as_dict(),
            }
        )


def _chunk(head: dict, delta: dict, finish_reason: str | None = None, **extra) -> str:
    body = {
        **head,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _chunks(events: Iterator, head: dict, question: str) -> Iterator[str]:
    """The answer's pieces as OpenAI stream chunks. The verified answer may differ from the raw
    pieces (unsupported citations dropped, or a refusal): the final chunk's `kbqa` field holds it,
    and a refusal or error that streamed no text sends its message as content first."""
    yield _chunk(head, {"role": "assistant", "content": ""})
    streamed = False
    try:
        for event in events:
            if isinstance(event, str) and event:
                streamed = True
                yield _chunk(head, {"content": event})
            elif isinstance(event, Answer):
                if not streamed:
                    yield _chunk(head, {"content": event.answer})
                yield _chunk(head, {}, "stop", usage=_usage(event, question), kbqa=event.as_dict())
    except Exception:
        logger.exception("Streaming a chat completion failed")
        error = {
            "message": "The answer failed unexpectedly; please ask again.",
            "type": "server_error",
        }
        yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"


class ModelsView(OpenAIView):
    """The one model this facade serves, for tools that list models first."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "kbqa"}
        return Response({"object": "list", "data": [model]})
