"""Parse a file in a child Python process with a hard time and memory limit.

A parser stuck in C code (or in an endless pure-Python loop) cannot be interrupted from inside the
worker; a child process can always be killed. The child writes the parsed document as JSON on
stdout. subprocess is used rather than multiprocessing because Celery's prefork children are
daemonic and may not start multiprocessing children.

OCR runs in the same child, under the same limits. Its progress comes back as lines on the
child's stderr (`PROGRESS done total`), read while the child works; the time limit grows by
`ocr_page_s` for each page the child says it will OCR, so a long scan is not killed by the limit
that keeps a hostile text file short. A child whose parent died (a worker killed mid-document)
stops at its next page: writing its progress to the closed pipe fails. The child gets few malloc
arenas: onnxruntime's threads would otherwise each reserve an arena of address space, which the
memory limit counts.

Run as `python -m ingestion.parsers.sandbox PATH NAME MEMORY_MB [OCR_SPEC_JSON]`.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ingestion.parsers import ParsedDocument, ParseError, parse_file

REPO = Path(__file__).resolve().parents[2]
PROGRESS = "kbqa-ocr-progress"
CHILD_ENV = {"MALLOC_ARENA_MAX": "2"}

Progress = Callable[[int, int], None]


def parse_isolated(
    path: Path,
    *,
    name: str,
    timeout_s: float,
    memory_mb: int,
    ocr: dict | None = None,
    ocr_page_s: float = 0.0,
    on_progress: Progress | None = None,
) -> ParsedDocument:
    """Parse `path` in a child; `ocr` is the OCR engine's spec (settings' KBQA_OCR), and
    `on_progress(done, total)` is called, in this thread, as the child OCRs pages."""
    command = [sys.executable, "-m", "ingestion.parsers.sandbox", str(path), name, str(memory_mb)]
    if ocr is not None:
        command.append(json.dumps(ocr))
    child = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **CHILD_ENV},
    )
    stdout: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: stdout.append(child.stdout.read()), daemon=True),
    ]
    lines: queue.Queue[bytes | None] = queue.Queue()

    def read_stderr() -> None:
        for line in child.stderr:
            lines.put(line)
        lines.put(None)

    readers.append(threading.Thread(target=read_stderr, daemon=True))
    for reader in readers:
        reader.start()
    stderr: deque[bytes] = deque(maxlen=20)
    start = time.monotonic()
    limit = timeout_s
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, start + limit - time.monotonic()))
            except queue.Empty:
                raise _timeout(limit) from None
            if line is None:
                break
            progress = _progress(line)
            if progress is None:
                stderr.append(line)
                continue
            done, total = progress
            limit = timeout_s + ocr_page_s * total
            if on_progress is not None:
                on_progress(done, total)
        try:
            child.wait(timeout=max(0.0, start + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise _timeout(limit) from None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for reader in readers:
            reader.join(timeout=10)
        child.stdout.close()
        child.stderr.close()
    return _result(child.returncode, b"".join(stdout), b"".join(stderr), memory_mb)


def _progress(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 3 and parts[0] == PROGRESS.encode() and parts[1].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def _timeout(seconds: float) -> ParseError:
    return ParseError(
        f"Parsing took longer than the {seconds:g} s limit and was stopped "
        "(the file may be built to hang parsers).",
        "parse_timeout",
        seconds=f"{seconds:g}",
    )


def _result(returncode: int, stdout: bytes, stderr: bytes, memory_mb: int) -> ParsedDocument:
    if returncode != 0 or not stdout:
        if returncode in (-signal.SIGKILL, -signal.SIGSEGV) or b"MemoryError" in stderr:
            raise ParseError(
                f"The parser crashed or ran out of its {memory_mb} MB memory limit on this file.",
                "parse_memory",
                mb=memory_mb,
            )
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:]
        detail = " ".join(tail) or str(returncode)
        raise ParseError(
            f"The parser failed on this file ({detail}).", "parser_failed", detail=detail
        )
    data = json.loads(stdout)
    if "error" in data:
        raise ParseError(data["error"], data.get("code", "unreadable"), **data.get("params", {}))
    return ParsedDocument.from_json(data)


def _report(done: int, total: int) -> None:
    sys.stderr.write(f"{PROGRESS} {done} {total}\n")
    sys.stderr.flush()


# How native libraries word a failed allocation: onnxruntime's std::bad_alloc, or the thread pool
# it could not start under the memory limit ("pthread_create failed, error code: 12 error msg:
# Cannot allocate memory", ENOMEM).
_OUT_OF_MEMORY = ("bad_alloc", "Cannot allocate memory")


def _main(path: str, name: str, memory_mb: str, ocr_spec: str = "") -> None:
    import os
    import resource

    from ingestion.ocr import PageReader

    # The result is the only thing on stdout: what libraries print there (onnxruntime's
    # "EP Error" banner, from Python or C) goes to stderr with the rest of their chatter.
    result = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    ocr = PageReader(json.loads(ocr_spec) if ocr_spec else None, on_progress=_report)
    try:
        data = parse_file(Path(path), name=name, ocr=ocr).to_json()
    except ParseError as exc:
        data = {"error": str(exc), "code": exc.code, "params": exc.params}
    except MemoryError:
        data = _out_of_memory(memory_mb)
    except Exception as exc:  # any parser bug on a hostile file is a property of that file
        detail = f"{type(exc).__name__}: {exc}"
        if any(words in detail for words in _OUT_OF_MEMORY):
            data = _out_of_memory(memory_mb)
        else:
            data = {
                "error": f"The parser failed on this file ({detail}).",
                "code": "parser_failed",
                "params": {"detail": detail},
            }
    result.write(json.dumps(data))
    result.close()


def _out_of_memory(memory_mb: str) -> dict:
    return {
        "error": f"The file needs more than the {memory_mb} MB parsing memory limit.",
        "code": "parse_memory",
        "params": {"mb": int(memory_mb)},
    }


if __name__ == "__main__":
    _main(*sys.argv[1:5])
