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
from kbqa.api.serializers import AnswerSerializer
from kbqa.api.streaming import EventStreamRenderer
from kbqa.api.throttling import AskRateThrottle, ClientRateThrottle
from kbqa.errors import openai_error_body
from llm.answer import Answer
from llm.events import Run
from llm.pipeline import answer_stream

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


class UsageSerializer(serializers.Serializer):
    """Tokens in the model's own tokenizer: the prompts it read, the text it wrote."""

    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class ChatCompletionResponseSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    model = serializers.CharField()
    choices = serializers.ListField(child=serializers.DictField())
    usage = UsageSerializer()
    kbqa = AnswerSerializer(help_text="citations, sentences, refused, sources, error, timings")


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
        run = answer_stream(question, user=request.user, history=history)
        head = {"id": completion_id, "created": int(time.time()), "model": data["model"]}
        if data["stream"]:
            response = StreamingHttpResponse(_chunks(run, head), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        answer = run.finish()
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": answer.answer},
            "finish_reason": "stop",
        }
        body = {**head, "object": "chat.completion", "choices": [choice], "usage": answer.usage}
        return Response(ChatCompletionResponseSerializer({**body, "kbqa": answer}).data)


def _chunk(head: dict, delta: dict, finish_reason: str | None = None, **extra) -> str:
    body = {
        **head,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _chunks(run: Run[Answer], head: dict) -> Iterator[str]:
    """The answer as OpenAI stream chunks: its checked sentences as they come (the citation
    numbers in them are the final ones), then a last chunk with `usage` and `kbqa`. A refusal or
    error that showed no text sends its message as content first."""
    yield _chunk(head, {"role": "assistant", "content": ""})
    streamed = False
    try:
        for event in run:
            if piece := event.delta():
                streamed = True
                yield _chunk(head, {"content": piece})
        answer = run.result
        if not streamed:
            yield _chunk(head, {"content": answer.answer})
        usage = UsageSerializer(answer.usage).data
        yield _chunk(head, {}, "stop", usage=usage, kbqa=AnswerSerializer(answer).data)
    except Exception:
        logger.exception("Streaming a chat completion failed")
        error = {
            "message": "The answer failed unexpectedly; please ask again.",
            "type": "server_error",
        }
        yield f"data: {json.dumps({'error': error})}\n\n"
    finally:
        run.close()
    yield "data: [DONE]\n\n"


class ModelsView(OpenAIView):
    """The one model this facade serves, for tools that list models first."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "kbqa"}
        return Response({"object": "list", "data": [model]})
