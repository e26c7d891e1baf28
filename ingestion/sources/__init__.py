"""Where documents are pulled from: one module per kind of source, each a `SourceBackend`.

`KBQA_SOURCE_KINDS` maps a source's `kind` to its back end's dotted path; a `Source` row's
`options` are the back end's keyword arguments. Adding SharePoint, Confluence or S3 is one module
here and one line in that setting: the sync service (`ingestion.services.sync`) does the rest.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ingestion.sources.base import Entry, SourceBackend, SourceError

__all__ = ["Entry", "SourceBackend", "SourceError", "backend_for"]


def backend_for(kind: str, options: dict) -> SourceBackend:
    """The back end of a source of `kind`, configured with `options`."""
    path = settings.KBQA_SOURCE_KINDS.get(kind)
    if path is None:
        known = ", ".join(sorted(settings.KBQA_SOURCE_KINDS))
        raise ImproperlyConfigured(f"Unknown source kind {kind!r} (known: {known})")
    try:
        return import_string(path)(**options)
    except TypeError as exc:
        raise SourceError(f"Bad options for a {kind} source: {exc}") from exc
