"""Server-Sent Events for a streamed answer.

Events, in order: `conversation` ({"conversation_id"}), `sources` ({"standalone_question",
"sources"}: the passages the model reads, so a client can show them while the answer is written),
`token` ({"text"}) for each piece of the answer, and `done` (the answer's JSON as `POST /ask/`
returns it, with the verified citations and per-sentence support flags). A failure after the
stream has started ends it with `error` ({"detail"}), since the status line is already sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from rest_framework.renderers import BaseRenderer

from kbqa.chat.models import Conversation, Message
from llm.services import Answer, Retrieved

logger = logging.getLogger(__name__)


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_payload(answer: Answer, conversation: Conversation, message: Message) -> dict:
    return {**answer.as_dict(), "conversation_id": conversation.pk, "message_id": message.pk}


def answer_events(events: Iterator) -> Iterator[str]:
    """SSE text for the events of `conversation_ask_stream`."""
    conversation = answer = None
    try:
        for event in events:
            if isinstance(event, Conversation):
                conversation = event
                yield sse("conversation", {"conversation_id": event.pk})
            elif isinstance(event, Retrieved):
                sources = [s.as_dict() for s in event.sources]
                yield sse("sources", {"standalone_question": event.question, "sources": sources})
            elif isinstance(event, str):
                yield sse("token", {"text": event})
            elif isinstance(event, Answer):
                answer = event
            elif isinstance(event, Message) and answer is not None:
                yield sse("done", answer_payload(answer, conversation, event))
    except Exception:
        logger.exception("Streaming an answer failed")
        yield sse("error", {"detail": "The answer failed unexpectedly; please ask again."})
    finally:
        # The client went away (Stop) and the server closed this response: end the answer's
        # generation now, so the model is free for the next question.
        if hasattr(events, "close"):
            events.close()


class EventStreamRenderer(BaseRenderer):
    """Lets clients that send `Accept: text/event-stream` (EventSource, SSE libraries) reach the
    streaming views; errors raised before the stream starts are rendered as the usual JSON."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()
