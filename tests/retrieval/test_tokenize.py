from __future__ import annotations

from retrieval.lexical.tokenize import tokenize


def test_chinese_is_segmented_into_words_and_their_parts():
    terms = tokenize("北京大学的校长是谁？")
    assert {"北京", "大学", "北京大学", "校长"} <= set(terms)
    assert "的" not in terms  # function words carry no topic


def test_english_is_lower_cased_words_without_stop_words():
    assert tokenize("Where is the /media directory?") == ["media", "directory"]


def test_mixed_scripts_split_where_the_script_changes():
    assert tokenize("FHS版本3.0") == ["fhs", "版本", "3", "0"]
    assert tokenize("  ，。!? ") == []
