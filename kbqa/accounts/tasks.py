"""Celery beat's task (kbqa/settings/base.py, CELERY_BEAT_SCHEDULE); idempotent: a re-run reads
the directory again and changes only what differs."""

from __future__ import annotations

import logging

from celery import shared_task

from kbqa.accounts.recheck import DirectoryUnreachable, ldap_recheck

logger = logging.getLogger(__name__)


@shared_task
def directory_recheck() -> dict:
    try:
        report = ldap_recheck()
    except DirectoryUnreachable as error:
        logger.warning("directory re-check: directory unreachable, nothing changed: %s", error)
        return {"unreachable": str(error)}
    return vars(report)
