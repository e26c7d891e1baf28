"""Embedded default for a laptop: SQLite, local index, file-system Celery broker, DEBUG on."""

from kbqa.settings.base import *  # noqa: F403
from kbqa.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
