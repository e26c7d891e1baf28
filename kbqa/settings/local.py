"""Embedded default for one machine (bin/start): SQLite, local index, file-system Celery broker.

Safe as it starts: DEBUG stays off, as in the base settings, unless DJANGO_DEBUG turns it on
(`KBQA_DEV=1 bin/start` does, for development), and the secret key is this instance's own,
never a public placeholder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from django.core.management.utils import get_random_secret_key

from kbqa.settings.base import *  # noqa: F403
from kbqa.settings.base import DATA_DIR
from kbqa.settings.env import env_str


def instance_secret_key(path: Path) -> str:
    """The key in `path`, made there (readable by this user only) the first time. Published with
    a hard link, which fails if another process (the web server, the worker) got there first."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(get_random_secret_key())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or instance_secret_key(DATA_DIR / "secret-key")

# Static files straight from the apps' folders (WhiteNoise's finders): no collectstatic step to
# forget, nothing written into the checkout, nothing stale after an update. There are few files,
# so the manifest storage's hashed names and compression matter less here than in production
# (which keeps them). STATIC_ROOT, there only if collectstatic ran, is then not worth a warning.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at: ")
