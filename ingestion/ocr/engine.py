"""The OCR engine interface and its loader.

An engine turns one page image into lines of text with their boxes; everything else (reading
order, page text, progress) is ours, so a back end is a few lines around its library's call.
Engines are named in settings (`KBQA_OCR = {"BACKEND": dotted path, "OPTIONS": {...}}`), but
parsing runs in a child process without Django: the child receives the spec itself and loads the
engine once (`load_engine` caches per spec), however many pages or attachments it reads.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from PIL import Image

DEFAULT_SPEC: dict[str, Any] = {"BACKEND": "ingestion.ocr.rapid.RapidOcrEngine", "OPTIONS": {}}


@dataclass(frozen=True)
class OcrLine:
    """A line (or a cell) of text found on an image, its box in the image's pixels."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    score: float  # the engine's confidence, 0–1

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def width(self) -> float:
        return self.right - self.left


class OcrEngine(Protocol):
    def read(self, image: Image.Image) -> list[OcrLine]:
        """The text lines of an RGB image, in any order."""
        ...


def load_engine(spec: dict[str, Any] | None = None) -> OcrEngine:
    """The engine `spec` names ({"BACKEND", "OPTIONS"}; None: the bundled rapidocr), built once
    per process and spec: loading the models costs more than reading a page."""
    return _load(json.dumps(spec or DEFAULT_SPEC, sort_keys=True))


@cache
def _load(spec_json: str) -> OcrEngine:
    spec = json.loads(spec_json)
    module_name, _, class_name = spec["BACKEND"].rpartition(".")
    try:
        engine_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"KBQA_OCR['BACKEND'] = {spec['BACKEND']!r}: {exc}") from exc
    return engine_class(**spec.get("OPTIONS", {}))
