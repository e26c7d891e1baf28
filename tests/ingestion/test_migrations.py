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


@pytest.mark.django_db(transaction=True)
def test_existing_documents_become_their_own_current_version_one():
    before = [("ingestion", "0005_ocr_and_table_chunks")]
    after = [("ingestion", "0007_chunk_version_required")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        Document = apps.get_model("ingestion", "Document")
        Chunk = apps.get_model("ingestion", "Chunk")
        memo = Document.objects.create(
            title="memo", sha256="1" * 64, file="documents/memo.txt", status="indexed"
        )
        # The same file stored twice (possible before the constraint): both survive.
        twin = Document.objects.create(title="twin", sha256="1" * 64, file="documents/twin.txt")
        chunk = Chunk.objects.create(
            document=memo, ordinal=0, text="x", page=1, page_end=1, char_start=0, char_end=1
        )

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        Document = apps.get_model("ingestion", "Document")
        Chunk = apps.get_model("ingestion", "Chunk")
        memo = Document.objects.get(pk=memo.pk)
        version = memo.current_version
        assert (version.number, version.status, version.sha256) == (1, "current", "1" * 64)
        assert version.file.name == "documents/memo.txt" and version.in_index
        assert Chunk.objects.get(pk=chunk.pk).version_id == version.pk
        twin_version = Document.objects.get(pk=twin.pk).current_version
        assert twin_version.sha256 is None and twin_version.file.name == "documents/twin.txt"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
