"""`check_index` finds every kind of inconsistency; `rebuild_index` repairs them."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from ingestion.models import Chunk
from retrieval.services import get_embedder


def check(capsys) -> str:
    try:
        call_command("check_index")
    except CommandError:
        pass
    return capsys.readouterr().out


def test_consistent_index_passes(ingested_handbook, capsys):
    call_command("check_index")
    assert "OK: every chunk has exactly one vector" in capsys.readouterr().out


def test_orphans_and_missing_vectors_are_reported_then_rebuilt(
    ingested_handbook, isolated_index, capsys
):
    chunk = ingested_handbook.chunks.first()
    embedder = get_embedder()
    isolated_index.update(model=embedder.name, remove_ids=[chunk.pk])
    stray = np.ones((1, embedder.dimension), dtype=np.float32) / np.sqrt(embedder.dimension)
    isolated_index.update(model=embedder.name, add_ids=[999_999], vectors=stray)
    with pytest.raises(CommandError):
        call_command("check_index")
    out = capsys.readouterr().out
    assert f"1 chunk(s) without vectors, e.g. ids [{chunk.pk}]" in out
    assert "1 vector(s) without chunks, e.g. ids [999999]" in out

    call_command("rebuild_index")
    assert sorted(isolated_index.ids().tolist()) == sorted(
        Chunk.objects.values_list("pk", flat=True)
    )
    assert "OK" in check(capsys)


def test_model_mismatch_is_reported_and_rebuild_fixes_it(ingested_handbook, isolated_index, capsys):
    ids = list(ingested_handbook.chunks.values_list("pk", flat=True))
    isolated_index.clear()
    isolated_index.update(model="other-model", add_ids=ids, vectors=np.eye(len(ids), 8, dtype="f4"))
    assert "model mismatch: the index holds other-model (8 dims)" in check(capsys)
    call_command("rebuild_index")
    assert isolated_index.describe()["model"] == get_embedder().name
    assert "OK" in check(capsys)
