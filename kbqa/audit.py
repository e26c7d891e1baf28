"""Audit trail for administrative actions: each one goes to Django's admin log (LogEntry, shown in
the admin's "Recent actions" and queryable) and to the `kbqa.audit` logger."""

from __future__ import annotations

import logging

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

logger = logging.getLogger("kbqa.audit")


def audit(user, action: str, obj: models.Model, detail: str = "") -> None:
    message = f"{action}: {detail}" if detail else action
    logger.info(
        "user=%s %s %s#%s %s",
        getattr(user, "pk", None),
        action,
        obj._meta.label,
        obj.pk,
        detail,
    )
    if getattr(user, "pk", None) is None:
        return  # command-line and system actions: the log line above is the record
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=CHANGE,
        change_message=message[:1000],
    )
