from __future__ import annotations

import itertools
import re

from ingestion.chunking import chunk_pages, join_pages, sentence_spans


def test_sentences_split_on_chinese_and_english_ends():
    text = "第一句话。第二句话！第三句？ English one. English two! Done"
    spans = [text[a:b] for a, b in sentence_spans(text, max_chars=100)]
    assert spans == ["第一句话。", "第二句话！", "第三句？", "English one.", "English two!", "Done"]


def test_decimal_points_and_abbreviation_like_dots_do_not_split():
    text = "Version 3.0 of the standard. Next sentence."
    spans = [text[a:b] for a, b in sentence_spans(text, max_chars=100)]
    assert spans == ["Version 3.0 of the standard.", "Next sentence."]


def test_overlong_sentence_is_split_without_losing_text():
    sentence = " ".join(f"word{i}" for i in range(200))
    chunks = chunk_pages([sentence], max_chars=120, overlap_chars=0)
    assert all(len(c.text) <= 120 for c in chunks)
    assert re.sub(r"\s+", "", "".join(c.text for c in chunks)) == re.sub(r"\s+", "", sentence)


def test_chunks_respect_budget_overlap_and_cover_all_text():
    sentences = [f"Sentence number {i} is here." for i in range(60)]
    chunks = chunk_pages([" ".join(sentences)], max_chars=200, overlap_chars=60)
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(chunk.text) <= 200
        assert chunk.text.endswith(".")  # ends at a sentence boundary
    for previous, current in itertools.pairwise(chunks):
        assert current.char_start < previous.char_end  # overlap
        assert current.char_start > previous.char_start  # progress
    for sentence in sentences:
        assert any(sentence in chunk.text for chunk in chunks)


def test_spans_and_pages_point_into_the_joined_text():
    pages = ["Alpha page one text. More alpha.", "Beta page two. Still beta.", "Gamma three."]
    text, _ = join_pages(pages)
    chunks = chunk_pages(pages, max_chars=800, overlap_chars=0)
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text
    assert [(c.text, c.page, c.page_end) for c in chunks] == [
        ("Alpha page one text. More alpha.", 1, 1),
        ("Beta page two. Still beta.", 2, 2),
        ("Gamma three.", 3, 3),
    ]


def test_chunks_never_cross_a_page_break():
    chunks = chunk_pages(["End of one.", "Start of two."], max_chars=500, overlap_chars=0)
    assert [(c.text, c.page, c.page_end) for c in chunks] == [
        ("End of one.", 1, 1),
        ("Start of two.", 2, 2),
    ]


def test_empty_pages_give_no_chunks():
    assert chunk_pages(["", "   ", "\n"], max_chars=100, overlap_chars=10) == []
