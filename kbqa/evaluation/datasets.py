"""Read an evaluation set (format: ../shared/eval/README.md) into retrievable units.

Passage sets: each passage of `corpus.jsonl` is one chunk. File sets: each file in `files/` goes
through ingestion's own parser and chunker and is indexed with the same context header, exactly as
an upload would, and each chunk remembers the pages it spans, so a hit is judged at page level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class DatasetError(Exception):
    """The folder is not an evaluation set in the shared format."""


@dataclass
class Unit:
    text: str
    labels: frozenset  # the gold keys this chunk covers: passage ids, or (file, page) pairs
    title: str = ""  # what a citation of this unit names: passage title, or file name
    page: int = 1
    section: str = ""


@dataclass
class Query:
    id: str
    question: str
    gold: frozenset
    lang: str = ""
    answers: tuple[str, ...] = ()
    answerable: bool = True


@dataclass
class Dataset:
    name: str
    kind: str  # "passages" or "files"
    units: list[Unit] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_dataset(path: Path, *, limit: int | None = None) -> Dataset:
    path = Path(path)
    if not (path / "queries.jsonl").is_file():
        raise DatasetError(f"{path} has no queries.jsonl: not an evaluation set")
    meta = (
        json.loads((path / "dataset.json").read_text()) if (path / "dataset.json").is_file() else {}
    )
    kind = "files" if meta.get("kind") == "files" else "passages"
    dataset = Dataset(name=meta.get("name", path.name), kind=kind)
    rows = _jsonl(path / "queries.jsonl")
    if limit is not None:
        rows = rows[:limit]
    for row in rows:
        if kind == "files":
            gold = frozenset((g["file"], int(g["page"])) for g in row.get("gold_pages", []))
        else:
            gold = frozenset(str(g) for g in row.get("gold_ids", []))
        dataset.queries.append(
            Query(
                row["id"],
                row["question"],
                gold,
                row.get("lang", ""),
                answers=tuple(row.get("answers") or ()),
                answerable=bool(row.get("answerable", True)),
            )
        )
    dataset.units = _file_units(path / "files") if kind == "files" else _passage_units(path)
    return dataset


def _passage_units(path: Path) -> list[Unit]:
    corpus = path / "corpus.jsonl"
    if not corpus.is_file():
        raise DatasetError(f"{path} has neither corpus.jsonl nor files/ (with kind: files)")
    units = []
    for row in _jsonl(corpus):
        title, text = (row.get("title") or "").strip(), row["text"].strip()
        # Titles name the entity a passage is about (HotpotQA, SciFact): part of its content.
        units.append(
            Unit(
                f"{title}\n{text}" if title else text,
                frozenset([str(row["id"])]),
                title=title or str(row["id"]),
            )
        )
    return units


def _file_units(folder: Path) -> list[Unit]:
    from ingestion.parsers import parse_file
    from ingestion.services.ingest import document_chunk, indexed_text

    if not folder.is_dir():
        raise DatasetError(f"{folder} is missing: a file set keeps its documents there")
    units = []
    for file in sorted(p for p in folder.iterdir() if p.is_file()):
        parsed = parse_file(file, name=file.name)
        for spec in document_chunk(parsed):
            pages = range(spec.page, spec.page_end + 1)
            units.append(
                Unit(
                    indexed_text(
                        title=file.stem, section=spec.section, text=spec.text, kind=spec.kind
                    ),
                    frozenset((file.name, p) for p in pages),
                    title=file.name,
                    page=spec.page,
                    section=spec.section,
                )
            )
    return units
