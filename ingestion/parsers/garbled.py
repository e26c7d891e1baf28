"""Is a page's text layer garbage? A PDF whose fonts lack a ToUnicode map (common in Chinese PDFs
made by older TeX and Office versions) extracts as glyph ids read as code points: `ႇ໓ϱᇁ྆`, a
scatter of Myanmar, Lao, Greek, Hangul jamo and Tibetan letters no real page mixes, and symbol
fonts extract as control characters. Such a page is OCRed instead of indexed as mojibake that no
question can ever find.

A page is judged by its letters (digits, punctuation, symbols and spaces say little): the share
that are impossible in text (private-use but for a symbol font's bullets, unassigned, control,
U+FFFD) or belong to a script
outside those a document plausibly uses. Latin, Greek, Cyrillic, Chinese, Japanese and Korean
are always plausible; one other script is plausible when it holds most of the page's remaining
letters, as a Thai or Arabic page's letters do, while mojibake scatters over many. Measured on
every page of the shared English and Chinese PDFs (prose, math, code, mixed), the share stays
under 1 %; on the PDF without ToUnicode maps, its Chinese pages run from 4 % (a page of LaTeX
commands with garbled Chinese headings) to over 50 %.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

MIN_LETTERS = 10  # fewer letters than this say too little to judge (a page number, a caption)
MAX_BAD_SHARE = 0.025  # of the letters: impossible or implausible beyond this is garbage
DOMINANT_SHARE = 0.8  # of the letters outside the plausible scripts: one script this strong is real
PLAUSIBLE = {"LATIN", "GREEK", "CYRILLIC", "CJK", "HANGUL"}
# The first word of a character's Unicode name is its script, but for these names.
_ALIASES = {
    "MATHEMATICAL": "LATIN",
    "MODIFIER": "LATIN",
    "FULLWIDTH": "LATIN",
    "HIRAGANA": "CJK",
    "KATAKANA": "CJK",
    "HALFWIDTH": "CJK",
    "BOPOMOFO": "CJK",
    "IDEOGRAPHIC": "CJK",
    "KANGXI": "CJK",
}
_IMPOSSIBLE = {"Co", "Cn", "Cs", "Cc"}


def script(char: str) -> str | None:
    """The script of a letter or mark by its Unicode name; None for those of no script (combining
    marks, and letter-like symbols such as ℝ or ℵ)."""
    if 0x2000 <= ord(char) <= 0x2BFF:  # punctuation, letterlike and math symbols, arrows
        return None
    name = unicodedata.name(char, "")
    word = name.split(" ", 1)[0]
    if word == "HANGUL" and "SYLLABLE" not in name:
        return "HANGUL JAMO"  # Korean text uses syllables; bare jamo are a font's glyph ids
    if word == "COMBINING":
        return None
    return _ALIASES.get(word, word)


def garbage_share(text: str) -> tuple[float, int]:
    """(share of the letters that are impossible or implausible, number of letters)."""
    scripts: Counter[str] = Counter()
    impossible = 0
    for char in text:
        if char.isspace() or 0xF000 <= ord(char) <= 0xF0FF:
            continue  # U+F0xx: a symbol font's bullets and dingbats (Wingdings, Symbol)
        category = unicodedata.category(char)
        if category in _IMPOSSIBLE or char == "\ufffd":
            impossible += 1
        elif category[0] in "LM" and (name := script(char)):
            scripts[name] += 1
    letters = impossible + sum(scripts.values())
    other = [n for name, n in scripts.items() if name not in PLAUSIBLE]
    implausible = sum(other)
    if other and max(other) >= DOMINANT_SHARE * implausible:
        implausible -= max(other)  # one script: a real page in that language
    return (impossible + implausible) / max(letters, 1), letters


def is_garbled(text: str) -> bool:
    """True when the page's text holds characters no real page would (see the module's note)."""
    share, letters = garbage_share(text)
    return letters >= MIN_LETTERS and share > MAX_BAD_SHARE
