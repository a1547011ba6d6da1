"""The sample channel: spoken media files and an RSS feed, served on 127.0.0.1.

The files in `sample_channel/` were synthesized by `scripts/make_sample_channel.sh` (espeak-ng and
ffmpeg) from real video transcripts; the demo and the tests serve them so that yt-dlp lists and
downloads them through its generic extractor, exactly as it would a podcast feed.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_channel"
FEED_TEMPLATE = "feed.xml.tmpl"


def sample_ids() -> list[str]:
    """Ids of the sample videos, in feed order."""
    return re.findall(r"<guid[^>]*>([^<]+)</guid>", (SAMPLE_DIR / FEED_TEMPLATE).read_text(encoding="utf-8"))


def render_feed(base_url: str, only: list[str] | None = None, directory: Path = SAMPLE_DIR) -> str:
    """The feed with absolute media URLs, optionally keeping only some items."""
    text = (directory / FEED_TEMPLATE).read_text(encoding="utf-8").replace("{base_url}", base_url)
    if only is not None:

        def keep(match: re.Match[str]) -> str:
            guid = re.search(r"<guid[^>]*>([^<]+)</guid>", match.group(0))
            return match.group(0) if guid and guid.group(1) in only else ""

        text = re.sub(r"\s*<item>.*?</item>", keep, text, flags=re.S)
    return text


class _Handler(http.server.SimpleHTTPRequestHandler):
    only: list[str] | None = None

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/feed.xml":
            host = self.headers.get("Host") or "127.0.0.1"
            body = render_feed(f"http://{host}", self.only, Path(self.directory)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_sample_channel(only: list[str] | None = None, directory: Path = SAMPLE_DIR) -> Iterator[str]:
    """Serve the sample channel on a free loopback port; yield the feed URL."""
    handler = type("SampleHandler", (_Handler,), {"only": only})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()
