"""Audit trail for administrative actions: each one goes to Django's admin log (LogEntry, shown in
the admin's "Recent actions" and queryable) and to the `kbqa.audit` logger.

Services write the record, whatever surface (API, console, admin, command line) called them, so
every surface leaves the same record. A deletion is recorded before the row goes, while it still
has its primary key.
"""

from __future__ import annotations

import logging

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

logger = logging.getLogger("kbqa.audit")

__all__ = ["ADDITION", "CHANGE", "DELETION", "audit"]


def audit(user, action: str, obj: models.Model, detail: str = "", *, flag: int = CHANGE) -> None:
    if obj.pk is None:
        raise ValueError(f"audit({action!r}) needs a saved object: record a deletion before it")
    message = f"{action}: {detail}" if detail else action
    logger.info(
        "user=%s %s %s#%s %s", getattr(user, "pk", None), action, obj._meta.label, obj.pk, detail
    )
    if getattr(user, "pk", None) is None:
        return  # command-line and system actions: the log line above is the record
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=flag,
        change_message=message[:1000],
    )
