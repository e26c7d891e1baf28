"""Read-side queries on conversations: a user only ever sees their own, and only what they may
still read in them."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from ingestion.access import readable_document_ids
from kbqa.chat.models import Conversation, Message

WITHHELD = (
    "This answer is hidden: it was written from a document you can no longer read. "
    "Ask again to get an answer from what you may read now."
)


def conversations_of(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user)


def conversation_of(*, user: AbstractBaseUser, pk: int) -> Conversation:
    """The user's conversation `pk`; Http404 for anyone else's, so ids reveal nothing."""
    return get_object_or_404(conversations_of(user=user), pk=pk)


def message_of(*, user: AbstractBaseUser, pk: int) -> Message:
    """An answer or question in one of the user's own conversations; Http404 otherwise."""
    return get_object_or_404(
        Message.objects.select_related("conversation").filter(conversation__user=user), pk=pk
    )


def messages_visible(*, user: AbstractBaseUser, messages: Iterable[Message]) -> list[Message]:
    """`messages` as `user` may see them now (in memory, never saved): access is checked on every
    read, not just when the answer was written. An answer that cites a document the user can no
    longer read is withheld whole (its text is made of that document's words): content replaced
    by `WITHHELD`, citations and sentences emptied, `withheld` set. Closest documents the user
    can no longer read are dropped from refusals."""
    messages = list(messages)
    referenced = {
        entry["document_id"]
        for m in messages
        for entry in (*m.citations, *m.closest_documents)
        if isinstance(entry, dict) and "document_id" in entry
    }
    readable = readable_document_ids(user, referenced)
    for message in messages:
        message.withheld = False
        cited = {c.get("document_id") for c in message.citations if isinstance(c, dict)}
        if cited - readable:
            message.content = WITHHELD
            message.citations = []
            message.sentences = []
            message.withheld = True
        message.closest_documents = [
            d for d in message.closest_documents if d.get("document_id") in readable
        ]
    return messages
