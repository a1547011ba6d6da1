"""A caption track's text, fetched through the same yt-dlp session that listed it.

yt-dlp's `urlopen` brings the session's cookies, proxy and headers, which YouTube's caption URLs
need. Those URLs carry a proof-of-origin token (`pot=`), so no message here ever holds the URL: the
track is named instead. A 404 only means this track is gone (Whisper still can run); a 429 means the
platform is rate-limiting us, which every further request would make worse, so it blocks the platform.
"""

from __future__ import annotations

import codecs
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tubescribe.errors import Kind, TubescribeError, redact
from tubescribe.stages.captions.parse import MAX_CHARS
from tubescribe.stages.captions.tracks import Track
from tubescribe.text import clean_text

if TYPE_CHECKING:
    import yt_dlp

MAX_BYTES = MAX_CHARS
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
_QUERY = re.compile(r"\S*\?\S+")


class CaptionsBlocked(TubescribeError):
    """The platform answered a caption download with HTTP 429: stop asking it for a while."""

    kind = Kind.BLOCKED


class FetchRejected(Exception):
    """This track could not be fetched as text; the message says why, without its URL."""


def fetch_text(video_id: str, track: Track, ydl: yt_dlp.YoutubeDL, pause_s: float = 0.0) -> str:
    """The track's text: its inline data, or downloaded after a pause of `pause_s` seconds."""
    if track.data is not None:
        if len(track.data) > MAX_CHARS:
            raise FetchRejected(f"larger than {MAX_BYTES // 1_000_000} MB")
        return track.data
    if not track.url:
        raise FetchRejected("the listing gives neither a URL nor the text")
    if pause_s > 0:
        # Before every download, not only between two of one video: the next video's come right after.
        time.sleep(pause_s)
    return _decode(_download(video_id, track, track.url, ydl))


def _download(video_id: str, track: Track, url: str, ydl: yt_dlp.YoutubeDL) -> bytes:
    from yt_dlp.networking import Request
    from yt_dlp.networking.exceptions import HTTPError, RequestError

    request = Request(url, headers=dict(track.headers), extensions=_impersonation(ydl, track.impersonate))
    try:
        with ydl.urlopen(request) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except HTTPError as exc:
        exc.response.close()
        if exc.status == 429:
            raise CaptionsBlocked(
                f"{video_id}: the platform answered HTTP 429 (Too Many Requests) to the download of the "
                f"{track.label} captions; its requests pause for TUBESCRIBE_BLOCK_COOLDOWN_S, and "
                "TUBESCRIBE_SLEEP_CAPTIONS_S spaces caption downloads further apart"
            ) from None
        raise FetchRejected("not found (HTTP 404)" if exc.status == 404 else f"HTTP {exc.status}") from None
    except RequestError as exc:
        raise FetchRejected(f"download failed ({safe_message(exc, url)})") from None
    if len(body) > MAX_BYTES:
        raise FetchRejected(f"larger than {MAX_BYTES // 1_000_000} MB")
    return body


def _impersonation(ydl: yt_dlp.YoutubeDL, wanted: Any) -> dict[str, Any]:
    """Impersonate a browser only with a target this installation has, as yt-dlp's own downloader does.

    YouTube's caption formats ask for it (`impersonate: True`); forcing it without curl_cffi fails every
    request ("Impersonate target ... is not available"), while a plain request is served.
    """
    if not wanted:
        return {}
    target, _ = ydl._parse_impersonate_targets(wanted)
    return {"impersonate": target} if target else {}


def _decode(body: bytes) -> str:
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # some sites' SubRip files
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError:
            raise FetchRejected("not UTF-16 text as its byte-order mark says") from None
    if b"\x00" in body:
        raise FetchRejected("binary data, not caption text")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FetchRejected(f"not UTF-8 text (byte {exc.start})") from None


def safe_message(exc: Exception, url: str) -> str:
    """A network error's words without the URL, its query, or any other URL or token in them, capped.

    urllib3 words a failure "...Max retries exceeded with url: /api/timedtext?...&pot=...": the path and
    query, without the scheme, so removing whole URLs alone would leave the token.
    """
    text = _QUERY.sub("<url>", _URL.sub("<url>", clean_text(str(exc))))
    for secret in (url, urlsplit(url).query):
        if secret:  # in case a message quotes them cut up in a way the patterns miss
            text = text.replace(secret, "<redacted>")
    return redact(text)[:200]
