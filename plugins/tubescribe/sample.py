"""The sample channel: spoken media files and an RSS feed, served on 127.0.0.1.

The files in `sample_channel/` were synthesized by `scripts/make_sample_channel.sh` (espeak-ng and
ffmpeg) from real video transcripts; the demo and the tests serve them so that yt-dlp lists and
downloads them through its generic extractor, exactly as it would a podcast feed.

Two videos also have creator captions (`scripts/make_sample_captions.py`): a page with a `<video>`
and its `<track>`. With `captions=True` the feed links those items to their page instead of to
the bare media file, as a video site's feed does, so yt-dlp finds the captions there.
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


def captioned_ids(directory: Path = SAMPLE_DIR) -> list[str]:
    """Ids of the sample videos with a captioned page (served as such by `render_feed(captions=True)`)."""
    return [video_id for video_id in sample_ids() if (directory / f"{video_id}.html").is_file()]


def render_feed(
    base_url: str, only: list[str] | None = None, directory: Path = SAMPLE_DIR, captions: bool = False
) -> str:
    """The feed with absolute media URLs, optionally keeping only some items, and with `captions`
    linking the captioned items to their page rather than to their media."""
    text = (directory / FEED_TEMPLATE).read_text(encoding="utf-8").replace("{base_url}", base_url)
    paged = captioned_ids(directory) if captions else []

    def item(match: re.Match[str]) -> str:
        guid = re.search(r"<guid[^>]*>([^<]+)</guid>", match.group(0))
        video_id = guid.group(1) if guid else ""
        if only is not None and video_id not in only:
            return ""
        if video_id in paged:
            # yt-dlp takes an item's enclosure before its link: the page is the item's only URL.
            return re.sub(r"<enclosure [^>]*/>", f"<link>{base_url}/{video_id}.html</link>", match.group(0))
        return match.group(0)

    return re.sub(r"\s*<item>.*?</item>", item, text, flags=re.S)


class _Handler(http.server.SimpleHTTPRequestHandler):
    only: list[str] | None = None
    captions = False

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/feed.xml":
            host = self.headers.get("Host") or "127.0.0.1"
            body = render_feed(f"http://{host}", self.only, Path(self.directory), self.captions).encode()
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
def serve_sample_channel(
    only: list[str] | None = None, directory: Path = SAMPLE_DIR, captions: bool = False
) -> Iterator[str]:
    """Serve the sample channel on a free loopback port (with its captioned pages if `captions`); yield the feed URL."""
    handler = type("SampleHandler", (_Handler,), {"only": only, "captions": captions})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()
