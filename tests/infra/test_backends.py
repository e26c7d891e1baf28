import pytest
from django.core.exceptions import ImproperlyConfigured

from infra.backends import get_backend


def test_bad_backend_path_is_a_clear_configuration_error(settings):
    settings.KBQA_LLM = {"BACKEND": "llm.backends.nope.Missing", "OPTIONS": {}}
    with pytest.raises(ImproperlyConfigured, match=r"llm\.backends\.nope\.Missing"):
        get_backend("KBQA_LLM")


def test_backend_is_cached_per_configuration(settings, tmp_path):
    settings.KBQA_INDEX = {
        "BACKEND": "retrieval.index.faiss_store.FaissIndexStore",
        "OPTIONS": {"path": str(tmp_path)},
    }
    assert get_backend("KBQA_INDEX") is get_backend("KBQA_INDEX")
    settings.KBQA_INDEX = {**settings.KBQA_INDEX, "OPTIONS": {"path": str(tmp_path / "b")}}
    assert get_backend("KBQA_INDEX").path == tmp_path / "b"
