"""Feedback on answers: stored with the message, only by the asker, only on answers."""

from __future__ import annotations

import pytest

from kbqa.chat.models import Conversation, Message
from kbqa.chat.services import message_feedback


@pytest.fixture
def answer(django_user_model) -> Message:
    user = django_user_model.objects.create_user("asker", password="pw-12345678")
    conversation = Conversation.objects.create(user=user, title="Cafeteria")
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content="When?")
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, content="At 7:45 [1]."
    )


def test_thumbs_down_with_a_comment_is_stored_and_can_be_cleared(answer):
    user = answer.conversation.user
    message_feedback(user=user, message=answer, rating=-1, comment="  wrong page ")
    answer.refresh_from_db()
    assert (answer.rating, answer.feedback_comment) == (-1, "wrong page")
    assert answer.feedback_at is not None

    message_feedback(user=user, message=answer, rating=0)
    answer.refresh_from_db()
    assert (answer.rating, answer.feedback_comment, answer.feedback_at) == (0, "", None)


def test_only_the_asker_may_rate_and_only_answers(answer, django_user_model):
    other = django_user_model.objects.create_user("other", password="pw-12345678")
    with pytest.raises(PermissionError):
        message_feedback(user=other, message=answer, rating=1)
    question = answer.conversation.messages.get(role=Message.Role.USER)
    with pytest.raises(ValueError, match="answers"):
        message_feedback(user=answer.conversation.user, message=question, rating=1)
    with pytest.raises(ValueError, match="rating"):
        message_feedback(user=answer.conversation.user, message=answer, rating=5)
    answer.refresh_from_db()
    assert answer.rating == 0
