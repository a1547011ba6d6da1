"""Loopback HTTP servers for tests: the sample channel with faults per file (switchable between runs), and any handler.

`server.fail("rust.webm", "truncated")` makes that file misbehave from the next request on, `server.fix(...)`
serves it whole again, and `server.hits("rust.webm")` counts the requests it got. The feed itself always
answers; `feed.xml?only=rust,react` lists only those items, and `feed.xml?captions=1` (or a server made with
`captions=True`) links the captioned videos to their pages with caption tracks.
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import random
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from tubescribe.sample import SAMPLE_DIR, render_feed

# not_found: 404. rate_limited: 429. truncated: the full Content-Length, then half the bytes and a hang-up.
# corrupt: as many random bytes as the file has, under the file's own content type.
FAULTS = ("not_found", "rate_limited", "truncated", "corrupt")

S = TypeVar("S", bound=socketserver.BaseServer)


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        url = urlsplit(self.path)
        name = url.path.lstrip("/")
        self.server.record(name, dict(self.headers))
        if name == "feed.xml":
            only = parse_qs(url.query).get("only")
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.port}"
            keep = only[0].split(",") if only else self.server.only
            captions = self.server.captions or parse_qs(url.query).get("captions") == ["1"]
            feed = render_feed(f"http://{host}", keep, self.server.directory, captions)
            self._send(feed.encode(), "application/rss+xml")
            return
        fault = self.server.faults.get(name)
        if fault == "not_found":
            self.send_error(404, "Not Found")
        elif fault == "rate_limited":
            self.send_response(429, "Too Many Requests")
            self.send_header("Retry-After", "3600")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault == "truncated":
            data = (self.server.directory / name).read_bytes()
            self._send(data[: len(data) // 2], self._type(name), length=len(data), head=head)
            self.close_connection = True
        elif fault == "corrupt":
            size = (self.server.directory / name).stat().st_size
            self._send(random.Random(name).randbytes(size), self._type(name), head=head)
        elif head:
            super().do_HEAD()
        else:
            super().do_GET()

    def _type(self, name: str) -> str:
        return mimetypes.guess_type(name)[0] or "application/octet-stream"

    def _send(self, body: bytes, content_type: str, length: int | None = None, head: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer(http.server.ThreadingHTTPServer):
    """The sample channel on 127.0.0.1 with switchable per-file faults and a request log."""

    daemon_threads = True

    def __init__(self, directory: Path = SAMPLE_DIR, only: list[str] | None = None, captions: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(directory)))
        self.directory = directory
        self.only = only
        self.captions = captions
        self.faults: dict[str, str] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def feed_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.xml"

    def fail(self, name: str, fault: str) -> None:
        """Make one file answer with a fault from the next request on."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
        self.faults[name] = fault

    def fix(self, name: str) -> None:
        """Serve the file whole again."""
        self.faults.pop(name, None)

    def record(self, name: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((name, headers))

    def hits(self, name: str) -> int:
        """How many requests a file got."""
        with self._lock:
            return sum(1 for requested, _ in self.requests if requested == name)

    def handle_error(self, request: object, client_address: object) -> None:
        # yt-dlp reads the head of a media URL and hangs up, and truncation hangs up on purpose: not errors here.
        pass


@contextmanager
def running(server: S) -> Iterator[S]:
    """Serve `server` from a background thread for the block; shut down and closed afterwards."""
    thread = threading.Thread(target=functools.partial(server.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(directory: Path = SAMPLE_DIR, only: list[str] | None = None, captions: bool = False) -> Iterator[FeedServer]:
    """Run a FeedServer on a free loopback port for the block."""
    with running(FeedServer(directory, only, captions)) as server:
        yield server


@contextmanager
def serve_handler(handler: Callable[..., Any]) -> Iterator[str]:
    """A loopback HTTP server answering with `handler` for the block; yields its base URL."""
    with running(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"
