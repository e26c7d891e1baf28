"""gunicorn's settings for kbqa (`gunicorn --config kbqa/gunicorn.conf.py`, as bin/serve runs it).

One worker process with threads is right for the embedded default: SQLite takes one writer at a
time, and the bundled LLM is loaded once per process (a second worker would hold a second copy
and compete for the same cores). Threads keep the pages, the API and streaming answers
responsive while one answer is written. With PostgreSQL and an LLM server, raise the workers.
"""

import os

wsgi_app = "kbqa.wsgi:application"
bind = os.environ.get("KBQA_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("KBQA_WEB_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("KBQA_WEB_THREADS", "8"))
# A streamed answer from a CPU model lasts minutes: gunicorn must not kill the worker meanwhile.
timeout = int(os.environ.get("KBQA_WEB_TIMEOUT", "900"))
graceful_timeout = 30
accesslog = "-"
# gunicorn's control socket lives in the home directory by default, shared by every instance
# (the tests start their own): kbqa does not use it.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Each web worker loads the model and reads the prompts' fixed prefixes as it starts (in the
    background: pages and searches are served meanwhile), not at its first question."""
    from llm.warmup import warm_up_in_background

    warm_up_in_background()
