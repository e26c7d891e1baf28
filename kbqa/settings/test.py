"""Test settings: the same real back ends, isolated per test run.

The data directory and Celery queue are fresh for each run and exported through the environment,
so a Celery worker process started by a test (which inherits the environment) shares them. SQLite
uses a file-backed test database for the same reason. Assembled models are cached in the repo's
`var/models` so each run does not re-join the 490 MB GGUF.
"""

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("KBQA_DATA_DIR", tempfile.mkdtemp(prefix="kbqa-test-"))
os.environ.setdefault("KBQA_MODEL_DIR", str(Path(__file__).resolve().parents[2] / "var" / "models"))
os.environ.setdefault("KBQA_CELERY_QUEUE", f"kbqa-test-{uuid.uuid4().hex[:8]}")
# Throttle counters live in the (shared) Redis cache: keep each run's apart.
os.environ.setdefault("KBQA_CACHE_PREFIX", os.environ["KBQA_CELERY_QUEUE"])
# An answer's time limit is a timing assertion in disguise on a loaded CI machine: tests of the
# limit set their own; everything else may take as long as the machine needs.
os.environ.setdefault("KBQA_LLM_TIMEOUT", "7200")
# The small bundled model, whatever else is installed: the suite's answers are pinned to it, and
# it is what CI has.
os.environ.setdefault("KBQA_LLM_MODEL_PATH", "bundled:0.5b")
# Tests load the model when they need it, not at start.
os.environ.setdefault("KBQA_LLM_WARM_UP", "0")

from kbqa.settings.base import *  # noqa: F403
from kbqa.settings.base import DATA_DIR, DATABASES

DEBUG = False
STATIC_ROOT = None  # never collected here: WhiteNoise has no folder to serve (nor to warn about)
# User ids repeat across tests (rolled-back transactions): only the throttling tests set limits.
KBQA_API_RATES = {"api": "100000/min", "ask": "100000/min"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
