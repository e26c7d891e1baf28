"""OCR quality and speed on pages rendered from the shared text PDFs, whose text layer is the truth.

    python bench/ocr.py [--pages 8] [--shared ../shared]

Takes `--pages` pages per language, spread over `../shared/docs/en/*.pdf` and `docs/zh/*.pdf`
(pages whose text layer holds at least 300 characters and is not garbled), renders each as
ingestion does (`pdf_ocr.render`), and reads it two ways, interleaved on the same image so the
machine's load falls on both alike: the engine's own call (`RapidOCR.__call__` of the configured
engine) and ours (`PageReader.read`: that call, then the reading order and the boxes). Rows: our
configuration at 150 and 200 dpi, and at 150 dpi with detection on the page scaled to 960 pixels
on its longer side (PaddleOCR's default; rapidocr's, which we keep, makes the shorter side at
least 736). Prints per row:

- CER: the edit distance between OCR's text and the text layer, over their characters with all
  whitespace removed, NFKC applied to both (ligatures, full-width forms) and typographic quotes
  made straight (text layers differ in them, not in what they say), divided by the text
  layer's length, pooled over the pages (total edits / total characters);
- order-free CER: the same counts compared as bags of characters (max of missing and extra), so
  a margin note or a diagram label read in another order than the text layer's costs nothing;
- seconds per page (median) and pages/s of both calls with their ratio (ours / raw, goal >= 0.9).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MIN_CHARS = 300


QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"'})


def normalized(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).translate(QUOTES).split())


def sample_pages(folder: Path, count: int) -> list[tuple[Path, int, str]]:
    """`count` (pdf, page number, text layer) spread evenly over the folder's PDFs and pages."""
    from pypdf import PdfReader

    from ingestion.parsers.garbled import is_garbled

    pdfs = sorted(folder.glob("*.pdf"))
    candidates: list[list[tuple[Path, int, str]]] = []
    for path in pdfs:
        reader = PdfReader(path)
        total = len(reader.pages)
        step = max(1, total // (count + 1))
        found = []
        for index in range(step // 2, total, step):
            text = reader.pages[index].extract_text() or ""
            if len(normalized(text)) >= MIN_CHARS and not is_garbled(text):
                found.append((path, index + 1, text))
        candidates.append(found)
    chosen: list[tuple[Path, int, str]] = []
    while len(chosen) < count and any(candidates):
        for found in candidates:  # round robin over the documents
            if found and len(chosen) < count:
                chosen.append(found.pop(len(found) // 2))
    return chosen


def render(path: Path, number: int, dpi: int):
    import pypdfium2 as pdfium

    from ingestion.parsers.pdf_ocr import render as render_page

    pdf = pdfium.PdfDocument(str(path))
    try:
        return render_page(pdf[number - 1], dpi)
    finally:
        pdf.close()


def order_free_errors(reference: str, hypothesis: str) -> int:
    from collections import Counter

    missing = Counter(reference) - Counter(hypothesis)
    extra = Counter(hypothesis) - Counter(reference)
    return max(sum(missing.values()), sum(extra.values()))


def measure(pages, dpi: int, reader, raw) -> tuple:
    from rapidfuzz.distance import Levenshtein

    edits = unordered = chars = 0
    raw_s: list[float] = []
    our_s: list[float] = []
    for number, (path, page, truth) in enumerate(pages):
        image = render(path, page, dpi)
        for turn in (0, 1) if number % 2 else (1, 0):
            started = time.perf_counter()
            if turn:
                text, _ = reader.read(image, page)
                our_s.append(time.perf_counter() - started)
            else:
                raw(image)
                raw_s.append(time.perf_counter() - started)
        reference, hypothesis = normalized(truth), normalized(text)
        edits += Levenshtein.distance(reference, hypothesis)
        unordered += order_free_errors(reference, hypothesis)
        chars += len(reference)
    raw_rate, our_rate = len(raw_s) / sum(raw_s), len(our_s) / sum(our_s)
    return (
        f"{100 * edits / chars:.2f} %",
        f"{100 * unordered / chars:.2f} %",
        f"{statistics.median(our_s):.2f}",
        f"{raw_rate:.3f}",
        f"{our_rate:.3f}",
        f"{our_rate / raw_rate:.2f}×",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=8, help="pages per language")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # pypdf's font warnings

    from ingestion.ocr import DEFAULT_SPEC, PageReader, load_engine

    smaller_detection = {"Det.limit_type": "max", "Det.limit_side_len": 960}
    configurations = [
        ("ours", DEFAULT_SPEC, 150),
        ("ours", DEFAULT_SPEC, 200),
        ("detection at 960 px", {**DEFAULT_SPEC, "OPTIONS": {"params": smaller_detection}}, 150),
    ]
    rows = []
    for language in ("en", "zh"):
        pages = sample_pages(args.shared / "docs" / language, args.pages)
        names = sorted({path.name for path, _, _ in pages})
        print(f"{language}: {len(pages)} pages from {len(names)} PDFs: {', '.join(names)}")
        for name, spec, dpi in configurations:
            raw = load_engine(spec).ocr
            figures = measure(pages, dpi, PageReader(spec), raw)
            rows.append((language, name, dpi, len(pages), *figures))
            print(rows[-1], flush=True)
    header = (
        "language",
        "configuration",
        "dpi",
        "pages",
        "CER",
        "order-free CER",
        "s/page (median)",
        "raw pages/s",
        "ours pages/s",
        "ours/raw",
    )
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
