"""The S3-compatible store for uploaded originals (settings: `KBQA_S3_BUCKET`), shared by every
machine.

django-storages' S3Storage, with one change: each stored file gets a folder of its own
(`documents/2026/05/3f9c2a1be04d/report.pdf`). A file system refuses a second file of the same
name atomically (FileSystemStorage creates with O_EXCL), but S3 only offers "look, then write":
two web machines storing `report.pdf` in the same instant would both find the name free and one
would overwrite the other's file. A random folder needs no look and keeps the file's own name,
which downloads are named after.
"""

from __future__ import annotations

import posixpath
import secrets

from storages.backends.s3 import S3Storage as BaseS3Storage


class S3Storage(BaseS3Storage):
    def __init__(self, **settings) -> None:
        super().__init__(**{**settings, "file_overwrite": False})

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        folder, base = posixpath.split(name)
        unique = posixpath.join(folder, secrets.token_hex(6), base)
        return super().get_available_name(unique, max_length=max_length)
