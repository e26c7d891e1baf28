"""What every parser's text goes through: characters that would break storage or search, replaced
one for one, so offsets into the text (boxes, citation spans) stay true.

- NUL becomes a space: it means nothing in a passage, and PostgreSQL refuses it in text columns.
- Kangxi radicals (U+2F00–2FD5) and the CJK radicals supplement (U+2E80–2EF3) become the
  ideographs they look like. Some PDF producers (macOS's, among others) write "⼀个分⼦" with
  radical code points that render exactly like 一个分子: a reader cannot tell, but BM25 and the
  citation check never match the question's 分子 to them. The Kangxi radicals have compatibility
  mappings (NFKC); the supplement has none in `unicodedata`, so its simplified forms and the
  radicals used as whole characters are listed from Unicode's EquivalentUnifiedIdeograph.txt.
  (NFKC on the whole text is not applied: it would also turn Chinese full-width punctuation into
  ASCII.)
"""

from __future__ import annotations

import unicodedata

_RADICALS_SUPPLEMENT = {
    "⺟": "母", "⺠": "民", "⺰": "纟", "⻁": "虎", "⻄": "西", "⻅": "见", "⻆": "角", "⻈": "讠",
    "⻉": "贝", "⻋": "车", "⻐": "钅", "⻑": "長", "⻓": "长", "⻔": "门", "⻗": "雨", "⻘": "青",
    "⻙": "韦", "⻚": "页", "⻛": "风", "⻜": "飞", "⻝": "食", "⻠": "饣", "⻢": "马", "⻣": "骨",
    "⻤": "鬼", "⻥": "鱼", "⻦": "鸟", "⻧": "卤", "⻨": "麦", "⻩": "黄", "⻪": "黾", "⻫": "斉",
    "⻬": "齐", "⻭": "歯", "⻮": "齿", "⻯": "竜", "⻰": "龙", "⻲": "亀", "⻳": "龟",
}  # fmt: skip

_TABLE: dict[int, str] = {0: " "}
for _code in range(0x2F00, 0x2FD6):
    _TABLE[_code] = unicodedata.normalize("NFKC", chr(_code))
for _radical, _ideograph in _RADICALS_SUPPLEMENT.items():
    _TABLE[ord(_radical)] = _ideograph


def clean_text(text: str) -> str:
    """`text` with NUL as a space and CJK radicals as ideographs, the same length."""
    return text.translate(_TABLE)
