"""Web sources against a real HTTP server on 127.0.0.1 (http.server in a thread) whose pages and
PDFs change between crawls: the prefix, robots.txt, the depth bound, linked PDFs, changed pages
as new versions, removed pages deleted, a failing page kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingestion.models import Collection, Document, Source
from ingestion.passages import search_passages
from ingestion.services.sync import source_sync
from tests.fixtures.pdf import make_pdf

pytestmark = pytest.mark.django_db


class _Handler(SimpleHTTPRequestHandler):
    broken: set[str] = set()  # paths that answer 500

    def do_GET(self) -> None:
        if self.path in self.broken:
            self.send_error(500)
            return
        super().do_GET()

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    (root / "docs" / "private").mkdir(parents=True)
    (root / "other").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /docs/private/\n")
    _page(root / "docs" / "index.html", "Policies", "All our policies.", [
        "leave.html", "travel.html", "handbook.pdf", "private/salaries.html", "../other/blog.html",
        "deep1.html", "mailto:hr@example.com",
    ])  # fmt: skip
    _page(root / "docs" / "leave.html", "Leave", "Employees have 25 days of annual leave.")
    _page(root / "docs" / "travel.html", "Travel", "Book economy class for short flights.")
    _page(root / "docs" / "private" / "salaries.html", "Salaries", "Secret salary bands.")
    _page(root / "other" / "blog.html", "Blog", "Not a policy at all.")
    _page(root / "docs" / "deep1.html", "Deep 1", "First level.", ["deep2.html"])
    _page(root / "docs" / "deep2.html", "Deep 2", "Second level.", ["deep3.html"])
    _page(root / "docs" / "deep3.html", "Deep 3", "Third level, beyond the depth bound.")
    make_pdf(root / "handbook.pdf", [["Handbook", "The canteen opens at 7:45 on weekdays."]])
    (root / "docs" / "handbook.pdf").write_bytes((root / "handbook.pdf").read_bytes())
    handler = partial(_Handler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        _Handler.broken = set()


def _page(path: Path, title: str, text: str, links: list[str] = ()) -> None:
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    path.write_text(
        f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>"
        f"<ul>{anchors}</ul></main></body></html>"
    )


def _counts(**nonzero: int) -> dict[str, int]:
    return {**dict.fromkeys(("added", "updated", "removed", "unchanged", "failed"), 0), **nonzero}


def test_a_site_section_is_crawled_and_kept_in_step(site, isolated_index):
    base, root = site
    source = Source.objects.create(
        name="intranet",
        kind="web",
        collection=Collection.objects.create(name="Intranet"),
        options={"start_url": f"{base}/docs/index.html", "prefix": "/docs/", "max_depth": 2},
    )
    report = source_sync(source_id=source.pk, inline=True)
    keys = set(source.items.values_list("key", flat=True))
    expected = {f"{base}/docs/{name}" for name in (
        "index.html", "leave.html", "travel.html", "handbook.pdf", "deep1.html", "deep2.html",
    )}  # fmt: skip
    assert keys == expected  # not private (robots.txt), other/ (prefix), deep3 (depth)
    assert report.counts() == _counts(added=6), report.failures
    titles = set(Document.objects.values_list("title", flat=True))
    assert {"Leave", "Travel", "handbook"} <= titles  # a page's <title>, a PDF's file name
    assert "7:45" in search_passages(query="When does the canteen open?", k=1, user=None)[0].text

    assert source_sync(source_id=source.pk, inline=True).counts() == _counts(unchanged=6)

    _page(root / "docs" / "leave.html", "Leave", "Employees have 30 days of annual leave.")
    (root / "docs" / "handbook.pdf").unlink()  # linked, but gone: 404
    _page(root / "docs" / "index.html", "Policies", "All our policies.", [
        "leave.html", "travel.html", "handbook.pdf", "parking.html",
    ])  # fmt: skip
    _page(root / "docs" / "parking.html", "Parking", "Spaces are free after 18:00.")
    _Handler.broken = {"/docs/travel.html"}  # a server error: reported, not taken for removed
    report = source_sync(source_id=source.pk, inline=True)
    assert report.counts() == _counts(added=1, updated=2, removed=3, failed=1)  # index, leave
    assert report.failures == [{"key": f"{base}/docs/travel.html", "error": "HTTP 500"}]
    leave = source.items.get(key=f"{base}/docs/leave.html").document
    assert leave.current_version.number == 2
    passages = search_passages(query="days of annual leave", k=3, user=None)
    assert "30 days" in passages[0].text and not any("25 days" in p.text for p in passages)
    assert Document.objects.filter(title="Travel").exists()
    assert not Document.objects.filter(title__in=["handbook", "Deep 1", "Deep 2"]).exists()


def test_an_unreachable_start_page_changes_nothing(site, isolated_index):
    base, _ = site
    source = Source.objects.create(
        name="intranet",
        kind="web",
        collection=Collection.objects.default(),
        options={"start_url": f"{base}/docs/missing.html"},
    )
    report = source_sync(source_id=source.pk, inline=True)
    assert "404" in report.error and report.counts() == _counts()
