"""`manage.py ensure_admin`: on a fresh install, create the first admin and say how to log in.

Does nothing once any superuser exists, so the start command can run it every time.
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import IntegrityError


class Command(BaseCommand):
    help = "Create the 'admin' superuser if there is none (password from KBQA_ADMIN_PASSWORD)."

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        password = os.environ.get("KBQA_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        try:
            users.create_superuser("admin", email="", password=password)
        except IntegrityError:  # another machine starting at the same moment made it
            return
        # On this machine only: the password is for whoever started this first instance.
        note = settings.DATA_DIR / "admin-password.txt"
        note.write_text(f"admin\n{password}\n")
        note.chmod(0o600)
        self.stdout.write(f"Created superuser 'admin' with password {password!r} (also in {note}).")
