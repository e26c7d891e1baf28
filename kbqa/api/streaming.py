"""Server-Sent Events for a streamed answer.

Events, in order: `conversation` ({"conversation_id"}), `sources` ({"standalone_question",
"sources"}: the passages the model reads, so a client can show them while the answer is written),
`queue` ({"ahead"}: the model is busy with other questions; sent when the wait starts, as the
number changes, and with 0 when its turn comes),
`token` ({"text"}): the answer sentence by sentence, each sent once its citations are checked, so
the numbers a client shows are the final ones), and `done` (the answer's JSON as `POST /ask/`
returns it). A failure after the stream has started ends it with `error` (the one error body),
since the status line is already sent. Each event's data comes from its serializer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

from kbqa.api.serializers import (
    ConversationEventSerializer,
    QueueEventSerializer,
    SourcesEventSerializer,
    StoredAnswerSerializer,
    TextEventSerializer,
)
from kbqa.errors import error_body
from llm.events import Run

logger = logging.getLogger(__name__)

SERIALIZERS = {
    "conversation": ConversationEventSerializer,
    "sources": SourcesEventSerializer,
    "queue": QueueEventSerializer,
    "token": TextEventSerializer,
    "done": StoredAnswerSerializer,
}


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_events(run: Run) -> Iterator[str]:
    """SSE text for the events of a conversation's answer."""
    try:
        for event in run:
            yield sse(event.kind, SERIALIZERS[event.kind](event).data)
    except Exception:
        logger.exception("Streaming an answer failed")
        yield sse(
            "error",
            error_body("server_error", "The answer failed unexpectedly; please ask again."),
        )
    finally:
        # The client went away (Stop) and the server closed this response: end the answer's
        # generation now, so the model is free for the next question.
        run.close()


def event_stream_response(run: Run) -> StreamingHttpResponse:
    response = StreamingHttpResponse(answer_events(run), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the events back
    return response


class EventStreamRenderer(BaseRenderer):
    """Lets clients that send `Accept: text/event-stream` (EventSource, SSE libraries) reach the
    streaming views; errors raised before the stream starts are rendered as the usual JSON."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()
