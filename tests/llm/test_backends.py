"""The LLM back ends against real models: llama.cpp in this process, and llama-cpp-python's own
OpenAI-compatible server on 127.0.0.1 for the HTTP back end (it serves the same bundled GGUF)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from llm.backends import get_llm
from llm.backends.base import LLMTimeout, LLMUnavailable
from llm.backends.openai_compat import OpenAICompatibleBackend
from llm.bundled import bundled_gguf_path

CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Count from 1 to 5, separated by commas."},
]


@pytest.fixture(scope="module")
def llm():
    return get_llm()


def test_stream_yields_the_generated_reply_piece_by_piece(llm):
    pieces = list(llm.stream(CHAT, max_tokens=16))
    assert len(pieces) > 1
    assert "1, 2, 3" in "".join(pieces)
    assert llm.generate(CHAT, max_tokens=16) == "".join(pieces).strip()


def test_count_tokens_uses_the_models_tokenizer(llm):
    assert llm.count_tokens("hello") == 1
    assert llm.count_tokens("hello hello hello") == 3
    # Chinese takes more tokens per character than English words do per character.
    assert llm.count_tokens("员工出差可以报销火车票") > 3
    assert llm.count_message_tokens(CHAT) > llm.count_tokens(CHAT[1]["content"])


def test_concurrent_requests_are_serialised_not_crashed(llm):
    results: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            results.append(llm.generate(CHAT, max_tokens=6))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 3 and len(set(results)) == 1  # greedy: the same reply each time


def test_a_caller_waiting_too_long_gets_a_timeout(llm, monkeypatch):
    monkeypatch.setattr(llm, "queue_timeout", 0.2)
    holder = llm.stream(CHAT, max_tokens=8)
    next(holder)  # holds the model until the stream is closed
    try:
        with pytest.raises(LLMTimeout, match="busy"):
            next(llm.stream(CHAT, max_tokens=8))
    finally:
        holder.close()
    assert llm.generate(CHAT, max_tokens=4)  # the closed stream gave the model back


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def openai_server(tmp_path_factory) -> Iterator[str]:
    """`python -m llama_cpp.server` on the bundled GGUF, on a free loopback port."""
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] not installed")
    gguf = bundled_gguf_path(Path(settings.MODEL_DIR))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(gguf), "--model_alias", "qwen-test",
                "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", "2048", "--n_threads", "2",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/models", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()}")
            time.sleep(0.5)
    yield base_url
    process.terminate()
    process.wait(timeout=30)


def test_openai_backend_streams_and_counts_with_the_servers_tokenizer(openai_server, llm):
    backend = OpenAICompatibleBackend(base_url=openai_server, model="qwen-test", n_ctx=2048)
    pieces = list(backend.stream(CHAT, max_tokens=16))
    assert len(pieces) > 1
    # The same GGUF, decoded greedily, says the same in process and over HTTP.
    assert "".join(pieces).strip() == llm.generate(CHAT, max_tokens=16)
    text = "员工出差可以报销火车票 and economy tickets"
    assert backend.count_tokens(text) == pytest.approx(llm.count_tokens(text), abs=1)
    assert backend._tokenize_url.endswith("/extras/tokenize")


def test_openai_backend_sends_the_key_from_the_environment(openai_server, monkeypatch):
    # The server was started without a key, so it accepts any; check the header we send.
    monkeypatch.setenv("KBQA_TEST_LLM_KEY", "sekret")
    backend = OpenAICompatibleBackend(base_url=openai_server, api_key_env="KBQA_TEST_LLM_KEY")
    assert backend._headers()["Authorization"] == "Bearer sekret"
    monkeypatch.delenv("KBQA_TEST_LLM_KEY")
    assert "Authorization" not in backend._headers()


def test_openai_backend_down_is_a_clear_error():
    backend = OpenAICompatibleBackend(base_url=f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(LLMUnavailable, match="not reachable"):
        list(backend.stream(CHAT))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers: a hung model server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_openai_backend_times_out_on_a_silent_server(silent_server):
    backend = OpenAICompatibleBackend(base_url=silent_server, timeout=1.0)
    with pytest.raises(LLMTimeout, match="did not respond"):
        list(backend.stream(CHAT))


def test_bundled_names_pick_their_model_and_plain_bundled_the_best_installed(monkeypatch):
    from llm import bundled

    # The packages are found without importing them (they are bare data containers).
    assert bundled.is_installed(bundled.QWEN25_CODER_05B) is True
    assert bundled.bundled_model("bundled:0.5b") is bundled.QWEN25_CODER_05B
    assert bundled.bundled_model("bundled:1.5b") is bundled.QWEN25_CODER_15B
    monkeypatch.setattr(bundled, "is_installed", lambda model: False)
    assert bundled.bundled_model("bundled") is bundled.QWEN25_CODER_05B
    monkeypatch.setattr(bundled, "is_installed", lambda model: model.parts == 22)
    assert bundled.bundled_model("bundled") is bundled.QWEN25_CODER_15B
