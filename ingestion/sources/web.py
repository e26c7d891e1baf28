"""A web site or intranet section: crawled from a start URL, breadth first, through pages whose
path lies under a prefix, within bounded depth and page count, as robots.txt allows. HTML pages
under the prefix and PDFs they link to (on the same site) are the documents.

A page or PDF that answers 404 or 410 is gone (its document is removed); one that cannot be
fetched for another reason (a timeout, a 500) is reported failed and its document kept, so a
flaky server never deletes anything. The start page itself failing stops the sync.
"""

from __future__ import annotations

import logging
import tempfile
import urllib.error
import urllib.request
import urllib.robotparser
from collections import deque
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from django.conf import settings

from ingestion.sources.base import Entry, SourceBackend, SourceError

logger = logging.getLogger(__name__)

HTML_TYPES = {"text/html", "application/xhtml+xml"}
PDF_TYPE = "application/pdf"
GONE = {404, 410}
SPOOL_BYTES = 1024 * 1024  # bodies larger than this wait on disk, not in memory


class WebSource(SourceBackend):
    def __init__(
        self,
        start_url: str,
        prefix: str | None = None,
        max_depth: int = 3,
        max_pages: int = 200,
        timeout: float = 20.0,
        user_agent: str = "kbqa-sync",
    ) -> None:
        """`prefix`: the path pages must start with (default: the start URL's folder);
        `max_depth`: links followed from the start page; `max_pages`: documents at most."""
        self.start_url = urldefrag(start_url)[0]
        parts = urlsplit(self.start_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"Not an http(s) URL: {start_url!r}")
        self.site = (parts.scheme, parts.netloc)
        self.prefix = prefix or parts.path.rsplit("/", 1)[0] + "/"
        self.max_depth, self.max_pages = max_depth, max_pages
        self.timeout, self.user_agent = timeout, user_agent
        self.max_bytes = settings.KBQA_MAX_UPLOAD_MB * 1024 * 1024
        self._bodies: dict[str, BinaryIO] = {}

    # -- crawling ----------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        robots = self._robots()
        queue: deque[tuple[str, int]] = deque([(self.start_url, 0)])
        queued = {self.start_url}
        found = 0
        while queue and found < self.max_pages:
            url, depth = queue.popleft()
            if not robots.can_fetch(self.user_agent, url):
                continue
            try:
                body, kind = self._fetch(url)
            except urllib.error.HTTPError as exc:
                if url == self.start_url:
                    raise SourceError(f"The start page answered {exc.code}: {url}") from exc
                if exc.code not in GONE:
                    found += 1
                    yield Entry(key=url, name=_file_name(url, ".html"), error=f"HTTP {exc.code}")
                continue
            except (OSError, ValueError) as exc:
                if url == self.start_url:
                    raise SourceError(f"The start page could not be fetched: {exc}") from exc
                found += 1
                yield Entry(key=url, name=_file_name(url, ".html"), error=str(exc))
                continue
            if kind == PDF_TYPE:
                found += 1
                self._keep(url, body)
                yield Entry(key=url, name=_file_name(url, ".pdf"))
                continue
            if kind not in HTML_TYPES or not self._in_section(url):
                continue  # a link that led elsewhere (a redirect, an image): not a document
            found += 1
            self._keep(url, body)
            title, links = _title_and_links(body, url)
            yield Entry(key=url, name=_file_name(url, ".html"), title=title)
            if depth >= self.max_depth:
                continue
            for link in links:
                if link not in queued and self._worth_following(link):
                    queued.add(link)
                    queue.append((link, depth + 1))

    def open(self, entry: Entry) -> BinaryIO:
        body = self._bodies.pop(entry.key)
        body.seek(0)
        return body

    def _worth_following(self, url: str) -> bool:
        """A page under the prefix, or a PDF anywhere on the same site."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self.site:
            return False
        return self._in_section(url) or parts.path.lower().endswith(".pdf")

    def _in_section(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self.site and parts.path.startswith(self.prefix)

    def _robots(self) -> urllib.robotparser.RobotFileParser:
        robots = urllib.robotparser.RobotFileParser()
        url = f"{self.site[0]}://{self.site[1]}/robots.txt"
        try:
            body, _ = self._fetch(url)
            robots.parse(body.read().decode("utf-8", "replace").splitlines())
        except urllib.error.HTTPError as exc:
            robots.disallow_all = exc.code in (401, 403)  # as RobotFileParser.read does
            robots.allow_all = not robots.disallow_all
        except (OSError, ValueError) as exc:
            raise SourceError(f"robots.txt could not be fetched: {exc}") from exc
        return robots

    def _fetch(self, url: str) -> tuple[BinaryIO, str]:
        """(the body, its media type); HTTPError for an error status."""
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            kind = response.headers.get_content_type()
            body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
            size = 0
            while block := response.read(64 * 1024):
                size += len(block)
                if size > self.max_bytes:
                    body.close()
                    raise ValueError(f"larger than {settings.KBQA_MAX_UPLOAD_MB} MB")
                body.write(block)
        body.seek(0)
        return body, kind

    def _keep(self, url: str, body: BinaryIO) -> None:
        self._bodies[url] = body


def _title_and_links(body: BinaryIO, base: str) -> tuple[str, list[str]]:
    from bs4 import BeautifulSoup

    body.seek(0)
    soup = BeautifulSoup(body.read(), "lxml")
    body.seek(0)
    robots_meta = soup.find("meta", attrs={"name": "robots"})
    nofollow = robots_meta is not None and "nofollow" in robots_meta.get("content", "").lower()
    links = []
    if not nofollow:
        for anchor in soup.find_all("a", href=True):
            link = urldefrag(urljoin(base, anchor["href"].strip()))[0]
            if urlsplit(link).scheme in ("http", "https"):
                links.append(link)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return title[:500], links


def _file_name(url: str, suffix: str) -> str:
    """A file name for the stored copy: the URL's last path segment, with the right suffix."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name or "index"
    if not name.lower().endswith(suffix):
        name = f"{name}{suffix}"
    return name
