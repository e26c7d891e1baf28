"""Asking within a conversation: the follow-up is answered in the context of the earlier turns,
and both the question and the answer (with its citations, support verdicts and timings) are
stored."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass
from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from kbqa.chat.models import Conversation, Message
from kbqa.chat.selectors import messages_visible
from llm.answer import Answer
from llm.backends.base import Message as ChatTurn
from llm.events import AnswerEvent, Run
from llm.pipeline import answer_stream

TITLE_CHARS = 80


@dataclass(frozen=True)
class ConversationStarted(AnswerEvent):
    """The conversation the question went into (created for a first question)."""

    kind: ClassVar[str] = "conversation"
    conversation_id: int


@dataclass(frozen=True)
class AnswerStored(AnswerEvent):
    """The final, verified answer, stored as the conversation's next message."""

    kind: ClassVar[str] = "done"
    answer: Answer
    conversation_id: int
    message_id: int


Asked = tuple[Conversation, Answer, Message]


def conversation_create(*, user: AbstractBaseUser, title: str = "") -> Conversation:
    return Conversation.objects.create(user=user, title=title[:TITLE_CHARS])


def conversation_history(*, conversation: Conversation) -> list[ChatTurn]:
    """The turns so far, as the model sees them (assistant turns as the answers given), filtered
    by what the asker may read now: a follow-up must not carry a withheld answer's words."""
    messages = messages_visible(user=conversation.user, messages=conversation.messages.all())
    return [{"role": m.role, "content": m.content} for m in messages]


def conversation_ask_stream(
    *, user: AbstractBaseUser, question: str, conversation: Conversation | None = None
) -> Run[Asked]:
    """The answer's events within a conversation: `ConversationStarted`, the pipeline's events,
    then `AnswerStored`. The question is stored at once; the answer when it is complete."""
    question = question.strip()
    if not question:
        raise ValueError("The question is empty.")
    if conversation is None:
        conversation = conversation_create(user=user, title=question)
    history = conversation_history(conversation=conversation)
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content=question)
    return Run(_ask(conversation, answer_stream(question, user=user, history=history)))


def _ask(conversation: Conversation, run: Run[Answer]) -> Generator[AnswerEvent, None, Asked]:
    yield ConversationStarted(conversation.pk)
    # A client that goes away (Stop) closes this generator, and through `yield from` the model's
    # stream with it, at once.
    yield from run
    answer = run.result
    message = _store_answer(conversation, answer)
    yield AnswerStored(answer, conversation.pk, message.pk)
    return conversation, answer, message


def conversation_ask(
    *, user: AbstractBaseUser, question: str, conversation: Conversation | None = None
) -> Asked:
    return conversation_ask_stream(user=user, question=question, conversation=conversation).finish()


def _store_answer(conversation: Conversation, answer: Answer) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=answer.answer,
        standalone_question=answer.question,
        refused=answer.refused,
        error=answer.error,
        citations=[asdict(c) for c in answer.citations],
        sentences=[asdict(s) for s in answer.sentences],
        closest_documents=[asdict(d) for d in answer.closest_documents],
        timings={name: round(value, 3) for name, value in asdict(answer.timings).items()},
    )
    conversation.save(update_fields=["updated_at"])
    return message


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
