"""The rule violations ingestion's services raise, which every surface reports the same way (the
API maps `Conflict` to 409, a permission failure, Django's PermissionDenied, to 403)."""

from __future__ import annotations


class Conflict(Exception):
    """The request conflicts with the current state (a document still being ingested, a collection
    that still holds documents); the message says why in the user's language."""


class DocumentInProgress(Conflict):
    pass


class CollectionInUse(Conflict):
    pass
