"""Sources: list them with their last run's report, and queue a sync ("Sync now")."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.access import readable_sources
from ingestion.models import Source
from ingestion.services.sync import source_sync_queue
from kbqa.api.serializers import SourceSerializer
from kbqa.api.views.common import MANAGE, PERMISSIONS


def _sources(user):
    """The sources of collections `user` may read, for those who may view sources."""
    if not user.has_perm("ingestion.view_source"):
        return Source.objects.none()
    return readable_sources(user)


class SourceListView(generics.ListAPIView):
    """GET (scope `manage`, permission `ingestion.view_source`): the sources, each with its
    schedule, the running sync's `progress` and the last run's `last_report`."""

    permission_classes = PERMISSIONS
    required_scope = MANAGE
    serializer_class = SourceSerializer

    def get_queryset(self):
        return _sources(self.request.user)


class SourceSyncView(APIView):
    """POST (scope `manage`, permission `ingestion.change_source`): queue a sync of the source
    now → 202 with the source; its report appears in `last_report` when it is done."""

    permission_classes = PERMISSIONS
    required_scope = MANAGE
    write_permissions = {"POST": "ingestion.change_source"}

    @extend_schema(request=None, responses={202: SourceSerializer})
    def post(self, request, pk: int):
        source = generics.get_object_or_404(_sources(request.user), pk=pk)
        source_sync_queue(source=source, by=request.user)
        return Response(SourceSerializer(source).data, status=status.HTTP_202_ACCEPTED)
