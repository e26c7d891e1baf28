"""`manage.py ask "question" [--json]`: answer from the command line (`--json`: the API's JSON)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kbqa.api.serializers import AnswerSerializer
from llm.pipeline import answer_question


class Command(BaseCommand):
    help = "Answer a question from the knowledge base, with citations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the API's JSON shape"
        )
        parser.add_argument(
            "--user",
            help="answer only from the documents this user may read (default: all documents)",
        )

    def handle(
        self, *args, question: str, as_json: bool = False, user: str | None = None, **options
    ) -> None:
        asker = None  # the command line is trusted: without --user it reads every document
        if user:
            try:
                asker = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {user!r}") from None
        answer = answer_question(question, user=asker)
        if as_json:
            data = AnswerSerializer(answer).data
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(answer.answer)
        for c in answer.citations:
            self.stdout.write(f"\n[{c.n}] {c.title}, page {c.page} (chunk {c.chunk_id})")
            self.stdout.write("    " + " ".join(c.text.split())[:300])
