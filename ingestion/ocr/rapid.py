"""rapidocr (PP-OCR detection, direction and recognition models on onnxruntime), Chinese and
English in one recognition model.

The models ship inside the rapidocr wheel. Every model path is set explicitly to the bundled
file: left unset, rapidocr resolves a download URL and fetches what it misses, which an offline
site must never attempt. A missing bundled model is an installation error, said at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from ingestion.ocr.engine import OcrLine

# The models of rapidocr 3.10's default configuration (PP-OCRv6 small det/rec, mobile direction).
MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}
# rapidocr scales any image whose longer side exceeds its `Global.max_side_len` (2000 pixels) down
# before detection and recognition alike: a poster rendered at 4000 pixels (pdf_ocr's cap) lost
# its small print (line CER 22.6 % against 0.2 % unscaled, docs/ocr.md). Pages up to A4 at 150 dpi
# are below both caps; larger images cost more time a page, within the sandbox's allowance.
MAX_SIDE = 4000


def bundled_models() -> dict[str, Path]:
    import rapidocr

    folder = Path(rapidocr.__file__).parent / "models"
    paths = {task: folder / name for task, name in MODELS.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise RuntimeError(
            "rapidocr's bundled models are missing (" + ", ".join(missing) + "): reinstall "
            "rapidocr from requirements.txt; kbqa never downloads models."
        )
    return paths


class RapidOcrEngine:
    """`threads`: onnxruntime's threads per model call (None: one per core). `params`: further
    rapidocr settings by their dotted names ("Det.box_thresh", "Global.max_side_len", ...)."""

    def __init__(
        self, *, threads: int | None = None, min_score: float = 0.5, params: dict | None = None
    ) -> None:
        from rapidocr import RapidOCR

        # rapidocr's own detection size (the shorter side at least 736 pixels) is kept: scaling
        # pages down to 960 pixels instead (PaddleOCR's default) was a quarter faster but missed
        # small print, at three times the error rate (docs/ocr.md).
        config: dict[str, Any] = {
            "Global.log_level": "warning",
            "Global.text_score": min_score,
            "Global.max_side_len": MAX_SIDE,
        }
        for task, path in bundled_models().items():
            config[f"{task}.model_path"] = str(path)
        if threads:
            config["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        config.update(params or {})
        self.ocr = RapidOCR(params=config)

    def read(self, image: Image.Image) -> list[OcrLine]:
        result = self.ocr(image)
        if not result.txts:
            return []
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs, ys = box[:, 0], box[:, 1]
            lines.append(
                OcrLine(
                    text=text,
                    left=float(xs.min()),
                    top=float(ys.min()),
                    right=float(xs.max()),
                    bottom=float(ys.max()),
                    score=float(score),
                )
            )
        return lines
