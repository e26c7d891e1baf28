"""The caller's own conversations and messages, and feedback on answers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kbqa.api.serializers import (
    ConversationDetailSerializer,
    ConversationSerializer,
    FeedbackSerializer,
    MessageSerializer,
)
from kbqa.chat.models import Conversation, Message
from kbqa.chat.selectors import conversation_of, conversations_of, messages_visible
from kbqa.chat.services import message_feedback


class ConversationListView(generics.ListAPIView):
    """The caller's own conversations, most recent first."""

    serializer_class = ConversationSerializer
    queryset = Conversation.objects.none()  # for the schema; get_queryset is per user

    def get_queryset(self):
        return conversations_of(user=self.request.user).order_by("-updated_at", "-pk")


class ConversationDetailView(generics.RetrieveDestroyAPIView):
    """One of the caller's conversations with its messages, as the caller may see them now: an
    answer citing a document they can no longer read is withheld (`withheld: true`)."""

    serializer_class = ConversationDetailSerializer

    def get_object(self):
        return conversation_of(user=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request, *args, **kwargs):
        conversation = self.get_object()
        messages = messages_visible(user=request.user, messages=conversation.messages.all())
        serializer = self.get_serializer(conversation, context={"messages": messages})
        return Response(serializer.data)


class ConversationMessagesView(generics.ListAPIView):
    """The messages of one of the caller's conversations, oldest first, paginated; filtered by
    what the caller may read now, like the conversation itself."""

    serializer_class = MessageSerializer
    queryset = Message.objects.none()  # for the schema

    def get_queryset(self):
        conversation = conversation_of(user=self.request.user, pk=self.kwargs["pk"])
        return conversation.messages.order_by("created_at", "pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        messages = messages_visible(user=request.user, messages=page)
        return self.get_paginated_response(self.get_serializer(messages, many=True).data)


class MessageFeedbackView(APIView):
    """Rate one of the caller's answers: 1 helpful, -1 not, 0 clears; with an optional comment."""

    @extend_schema(request=FeedbackSerializer, responses=MessageSerializer)
    def post(self, request, pk: int):
        message = generics.get_object_or_404(
            Message.objects.select_related("conversation").filter(conversation__user=request.user),
            pk=pk,
        )
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = message_feedback(
                user=request.user,
                message=message,
                rating=serializer.validated_data["rating"],
                comment=serializer.validated_data.get("comment", ""),
            )
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        (message,) = messages_visible(user=request.user, messages=[message])
        return Response(MessageSerializer(message).data)
