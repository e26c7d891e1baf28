"""The staff chat page (plain form for now: question in, cited answer out)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from llm.services import answer_question


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    question = request.POST.get("question", "").strip() if request.method == "POST" else ""
    answer = answer_question(question) if question else None
    return render(request, "chat/chat.html", {"question": question, "answer": answer})
