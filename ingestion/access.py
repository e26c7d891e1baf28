"""Who may read which documents: the one place every read path (answers, citations, the source
viewer, downloads, search results, history) asks.

Until collections with group permissions land, every signed-in user may read every document;
callers must still go through these functions so restricting access later changes one module.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from ingestion.models import Chunk, Document


def readable_documents(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Document]:
    if not user.is_authenticated:
        return Document.objects.none()
    return Document.objects.all()


def can_read_document(user: AbstractBaseUser | AnonymousUser, document: Document) -> bool:
    return readable_documents(user).filter(pk=document.pk).exists()


def readable_document(user: AbstractBaseUser | AnonymousUser, pk: int) -> Document:
    """Document `pk` if `user` may read it; Http404 otherwise, so ids reveal nothing."""
    return get_object_or_404(readable_documents(user), pk=pk)


def readable_chunk(user: AbstractBaseUser | AnonymousUser, pk: int) -> Chunk:
    """Chunk `pk` of an indexed document `user` may read; Http404 otherwise."""
    return get_object_or_404(
        Chunk.objects.select_related("document").filter(
            document__in=readable_documents(user), document__status=Document.Status.INDEXED
        ),
        pk=pk,
    )
