"""Getting the model ready before the first question: load it and evaluate the fixed prefixes of
the answer and follow-up prompts, so the first asker waits for their own sources only.

Loading the 1.5B model takes seconds and reading the instructions more; done at the first question,
that question pays for both. The web worker calls `warm_up_in_background` when it starts
(kbqa/gunicorn.conf.py); the Celery worker never answers questions, so it never loads the model.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from llm.backends import get_llm
from llm.prompts import build_messages, build_rewrite_messages

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Load the configured model and prepare the answer and rewrite prompts' prefixes."""
    started = time.perf_counter()
    llm = get_llm()
    llm.warm(
        [
            build_messages("?", [], mode=settings.KBQA_ANSWER_MODE),
            build_rewrite_messages([], "?"),
        ]
    )
    logger.info("Model %s warmed up in %.1f s", llm.name, time.perf_counter() - started)


def warm_up_in_background() -> threading.Thread | None:
    """`warm_up` in a daemon thread when settings.KBQA_LLM_WARM_UP is on (the process serves
    meanwhile; a question asked before it is done waits for the model as it would have). A
    failure is logged, not raised: the first question then reports it as usual."""
    if not settings.KBQA_LLM_WARM_UP:
        return None

    def run() -> None:
        try:
            warm_up()
        except Exception:
            logger.exception("Warming up the model failed")

    thread = threading.Thread(target=run, name="kbqa-llm-warm-up", daemon=True)
    thread.start()
    return thread
