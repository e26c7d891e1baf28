"""Who may read which documents: the one place every read path (answers, citations, the source
viewer, downloads, search results, history) asks.

The model: every document belongs to one collection. Superusers read every collection. Any other
active, signed-in user reads the collections one of their groups is a reader of, and those marked
`everyone`. Anonymous and inactive users read nothing. Being staff grants no reading by itself:
staff manage what their Django permissions allow, and read what their groups allow.

Retrieval applies `readable_chunk_ids` (the `KBQA_ACCESS_FILTER` hook, a lazy query) inside both
indexes' searches, before the top k is cut, so a restricted passage never takes a slot, let alone
reaches an answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from ingestion.models import SEARCHABLE_CHUNKS, Chunk, Collection, Document, Source

User = AbstractBaseUser | AnonymousUser


def reads_everything(user: User | None) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def require_permission(by: User | None, permission: str) -> None:
    """What the services check before any change: `by` holds the Django permission (`by=None` is
    a trusted in-process caller, such as a management command)."""
    if by is not None and not (by.is_active and by.has_perm(permission)):
        raise PermissionDenied(_("You do not have permission to do this."))


def require_readable(by: User | None, document: Document | None = None, *, collection=None) -> None:
    """Changes reach only what `by` may read: the document, or the collection it goes to."""
    if by is None:
        return
    if document is not None and not can_read_document(by, document):
        raise PermissionDenied(_("You may not read this document."))
    if collection is not None and not readable_collections(by).filter(pk=collection.pk).exists():
        raise PermissionDenied(
            _("You may not read the collection “%(name)s”.") % {"name": collection}
        )


def readable_collections(user: User) -> QuerySet[Collection]:
    if not (user.is_authenticated and user.is_active):
        return Collection.objects.none()
    if reads_everything(user):
        return Collection.objects.all()
    return Collection.objects.filter(
        Q(everyone=True) | Q(reader_groups__in=user.groups.all())
    ).distinct()


def readable_documents(user: User) -> QuerySet[Document]:
    if reads_everything(user):
        return Document.objects.all()
    return Document.objects.filter(collection__in=readable_collections(user))


def readable_sources(user: User) -> QuerySet[Source]:
    """The sources syncing into collections `user` may read."""
    return (
        Source.objects.filter(collection__in=readable_collections(user))
        .select_related("collection")
        .order_by("name")
    )


def can_read_document(user: User, document: Document) -> bool:
    return readable_documents(user).filter(pk=document.pk).exists()


def readable_document(user: User, pk: int) -> Document:
    """Document `pk` if `user` may read it; Http404 otherwise, so ids reveal nothing."""
    return get_object_or_404(readable_documents(user), pk=pk)


def readable_chunk(user: User, pk: int) -> Chunk:
    """Chunk `pk` of an indexed document `user` may read (of any version still kept: a stored
    answer may cite a replaced one); Http404 otherwise."""
    return get_object_or_404(
        Chunk.objects.select_related("document").filter(
            document__in=readable_documents(user), document__status=Document.Status.INDEXED
        ),
        pk=pk,
    )


def readable_document_ids(user: User, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that `user` may read now: one query, for filtering stored history."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return set()
    return set(readable_documents(user).filter(pk__in=wanted).values_list("pk", flat=True))


def readable_chunk_ids(user: User | None) -> QuerySet[Chunk] | None:
    """The `KBQA_ACCESS_FILTER` hook: the chunks `user` may read, as a lazy query of their ids, or
    None for no restriction.

    None is returned for superusers and for `user=None`, which only trusted in-process callers pass
    (management commands, benchmarks, evaluation); every request path passes `request.user`, which
    is never None. The query is never run by itself: an index in the database (PostgreSQL) joins it
    into its search, and an index on disk reads it once per search (see README "Permissions").
    """
    if user is None or reads_everything(user):
        return None
    if not (user.is_authenticated and user.is_active):
        return Chunk.objects.none().values_list("pk", flat=True)
    collections = readable_collections(user)
    if not Collection.objects.exclude(pk__in=collections.values("pk")).exists():
        return None  # reads every collection: nothing to restrict (search drops unindexed chunks)
    return Chunk.objects.filter(
        SEARCHABLE_CHUNKS, document__collection__in=collections.values("pk")
    ).values_list("pk", flat=True)
