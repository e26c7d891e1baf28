"""Garbled text layers: mojibake is caught, real pages in any of our languages are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.parsers.garbled import is_garbled
from tests.fixtures.scans import MOJIBAKE

REAL_PAGES = {
    "english": "The Zorblax cafeteria on the third floor opens at 7:45 in the morning. "
    "Visitors must sign in at the reception desk.",
    "chinese": "员工手册说明了公司的工作规范。新员工应在入职第一周内阅读本手册，"
    "并在人事部门签字确认。",
    "mixed": "使用 pdflatex 编译文档时，请在导言区加入 \\usepackage{ctex} 以支持中文。",
    "math": "Let ϱ(x) = Σ αᵢ φᵢ(x) with ∫ |φ|² dx = 1; then ‖ϱ‖ ≤ β·γ for all ε > 0 and "
    "θ ∈ [0, π]. 𝔼[X] = μ, 𝒩(μ, σ²).",
    "code": "def parse(path: Path) -> dict[str, int]:\n    return {k: len(v) for k, v in "
    "items()}  # O(n)\n",
    "russian": "Сотрудники, которые ездят по работе, получают возмещение за билеты.",
    "thai": "พนักงานที่เดินทางไปทำงานจะได้รับเงินคืนค่าตั๋วรถไฟชั้นประหยัด",
    "arabic": "يتم تعويض الموظفين الذين يسافرون للعمل عن تذاكر القطار",
    "korean": "출장을 가는 직원은 기차표 비용을 환급받습니다",
    "bullets": "\uf0b7 First point of the list\n\uf0b7 Second point\n\uf0b7 Third point here",
    "short": "ႇ໓ϱ 3",  # too little to judge
}


@pytest.mark.parametrize("kind", sorted(REAL_PAGES))
def test_real_pages_are_not_garbled(kind: str):
    assert not is_garbled(REAL_PAGES[kind])


@pytest.mark.parametrize(
    "text",
    [
        MOJIBAKE * 4,
        " ".join([MOJIBAKE[i : i + 3] for i in range(0, len(MOJIBAKE), 3)] * 5),
        "\ue000\ue001\ue002\ue003 \ue004\ue005\ue006\ue007\ue008\ue009\ue00a",  # private use
        "\ufffd" * 12 + " abc",  # what a failed decode leaves
        "1.2 " + MOJIBAKE * 2 + " 3.4 " + MOJIBAKE + " (a)",
    ],
)
def test_mojibake_is_garbled(text: str):
    assert is_garbled(text)


def _pdf_page_texts(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_page_of_the_shared_text_pdfs_is_garbled(shared_docs: Path, language: str):
    """Zero false positives on every page of the real English and Chinese PDFs (pypdf's text,
    as ingestion reads it): a text page wrongly OCRed loses its exact text."""
    flagged = [
        f"{path.name} p.{number}"
        for path in sorted((shared_docs / language).glob("*.pdf"))
        for number, text in enumerate(_pdf_page_texts(path), start=1)
        if is_garbled(text)
    ]
    assert flagged == []


def test_the_pdf_without_tounicode_is_garbled(shared_docs: Path):
    from pypdf import PdfReader

    reader = PdfReader(shared_docs / "hostile" / "cjk_no_tounicode_lshort-zh-cn.pdf")
    texts = [reader.pages[i].extract_text() or "" for i in range(10, 20)]
    assert sum(is_garbled(text) for text in texts if text.strip()) >= 8
