"""Migration 0003 on a database with documents: they all land in the default collection, which
starts readable by superusers only (an upgrade never widens access)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ingestion", "0002_document_states_sections")]
AFTER = [("ingestion", "0003_collections")]


@pytest.mark.django_db(transaction=True)
def test_existing_documents_move_into_the_default_collection():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("ingestion", "Document")
        old.objects.create(title="old memo", sha256="0" * 64, file="documents/memo.txt")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        apps = executor.loader.project_state(AFTER).apps
        Collection = apps.get_model("ingestion", "Collection")
        Document = apps.get_model("ingestion", "Document")
        (general,) = Collection.objects.all()
        assert (general.name, general.is_default, general.everyone) == ("General", True, False)
        assert not general.reader_groups.exists()
        assert Document.objects.get(title="old memo").collection_id == general.pk
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
