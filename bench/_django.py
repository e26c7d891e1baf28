"""Start Django for a benchmark on a throw-away data directory and SQLite database, so a run never
touches the developer's own documents, index or broker."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def setup_throwaway_django(prefix: str) -> Path:
    """Point kbqa at a fresh data directory, set Django up and migrate; returns the directory."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["KBQA_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("KBQA_MODEL_DIR", str(REPO / "var" / "models"))
    os.environ.setdefault("KBQA_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kbqa.settings.local"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir
