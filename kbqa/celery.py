"""Celery application; configuration lives in Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbqa.settings.local")

app = Celery("kbqa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
