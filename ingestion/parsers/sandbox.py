"""Parse a file in a child Python process with a hard time and memory limit.

A parser stuck in C code (or in an endless pure-Python loop) cannot be interrupted from inside the
worker; a child process can always be killed. The child writes the parsed document as JSON on
stdout. subprocess is used rather than multiprocessing because Celery's prefork children are
daemonic and may not start multiprocessing children.

Run as `python -m ingestion.parsers.sandbox PATH NAME MEMORY_BYTES`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from ingestion.parsers import ParsedDocument, ParseError, parse_file

REPO = Path(__file__).resolve().parents[2]


def parse_isolated(path: Path, *, name: str, timeout_s: float, memory_mb: int) -> ParsedDocument:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ingestion.parsers.sandbox", str(path), name, str(memory_mb)],
            cwd=REPO,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(
            f"Parsing took longer than the {timeout_s:g} s limit and was stopped "
            "(the file may be built to hang parsers).",
            "parse_timeout",
            seconds=f"{timeout_s:g}",
        ) from None
    if result.returncode != 0 or not result.stdout:
        if result.returncode in (-signal.SIGKILL, -signal.SIGSEGV) or b"MemoryError" in (
            result.stderr or b""
        ):
            raise ParseError(
                f"The parser crashed or ran out of its {memory_mb} MB memory limit on this file.",
                "parse_memory",
                mb=memory_mb,
            )
        tail = (result.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        detail = " ".join(tail) or str(result.returncode)
        raise ParseError(
            f"The parser failed on this file ({detail}).", "parser_failed", detail=detail
        )
    data = json.loads(result.stdout)
    if "error" in data:
        raise ParseError(data["error"], data.get("code", "unreadable"), **data.get("params", {}))
    return ParsedDocument.from_json(data)


def _main(path: str, name: str, memory_mb: str) -> None:
    import resource

    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        data = parse_file(Path(path), name=name).to_json()
    except ParseError as exc:
        data = {"error": str(exc), "code": exc.code, "params": exc.params}
    except MemoryError:
        data = {
            "error": f"The file needs more than the {memory_mb} MB parsing memory limit.",
            "code": "parse_memory",
            "params": {"mb": int(memory_mb)},
        }
    except Exception as exc:  # any parser bug on a hostile file is a property of that file
        detail = f"{type(exc).__name__}: {exc}"
        data = {
            "error": f"The parser failed on this file ({detail}).",
            "code": "parser_failed",
            "params": {"detail": detail},
        }
    sys.stdout.write(json.dumps(data))


if __name__ == "__main__":
    _main(*sys.argv[1:4])
