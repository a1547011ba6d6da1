"""Discover stage: list a channel, playlist or feed with yt-dlp and return video records.

Listing is flat (one request per page, not one per video), which is what makes a nightly check of
a channel with thousands of videos cheap.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlparse

from tubescribe.errors import TubescribeError, classify, hint
from tubescribe.records import VIDEO_ID_RE, Video
from tubescribe.text import clean_text, public_url

log = logging.getLogger(__name__)


class DiscoverError(TubescribeError):
    """A channel could not be listed (dead URL, unsupported site, not a channel).

    Permanent unless yt-dlp's reason says otherwise (`kind=classify(...)`): a 429 is a block, a
    timeout is transient, the same rule as for downloads (errors.py).
    """


class YtdlpLog:
    """Routes yt-dlp's messages into logging instead of stderr (its errors reach us as exceptions)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger

    def debug(self, msg: str) -> None:
        self._log.debug(msg)

    def info(self, msg: str) -> None:
        self._log.debug(msg)

    def warning(self, msg: str) -> None:
        self._log.info(msg)

    def error(self, msg: str) -> None:
        self._log.debug(msg)


def check_channel_url(url: str) -> str:
    """Accept only http(s) URLs as channels: file:// and friends would read the local disk."""
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DiscoverError(f"{url!r} is not an http(s) URL; give a channel, playlist or feed URL")
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        raise DiscoverError(f"{url!r} contains spaces or control characters; percent-encode them")
    return url


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def video_id(entry: dict[str, Any], extractor: str, channel_url: str) -> str:
    """Our id for a listed item: its source plus the source's own id, so no two items share one.

    YouTube's ids are global and kept as they are; other extractors' ids are global within the
    extractor and get its name in front. A generic feed's <guid> is unique only within that feed
    (two podcasts both number their episodes 1, 2, 3), so it is namespaced by the feed's URL.
    """
    from yt_dlp.utils import unsmuggle_url

    raw = entry.get("id")
    if not raw:
        # Feed items carry their <guid> smuggled into the URL for the per-item extractor.
        _, smuggled = unsmuggle_url(entry.get("url") or "", {})
        raw = smuggled.get("force_videoid")
    if raw and extractor == "youtube" and VIDEO_ID_RE.fullmatch(str(raw)):
        return str(raw)
    if raw:
        prefix = extractor if extractor != "generic" else feed_namespace(channel_url)
        return f"{prefix}-{_safe(str(raw))}"
    return "url-" + hashlib.sha256((entry.get("url") or "").encode()).hexdigest()[:16]


def feed_namespace(channel_url: str) -> str:
    """`feed` and a short hash of the feed's URL: what a generic feed's item ids start with."""
    return "feed" + hashlib.sha256(channel_url.strip().encode()).hexdigest()[:10]


def feed_item_id(channel_url: str, guid: str) -> str:
    """The id of the item with this <guid> in the generic feed at `channel_url`."""
    return f"{feed_namespace(channel_url)}-{_safe(guid)}"


# Room left in VIDEO_ID_RE's 80 characters after the longest prefix ("feed" + 10 hex + "-").
_SAFE_MAX = 48


def _safe(raw: str) -> str:
    """`raw` as a file-safe id, one-to-one: kept when already safe and short, else a readable head plus a hash.

    Cleaning ("a/b/c" and "a_b_c") or cutting (two ids sharing their first characters) would merge
    different items into one, so whenever either happens the hash of the whole original is appended.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", raw).strip("_")
    if cleaned == raw and len(raw) <= _SAFE_MAX:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    head = cleaned[: _SAFE_MAX - len(digest) - 1].strip("_-")
    return f"{head}-{digest}" if head else digest


def _published(entry: dict[str, Any]) -> datetime | None:
    for key in ("timestamp", "release_timestamp"):
        if entry.get(key):
            return datetime.fromtimestamp(int(entry[key]), tz=UTC)
    for key in ("upload_date", "release_date"):
        value = entry.get(key)
        if value and re.fullmatch(r"\d{8}", str(value)):
            return datetime.strptime(str(value), "%Y%m%d").replace(tzinfo=UTC)
    return None


def _flatten(entries: Iterable[dict[str, Any] | None]) -> Iterable[dict[str, Any]]:
    # A YouTube channel URL lists its tabs (Videos, Shorts, Live) as nested playlists.
    for entry in entries:
        if not entry:
            continue
        if entry.get("_type") == "playlist" and entry.get("entries") is not None:
            yield from _flatten(entry["entries"])
        else:
            yield entry


def list_channel(url: str, ydl_options: dict[str, Any] | None = None) -> list[Video]:
    """Every video a channel, playlist or feed URL lists, newest first where dates are known."""
    import yt_dlp

    url = check_channel_url(url)
    options = {
        "extract_flat": "in_playlist",
        # Flat YouTube listings carry no dates unless asked; the approximate date is enough for --since/--until.
        "extractor_args": {"youtubetab": {"approximate_date": [""]}},
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "logger": YtdlpLog(log),
        **(ydl_options or {}),
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=False)
    except yt_dlp.utils.DownloadError as exc:
        reason = _clean(exc)
        advice = hint(reason)
        raise DiscoverError(
            f"could not list {url}: {reason}{f'; {advice}' if advice else ''}", kind=classify(exc)
        ) from None
    if not info:
        raise DiscoverError(f"could not list {url}: yt-dlp returned nothing")
    extractor = str(info.get("extractor_key") or info.get("extractor") or "generic").lower()
    if info.get("_type") not in ("playlist", "multi_video"):
        raise DiscoverError(f"{url} is a single video, not a channel, playlist or feed")

    channel_title = clean_text(str(info.get("channel") or info.get("uploader") or info.get("title") or url))
    channel_id = str(info.get("channel_id") or info.get("uploader_id") or "")
    if not channel_id:
        channel_id = f"{extractor}-{_slug(channel_title) or hashlib.sha256(url.encode()).hexdigest()[:12]}"
    channel_url = str(info.get("channel_url") or info.get("webpage_url") or url)

    videos: dict[str, Video] = {}
    for entry in _flatten(info.get("entries") or []):
        entry_extractor = str(entry.get("ie_key") or extractor).lower()
        video_url = entry.get("webpage_url") or entry.get("url")
        if not video_url:
            continue
        video = Video(
            video_id=video_id(entry, entry_extractor, channel_url),
            title=clean_text(str(entry.get("title") or entry.get("id") or video_url)),
            url=public_url(str(video_url)),
            channel_id=channel_id,
            channel_title=channel_title,
            channel_url=channel_url,
            published_at=_published(entry),
            duration_s=float(entry["duration"]) if entry.get("duration") else None,
            extractor=entry_extractor,
            live_status=entry.get("live_status"),
        )
        videos.setdefault(video.video_id, video)
    listed = sorted(videos.values(), key=lambda v: v.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    log.info("listed %d videos from %s", len(listed), channel_title)
    return listed


def select(
    videos: list[Video], since: date | None = None, until: date | None = None, limit: int | None = None
) -> list[Video]:
    """Videos published within [since, until] (inclusive dates), newest first, at most `limit`."""
    chosen = []
    for video in videos:
        day = video.published_at.date() if video.published_at else None
        if since and (day is None or day < since):
            continue
        if until and (day is None or day > until):
            continue
        chosen.append(video)
    chosen.sort(key=lambda v: v.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return chosen[:limit] if limit else chosen


def _clean(exc: Exception) -> str:
    # yt-dlp prefixes messages with a coloured "ERROR:"; keep just the reason.
    return re.sub(r"^(\x1b\[[0-9;]*m)?ERROR:(\x1b\[0m)?\s*", "", str(exc)).strip()
