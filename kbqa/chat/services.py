"""Asking within a conversation: the follow-up is answered in the context of the earlier turns,
and both the question and the answer (with its citations and support verdicts) are stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from kbqa.chat.models import Conversation, Message
from kbqa.chat.selectors import messages_visible
from llm.backends.base import Message as ChatTurn
from llm.services import Answer, Retrieved, stream_answer

TITLE_CHARS = 80


def conversation_create(*, user: AbstractBaseUser, title: str = "") -> Conversation:
    return Conversation.objects.create(user=user, title=title[:TITLE_CHARS])


def conversation_history(*, conversation: Conversation) -> list[ChatTurn]:
    """The turns so far, as the model sees them (assistant turns as the answers given), filtered
    by what the asker may read now: a follow-up must not carry a withheld answer's words."""
    messages = messages_visible(user=conversation.user, messages=conversation.messages.all())
    return [{"role": m.role, "content": m.content} for m in messages]


def _store_answer(conversation: Conversation, answer: Answer) -> Message:
    data = answer.as_dict()
    message = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=answer.answer,
        standalone_question=answer.question,
        refused=answer.refused,
        error=answer.error,
        citations=data["citations"],
        sentences=data["sentences"],
        closest_documents=data["closest_documents"],
    )
    conversation.save(update_fields=["updated_at"])
    return message


def conversation_ask_stream(
    *, user: AbstractBaseUser, question: str, conversation: Conversation | None = None
) -> Iterator[Conversation | Retrieved | str | Answer | Message]:
    """`stream_answer`'s events within a conversation: first the `Conversation` (created when none
    is given), then the pipeline's events, then the stored assistant `Message`."""
    question = question.strip()
    if not question:
        raise ValueError("The question is empty.")
    if conversation is None:
        conversation = conversation_create(user=user, title=question)
    history = conversation_history(conversation=conversation)
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content=question)
    yield conversation
    # closing(): a client that goes away (Stop) closes this generator; the model's stream must
    # close with it at once, not whenever the garbage collector gets to it.
    with closing(stream_answer(question, user=user, history=history)) as events:
        for event in events:
            yield event
            if isinstance(event, Answer):
                yield _store_answer(conversation, event)


def conversation_ask(
    *, user: AbstractBaseUser, question: str, conversation: Conversation | None = None
) -> tuple[Conversation, Answer, Message]:
    events = list(conversation_ask_stream(user=user, question=question, conversation=conversation))
    conversation = next(e for e in events if isinstance(e, Conversation))
    answer = next(e for e in events if isinstance(e, Answer))
    message = next(e for e in events if isinstance(e, Message))
    return conversation, answer, message


def message_feedback(
    *, user: AbstractBaseUser, message: Message, rating: int, comment: str = ""
) -> Message:
    """Store the asker's thumbs up (+1) or down (-1), or clear it (0), with an optional comment.
    Only the conversation's owner may rate, and only assistant messages."""
    if message.conversation.user_id != user.pk:
        raise PermissionError("Only the person who asked can give feedback on this answer.")
    if message.role != Message.Role.ASSISTANT:
        raise ValueError("Feedback is given on answers, not questions.")
    if rating not in (-1, 0, 1):
        raise ValueError("The rating must be 1 (helpful), -1 (not helpful) or 0 (none).")
    message.rating = rating
    message.feedback_comment = comment.strip()
    message.feedback_at = timezone.now() if rating or message.feedback_comment else None
    message.save(update_fields=["rating", "feedback_comment", "feedback_at"])
    return message


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    title = " ".join(title.split())[:TITLE_CHARS]
    if not title:
        raise ValueError("The title is empty.")
    conversation.title = title
    conversation.save(update_fields=["title"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation and its messages (their ratings go with them)."""
    conversation.delete()
