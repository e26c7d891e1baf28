"""The staff chat page (plain form for now: question in, cited answer out, follow-ups answered in
the conversation they continue)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kbqa.chat.selectors import conversation_of
from kbqa.chat.services import conversation_ask


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    context: dict = {"question": "", "answer": None, "conversation": None}
    if request.method == "POST":
        question = request.POST.get("question", "").strip()
        conversation_id = request.POST.get("conversation", "")
        conversation = None
        if conversation_id.isdigit():
            conversation = conversation_of(user=request.user, pk=int(conversation_id))
        if question:
            conversation, answer, _ = conversation_ask(
                user=request.user, question=question, conversation=conversation
            )
            context.update(question=question, answer=answer, conversation=conversation)
    return render(request, "chat/chat.html", context)
