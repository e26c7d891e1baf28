"""Collections: who may read which documents. Changes go through ingestion's collection services
(permission check and audit record included)."""

from __future__ import annotations

from django.db.models import Count
from rest_framework import generics

from ingestion.access import readable_collections
from ingestion.models import Collection
from ingestion.services.collections import (
    collection_create,
    collection_delete,
    collection_update,
)
from kbqa.api.filters import CollectionFilter
from kbqa.api.serializers import CollectionSerializer
from kbqa.api.views.common import ASK, MANAGE, PERMISSIONS


def _collections(user):
    """Collections a user may read; all of them for those who may manage collections."""
    base = (
        Collection.objects.all()
        if user.has_perm("ingestion.change_collection")
        else readable_collections(user)
    )
    return (
        Collection.objects.filter(pk__in=base.values("pk"))
        .prefetch_related("reader_groups")
        .annotate(document_count=Count("documents"))
        .order_by("name")
    )


class CollectionListCreateView(generics.ListCreateAPIView):
    """GET: the collections the caller may read (all, for collection managers). POST (scope
    `manage`, `ingestion.add_collection`): a new collection, readable by `reader_groups` (group
    names) and, if `everyone`, by every signed-in user."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK, "POST": MANAGE}
    write_permissions = {"POST": "ingestion.add_collection"}
    serializer_class = CollectionSerializer
    filterset_class = CollectionFilter

    def get_queryset(self):
        return _collections(self.request.user)

    def perform_create(self, serializer) -> None:
        collection = collection_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=collection.pk)  # with its counts


class CollectionDetailView(generics.RetrieveUpdateDestroyAPIView):
    """PATCH (`ingestion.change_collection`) changes who may read it: the next search already
    applies it. DELETE (`ingestion.delete_collection`) only an empty, non-default collection
    (else 409)."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK}
    write_permissions = {
        "PATCH": "ingestion.change_collection",
        "DELETE": "ingestion.delete_collection",
    }
    serializer_class = CollectionSerializer
    error_statuses = {"DELETE": (409,)}
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _collections(self.request.user)

    def perform_update(self, serializer) -> None:
        collection = collection_update(
            collection=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=collection.pk)  # with its counts

    def perform_destroy(self, instance: Collection) -> None:
        collection_delete(collection=instance, by=self.request.user)
