"""`manage.py ask "question" [--json]`: answer from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from llm.services import answer_question


class Command(BaseCommand):
    help = "Answer a question from the knowledge base, with citations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the API's JSON shape"
        )

    def handle(self, *args, question: str, as_json: bool = False, **options) -> None:
        answer = answer_question(question)
        if as_json:
            self.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(answer.answer)
        for c in answer.citations:
            self.stdout.write(f"\n[{c.n}] {c.title}, page {c.page} (chunk {c.chunk_id})")
            self.stdout.write("    " + " ".join(c.text.split())[:300])
