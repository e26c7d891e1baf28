"""Conversations and their messages, stored with the citations and support verdicts the user saw,
so history shows exactly what was answered and on which sources."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    # Assistant messages only: what was searched, and what the answer rests on.
    standalone_question = models.TextField(blank=True)
    refused = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    citations = models.JSONField(default=list, blank=True)
    sentences = models.JSONField(
        default=list, blank=True, help_text="each answer sentence with its support verdict"
    )
    closest_documents = models.JSONField(default=list, blank=True)
    timings = models.JSONField(
        default=dict, blank=True, help_text="seconds per stage: retrieve, prompt, generate, total"
    )
    # The asker's verdict on an assistant message: +1 helpful, -1 not, 0 none given.
    rating = models.SmallIntegerField(default=0, choices=[(1, "Up"), (0, "None"), (-1, "Down")])
    feedback_comment = models.TextField(blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"
