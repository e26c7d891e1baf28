"""Collections: who may read which documents. Creating, changing (name, description, reader groups,
`everyone`) and deleting one; a change applies to the next search."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from infra.audit import ADDITION, DELETION, audit
from ingestion.access import require_permission
from ingestion.errors import CollectionInUse
from ingestion.models import Collection

EDITABLE = ("name", "description", "everyone")


def _readers(collection: Collection) -> str:
    groups = ", ".join(sorted(g.name for g in collection.reader_groups.all())) or "no groups"
    return f"readers: {groups}{'; everyone' if collection.everyone else ''}"


@transaction.atomic
def collection_create(
    *,
    by,
    name: str,
    description: str = "",
    reader_groups: Iterable[Group] = (),
    everyone: bool = False,
) -> Collection:
    require_permission(by, "ingestion.add_collection")
    collection = Collection.objects.create(name=name, description=description, everyone=everyone)
    collection.reader_groups.set(reader_groups)
    audit(by, "collection created", collection, _readers(collection), flag=ADDITION)
    return collection


@transaction.atomic
def collection_update(
    *, collection: Collection, by, reader_groups: Iterable[Group] | None = None, **fields
) -> Collection:
    """Change any of `name`, `description`, `everyone` and the reader groups (None: unchanged)."""
    require_permission(by, "ingestion.change_collection")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(collection, name, value)
    collection.save()
    if reader_groups is not None:
        collection.reader_groups.set(reader_groups)
    audit(by, "collection changed", collection, _readers(collection))
    return collection


@transaction.atomic
def collection_delete(*, collection: Collection, by) -> None:
    """Only an empty collection that is not the default one: documents are never deleted (or
    left without readers) as a side effect."""
    require_permission(by, "ingestion.delete_collection")
    if collection.is_default:
        raise CollectionInUse(_("The default collection cannot be deleted."))
    in_use = CollectionInUse(_("The collection still holds documents: move or delete them first."))
    if collection.documents.exists():
        raise in_use
    audit(by, "collection deleted", collection, collection.name, flag=DELETION)
    try:
        collection.delete()
    except ProtectedError:  # a document arrived meanwhile: the transaction (and record) roll back
        raise in_use from None
