"""Chunking with the real embedder's tokenizer: budgets, overlap, sections, pages and spans."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from ingestion.chunking import chunk_document, join_pages, sections, sentence_spans
from ingestion.parsers import Heading, parse_file


@pytest.fixture(scope="module")
def count_tokens():
    from retrieval.embedders.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().count_tokens


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_sentences_split_on_chinese_and_english_ends():
    text = "第一句话。第二句话！第三句？第四句；English one. English two! Done"
    spans = [text[a:b] for a, b in sentence_spans(text)]
    assert spans == [
        "第一句话。",
        "第二句话！",
        "第三句？",
        "第四句；",
        "English one.",
        "English two!",
        "Done",
    ]


def test_decimal_points_do_not_split():
    text = "Version 3.0 of the standard. Next sentence."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Version 3.0 of the standard.",
        "Next sentence.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        " ".join(f"word{i}" for i in range(400)),
        "这是一个没有任何标点符号的非常长的中文句子" * 40,
    ],
)
def test_overlong_sentence_is_split_within_budget_without_losing_text(sentence, count_tokens):
    chunks = chunk_document(
        [sentence], [], max_tokens=50, overlap_tokens=0, count_tokens=count_tokens
    )
    assert len(chunks) > 3
    assert all(count_tokens(c.text) <= 50 for c in chunks)
    assert squash("".join(c.text for c in chunks)) == squash(sentence)


def test_chunks_respect_token_budget_and_overlap(count_tokens):
    sentences = [f"Sentence number {i} talks about the annual leave policy." for i in range(60)]
    chunks = chunk_document(
        [" ".join(sentences)], [], max_tokens=60, overlap_tokens=15, count_tokens=count_tokens
    )
    assert len(chunks) > 5
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 60
        assert chunk.text.endswith(".")  # ends at a sentence boundary
    for previous, current in itertools.pairwise(chunks):
        assert current.char_start < previous.char_end  # overlap
        assert current.char_start > previous.char_start  # progress
    for sentence in sentences:
        assert any(sentence in chunk.text for chunk in chunks)


def test_sections_follow_headings_and_spans_point_into_the_text(count_tokens):
    page = (
        "3 Leave\n\n3.1 Sick leave\n\nCall your manager before nine.\n\n"
        "3.2 Annual leave\n\nStaff get 25 days a year. Book them early.\n\n4 Travel\n\nTrains only."
    )
    headings = [
        Heading(1, page.index("3 Leave"), 1, "3 Leave"),
        Heading(1, page.index("3.1 Sick"), 2, "3.1 Sick leave"),
        Heading(1, page.index("3.2 Annual"), 2, "3.2 Annual leave"),
        Heading(1, page.index("4 Travel"), 1, "4 Travel"),
    ]
    chunks = chunk_document(
        [page], headings, max_tokens=200, overlap_tokens=20, count_tokens=count_tokens
    )
    text, _ = join_pages([page])
    assert [(c.section, c.text) for c in chunks] == [
        # "3 Leave" has no text of its own, so it travels with its first sub-section.
        ("3 Leave > 3.1 Sick leave",
         "3 Leave\n\n3.1 Sick leave\n\nCall your manager before nine."),
        ("3 Leave > 3.2 Annual leave",
         "3.2 Annual leave\n\nStaff get 25 days a year. Book them early."),
        ("4 Travel", "4 Travel\n\nTrains only."),
    ]  # fmt: skip
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text


def test_sections_carry_across_pages_but_chunks_never_cross_them(count_tokens):
    pages = ["1 Intro\n\nEnd of one.", "Start of two.", "2 Next\n\nMore."]
    headings = [Heading(1, 0, 1, "1 Intro"), Heading(3, 0, 1, "2 Next")]
    chunks = chunk_document(
        pages, headings, max_tokens=200, overlap_tokens=0, count_tokens=count_tokens
    )
    assert [(c.text, c.section, c.page, c.page_end) for c in chunks] == [
        ("1 Intro\n\nEnd of one.", "1 Intro", 1, 1),
        ("Start of two.", "1 Intro", 2, 2),
        ("2 Next\n\nMore.", "2 Next", 3, 3),
    ]
    assert [s.page for s in sections(pages, headings)] == [1, 2, 3]


def test_empty_pages_give_no_chunks(count_tokens):
    chunks = chunk_document(
        ["", "  ", "\n"], [], max_tokens=50, overlap_tokens=5, count_tokens=count_tokens
    )
    assert chunks == []


def _chunks_of(path: Path, count_tokens):
    parsed = parse_file(path)
    return parsed, chunk_document(
        parsed.pages, parsed.headings, max_tokens=200, overlap_tokens=40, count_tokens=count_tokens
    )


def test_real_english_pdf_sections_pages_and_boundaries(shared_docs: Path, count_tokens):
    parsed, chunks = _chunks_of(shared_docs / "en" / "fhs-3.0.pdf", count_tokens)
    text, _ = join_pages(parsed.pages)
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.page == chunk.page_end
        assert count_tokens(chunk.text) <= 200
    # Page 19 holds "3.11. /media : Mount point for removable media" and its "3.11.1. Purpose".
    media = [c for c in chunks if "mount points for removable media such as floppy" in c.text]
    assert len(media) == 1
    assert media[0].page == 19
    assert media[0].section.endswith(
        "3.11 /media : Mount point for removable media > 3.11.1 Purpose"
    ), media[0].section
    # The next section starts a new chunk: no chunk holds text of both 3.11.1 and 3.11.2.
    page_19 = [c for c in chunks if c.page == 19]
    assert not any("3.11.1. Purpose" in c.text and "3.11.2. Specific" in c.text for c in page_19)
    assert any(c.text.startswith("3.11.2. Specific Options") for c in page_19)
    every_word = squash("".join(parsed.pages))
    covered = squash("".join(c.text for c in chunks))
    assert len(covered) >= len(every_word)  # overlap repeats text; nothing is dropped


def test_real_chinese_pdf_uses_its_outline(shared_docs: Path, count_tokens):
    _, chunks = _chunks_of(shared_docs / "zh" / "ctex-faq.pdf", count_tokens)
    about = [c for c in chunks if "CTEX 的宗旨" in c.text]
    assert about, "the passage about CTeX's purpose is in a chunk"
    assert about[0].page == 5
    assert about[0].section.endswith("1 CTeX 是干什么的？"), about[0].section
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 200


def test_sentence_spans_with_a_character_limit_cut_long_sentences_at_spaces():
    sentence = " ".join(f"word{i}" for i in range(100))
    text = sentence + ". Short one."
    spans = list(sentence_spans(text, max_chars=120))
    assert all(b - a <= 120 for a, b in spans)
    assert len(spans) > 3
    assert squash("".join(text[a:b] for a, b in spans[:-1])) == squash(sentence + ".")
    assert text[slice(*spans[-1])] == "Short one."
