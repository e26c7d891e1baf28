"""OCR quality and speed on pages rendered from the shared text PDFs, whose text layer is the truth.

    python bench/ocr.py [--pages 8] [--shared ../shared]

Takes `--pages` pages per language, spread over `../shared/docs/en/*.pdf` and `docs/zh/*.pdf`
(pages whose text layer holds at least 300 characters and is not garbled), renders each as
ingestion does (`pdf_ocr.render`), and reads it two ways, interleaved on the same image so the
machine's load falls on both alike: the engine's own call (`RapidOCR.__call__` of the configured
engine) and ours (`PageReader.read`: that call, then the reading order and the boxes). Rows, at
150 dpi: our configuration (pages up to 4000 pixels read as rendered), and the engine scaling
pages down to 2000 pixels (rapidocr's own `Global.max_side_len`: only pages larger than 2000
pixels, posters and A3, differ). Prints per page its line CER, and per row:

- CER: the edit distance between OCR's text and the text layer, over their characters with all
  whitespace removed, CJK radicals mapped as ingestion maps them, NFKC applied to both
  (ligatures, full-width forms) and typographic quotes made straight (text layers differ in
  them, not in what they say), divided by the text layer's length, pooled over the pages (total
  edits / total characters);
- order-free CER: the same counts compared as bags of characters (max of missing and extra), so
  a margin note or a diagram label read in another order than the text layer's costs nothing;
- line CER (recognition): each OCR line against the text layer's characters inside its box
  (pdfplumber's characters, by their centres, left to right), plus every text-layer character no
  line covers (missed text), over the text layer's characters. Reading order between lines costs
  nothing, missed and misread text does; what OCR reads where the text layer has nothing (text
  drawn in a figure: a formula image, a diagram label) is not counted as an error, since there is
  no truth for it, but its share is printed ("outside");
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
    from ingestion.parsers.cleaning import clean_text

    text = clean_text(text)  # CJK radicals some producers write for ideographs, as ingestion does
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


def text_layer_chars(path: Path, number: int) -> list[tuple[str, float, float]]:
    """The page's text-layer characters with their centres, in percent of the page."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        page = pdf.pages[number - 1]
        width, height = float(page.width), float(page.height)
        return [
            (
                char["text"],
                100 * (char["x0"] + char["x1"]) / 2 / width,
                100 * (char["top"] + char["bottom"]) / 2 / height,
            )
            for char in page.chars
        ]


def line_errors(chars, text: str, boxes) -> tuple[int, int, int]:
    """(edits, text-layer characters, OCR characters outside the text layer): each OCR line's text
    against the characters whose centres its box holds (the box whose middle is nearest, where
    boxes overlap; a character's centre may lie half a line height beyond either end of a line),
    and every character no box holds as missed."""
    from rapidfuzz.distance import Levenshtein

    held: list[list[tuple[float, str]]] = [[] for _ in boxes]
    edits = total = 0
    for char, x, y in chars:
        char = normalized(char)
        if not char:
            continue
        total += len(char)
        inside = [
            (abs(box.top + box.height / 2 - y), index)
            for index, box in enumerate(boxes)
            if box.top <= y <= box.top + box.height
            and box.left - box.height / 2 <= x <= box.left + box.width + box.height / 2
        ]
        if inside:
            held[min(inside)[1]].append((x, char))
        else:
            edits += len(char)  # missed
    outside = 0
    for box, found in zip(boxes, held, strict=True):
        read = normalized(text[box.start : box.end])
        if found:
            edits += Levenshtein.distance("".join(c for _, c in sorted(found)), read)
        else:
            outside += len(read)
    return edits, total, outside


def measure(pages, dpi: int, reader, raw) -> tuple:
    from rapidfuzz.distance import Levenshtein

    edits = unordered = chars = 0
    line_edits = line_chars = outside = read_chars = 0
    raw_s: list[float] = []
    our_s: list[float] = []
    for number, (path, page, truth, truth_chars) in enumerate(pages):
        image = render(path, page, dpi)
        for turn in (0, 1) if number % 2 else (1, 0):
            started = time.perf_counter()
            if turn:
                text, boxes = reader.read(image, page)
                our_s.append(time.perf_counter() - started)
            else:
                raw(image)
                raw_s.append(time.perf_counter() - started)
        reference, hypothesis = normalized(truth), normalized(text)
        edits += Levenshtein.distance(reference, hypothesis)
        unordered += order_free_errors(reference, hypothesis)
        chars += len(reference)
        errors, total, beyond = line_errors(truth_chars, text, boxes)
        line_edits, line_chars, outside = line_edits + errors, line_chars + total, outside + beyond
        read_chars += len(hypothesis)
        print(
            f"  {path.stem} p. {page}: line CER {100 * errors / max(total, 1):.2f} % of {total}, "
            f"outside {beyond} of {len(hypothesis)} read",
            flush=True,
        )
    raw_rate, our_rate = len(raw_s) / sum(raw_s), len(our_s) / sum(our_s)
    return (
        f"{100 * edits / chars:.2f} %",
        f"{100 * unordered / chars:.2f} %",
        f"{100 * line_edits / line_chars:.2f} %",
        f"{100 * outside / max(read_chars, 1):.1f} %",
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

    engine_cap = {"Global.max_side_len": 2000}  # rapidocr's own, before ingestion raised it
    configurations = [
        ("ours", DEFAULT_SPEC, 150),
        ("pages scaled to 2000 px", {**DEFAULT_SPEC, "OPTIONS": {"params": engine_cap}}, 150),
    ]
    rows = []
    for language in ("en", "zh"):
        pages = [  # the text layer's characters read once, for every configuration
            (path, page, truth, text_layer_chars(path, page))
            for path, page, truth in sample_pages(args.shared / "docs" / language, args.pages)
        ]
        names = sorted({path.name for path, *_ in pages})
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
        "line CER",
        "outside",
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
