"""Load: 50 concurrent clients on `POST /api/v1/search/` and 5 on `POST /api/v1/ask/` against a real
gunicorn server on loopback, for a bounded time and request count. Prints throughput, p50/p95/max
latency and errors per endpoint (goal: zero errors).

Runs on a throw-away data directory: a small corpus is written and ingested with the configured
embedder, a superuser and an API token are created, then gunicorn serves `kbqa.wsgi` on
127.0.0.1 (never another interface) with the throttle raised out of the way.

    python bench/load.py                          # 60 s, 50 search + 5 ask clients
    python bench/load.py --duration 20 --ask-clients 0
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _django import REPO, setup_throwaway_django

TOPICS = [
    ("cafeteria", "The Zorblax cafeteria on the third floor opens at 7:45 and closes at 15:00."),
    ("parking", "Staff parking permits cost 40 euros a month and are issued by facilities."),
    ("travel", "Economy class train tickets are reimbursed; flights need a manager's approval."),
    ("expenses", "Expense reports must be submitted within 30 days of the trip, with receipts."),
    ("leave", "Employees have 25 days of annual leave; up to 5 days carry over to next year."),
    ("security", "Badges must be worn visibly; lost badges are reported to reception at once."),
    ("laptops", "Laptops are replaced every four years; the IT desk handles repairs."),
    ("training", "Each employee has a training budget of 1,500 euros a year."),
    ("remote", "Remote work is allowed up to three days a week with the team's agreement."),
    ("health", "The company doctor is available on Tuesdays from 9:00 to 12:00."),
]
QUESTIONS = [
    "When does the cafeteria open?",
    "How much does a parking permit cost?",
    "How many days of annual leave do employees have?",
    "What is the training budget?",
    "When is the company doctor available?",
]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    degraded: int = 0  # ask answered 200 with `error` set (model too slow or down)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, error: str | None = None, degraded: bool = False) -> None:
        with self.lock:
            if error:
                self.errors.append(error)
            else:
                self.latencies.append(seconds)
                self.degraded += degraded


def prepare(corpus_copies: int) -> tuple[Path, str]:
    data_dir = setup_throwaway_django("kbqa-bench-load-")
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from ingestion.services.ingest import document_ingest
    from ingestion.services.uploads import document_create
    from kbqa.api.tokens import token_create

    started = time.perf_counter()
    for copy in range(corpus_copies):
        for topic, text in TOPICS:
            body = f"# {topic.title()} (edition {copy + 1})\n\n{text}\n"
            document = document_create(
                file=ContentFile(body.encode(), name=f"{topic}-{copy + 1}.md"), enqueue=False
            )
            document_ingest(document_id=document.pk)
    took = time.perf_counter() - started
    print(f"ingested {corpus_copies * len(TOPICS)} documents in {took:.1f}s")
    user = get_user_model().objects.create_superuser("bench", password="bench-password-1")
    _, key = token_create(user=user, name="load bench", scope="ask")
    return data_dir, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "KBQA_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "kbqa.settings.local",
        "DJANGO_DEBUG": "0",
        "KBQA_API_RATE": "1000000/min",
        "KBQA_API_ASK_RATE": "1000000/min",
        "KBQA_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "kbqa.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads),
            "--timeout", "600", "--log-level", "warning",
        ],
        cwd=REPO,
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited") from None
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def post(url: str, key: str, body: dict, timeout: float) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def client(
    url: str, key: str, bodies: list[dict], stats: Stats, stop_at: float, max_requests: int
) -> None:
    for i in range(max_requests):
        if time.monotonic() >= stop_at:
            return
        started = time.perf_counter()
        try:
            status, data = post(url, key, bodies[i % len(bodies)], timeout=600)
        except Exception as exc:  # connection refused, reset, timeout: all count as errors
            stats.record(0, f"{type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        if status != 200:
            stats.record(elapsed, f"HTTP {status}")
        else:
            stats.record(elapsed, degraded=bool(data.get("error")))


def report(name: str, clients: int, stats: Stats, wall: float) -> None:
    done = len(stats.latencies)
    if done:
        ordered = sorted(stats.latencies)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        figures = (
            f"p50 {p50 * 1000:.0f} ms  p95 {p95 * 1000:.0f} ms  max {ordered[-1] * 1000:.0f} ms"
        )
    else:
        figures = "no successful request"
    print(
        f"{name:<7} clients {clients:>3}  ok {done:>5}  errors {len(stats.errors):>3}  "
        f"{done / wall:7.2f} req/s  {figures}"
        + (f"  (answered with a model error: {stats.degraded})" if stats.degraded else "")
    )
    for error in sorted(set(stats.errors))[:5]:
        print(f"        e.g. {error} (x{stats.errors.count(error)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--search-clients", type=int, default=50)
    parser.add_argument("--ask-clients", type=int, default=5)
    parser.add_argument("--max-requests", type=int, default=2000, help="per client")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker")
    parser.add_argument("--corpus-copies", type=int, default=2)
    args = parser.parse_args()

    data_dir, key = prepare(args.corpus_copies)
    port = free_port()
    server = start_server(data_dir, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        # Warm every worker (models load on first use) before the clock starts.
        for _ in range(args.workers * 2):
            post(f"{base}/search/", key, {"query": QUESTIONS[0]}, timeout=600)
        if args.ask_clients:
            for _ in range(args.workers):
                post(f"{base}/ask/", key, {"question": QUESTIONS[0]}, timeout=600)
        searches = [{"query": q, "k": 5} for q in QUESTIONS]
        asks = [{"question": q} for q in QUESTIONS]
        search_stats, ask_stats = Stats(), Stats()
        started = time.monotonic()
        stop_at = started + args.duration
        threads = [
            threading.Thread(
                target=client,
                args=(f"{base}/search/", key, searches, search_stats, stop_at, args.max_requests),
            )
            for _ in range(args.search_clients)
        ] + [
            threading.Thread(
                target=client,
                args=(f"{base}/ask/", key, asks, ask_stats, stop_at, args.max_requests),
            )
            for _ in range(args.ask_clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        print(
            f"\n{wall:.1f}s of load on 127.0.0.1 (gunicorn {args.workers} workers x "
            f"{args.threads} threads, {os.cpu_count()} CPUs)"
        )
        report("search", args.search_clients, search_stats, wall)
        if args.ask_clients:
            report("ask", args.ask_clients, ask_stats, wall)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
