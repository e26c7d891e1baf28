"""Read-side queries on conversations: a user only ever sees their own."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from kbqa.chat.models import Conversation, Message


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
