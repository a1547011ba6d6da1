"""The channel registry: `channels.toml` in the store, the list the nightly DAG ingests.

It lives where the artifacts do (the home, or `TUBESCRIBE_STORE_URL`), so a channel added on one
machine is what the nightly discover lists on another.

The file is versioned (`version = 1`) so later releases can migrate it instead of guessing.

One channel is registered once, however its URL is spelled: `channel_key` compares URLs the way
yt-dlp treats them (YouTube's host variants, `http`, a trailing `/`, a channel tab such as `/videos`
all name the same channel), and YouTube URLs are stored in one canonical form (`canonical_url`).
Other URLs are stored as given: a generic feed's URL is part of its videos' ids (discover.feed_namespace).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from tubescribe.errors import TubescribeError
from tubescribe.records import Video
from tubescribe.settings import Settings
from tubescribe.stages.discover import DiscoverError, check_channel_url
from tubescribe.store import Blobs

log = logging.getLogger(__name__)

VERSION = 1
KEY = "channels.toml"


class ChannelsFileError(TubescribeError, ValueError):
    """channels.toml cannot be read; the message says which line or field to fix."""


SHORTS_MAX_S = 60  # YouTube Shorts are at most a minute


@dataclass(frozen=True)
class Channel:
    """A registered channel and its rules for which videos to ingest."""

    url: str
    since: date | None = None
    max_videos: int | None = None
    include: str | None = None  # regex a title must match
    exclude: str | None = None  # regex a title must not match
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    skip_shorts: bool = False
    skip_live: bool = False

    def accepts(self, video: Video) -> bool:
        """Whether the channel's title, duration, shorts and live rules let this video in."""
        if self.include and not re.search(self.include, video.title, re.IGNORECASE):
            return False
        if self.exclude and re.search(self.exclude, video.title, re.IGNORECASE):
            return False
        duration = video.duration_s
        if self.min_duration_s is not None and (duration is None or duration < self.min_duration_s):
            return False
        if self.max_duration_s is not None and (duration is None or duration > self.max_duration_s):
            return False
        if self.skip_shorts and ("/shorts/" in video.url or (duration is not None and duration <= SHORTS_MAX_S)):
            return False
        return not (self.skip_live and video.live_status in ("is_live", "is_upcoming", "was_live", "post_live"))


# The hosts yt-dlp's YouTube extractor rewrites to www.youtube.com (music.youtube.com it treats apart).
YOUTUBE_HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com")
# A channel's page, and the tabs of it that name the channel itself: yt-dlp lists `/@x` as all its uploads
# (videos, shorts, streams); `/featured`, `/home` and `/about` are its front pages, not its uploads.
_CHANNEL_PAGE = re.compile(
    r"^(/(?:@[^/]+|channel/[^/]+|c/[^/]+|user/[^/]+))(?:/(?:featured|home|videos|streams|shorts|about))?/*$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL a channel is registered under: a YouTube URL in yt-dlp's form, any other URL as given."""
    url = check_channel_url(url)
    parts = urlsplit(url)
    if (parts.hostname or "") not in YOUTUBE_HOSTS or parts.port is not None:
        return url
    page = _CHANNEL_PAGE.match(parts.path)
    path = page.group(1) if page else parts.path.rstrip("/")
    return f"https://www.youtube.com{path}" + (f"?{parts.query}" if parts.query else "")


def channel_key(url: str) -> str:
    """What two URLs of the same channel share: the canonical URL without scheme, default port or trailing `/`.

    Only for comparing: a generic feed keeps the URL it was registered with, since its ids depend on it.
    """
    parts = urlsplit(canonical_url(url))
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port not in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else ""
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{host}{port}{parts.path.rstrip('/')}{query}{fragment}"


RULES = ("since", "max_videos", "include", "exclude", "min_duration_s", "max_duration_s", "skip_shorts", "skip_live")


def rule_changes(before: Channel, after: Channel) -> list[tuple[str, Any, Any]]:
    """(rule, old value, new value) for every rule that differs between two registrations of a channel."""
    return [
        (name, getattr(before, name), getattr(after, name))
        for name in RULES
        if getattr(before, name) != getattr(after, name)
    ]


_FIELDS: dict[str, tuple[type, ...]] = {
    "include": (str,),
    "exclude": (str,),
    "min_duration_s": (int, float),
    "max_duration_s": (int, float),
    "skip_shorts": (bool,),
    "skip_live": (bool,),
}


def load_channels(settings: Settings) -> list[Channel]:
    """The registered channels (none if the file does not exist yet)."""
    blobs = Blobs(settings)
    path = blobs.location(KEY)
    raw = blobs.read(KEY)
    if raw is None:
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChannelsFileError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChannelsFileError(f"{path}: {exc}") from None
    if data.get("version") != VERSION:
        raise ChannelsFileError(f"{path}: expected version = {VERSION}, found {data.get('version')!r}")
    channels = []
    for i, entry in enumerate(data.get("channels", []), start=1):
        if not isinstance(entry, dict) or "url" not in entry:
            raise ChannelsFileError(f"{path}: channel #{i} needs a url")
        since = entry.get("since")
        # TOML datetimes are dates too in Python; a time of day has no meaning for a publish-date filter.
        if since is not None and (not isinstance(since, date) or isinstance(since, datetime)):
            raise ChannelsFileError(f"{path}: channel #{i} since must be a date like 2024-01-31")
        max_videos = entry.get("max_videos")
        if max_videos is not None and (
            isinstance(max_videos, bool) or not isinstance(max_videos, int) or max_videos < 1
        ):
            raise ChannelsFileError(f"{path}: channel #{i} max_videos must be a positive whole number")
        try:
            url = canonical_url(str(entry["url"]))
        except DiscoverError as exc:
            raise ChannelsFileError(f"{path}: channel #{i}: {exc}") from None
        rules: dict[str, Any] = {}
        for name, types in _FIELDS.items():
            value = entry.get(name)
            if value is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise ChannelsFileError(f"{path}: channel #{i} {name} has the wrong type ({value!r})")
            if name in ("include", "exclude"):
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise ChannelsFileError(f"{path}: channel #{i} {name} is not a valid regex: {exc}") from None
            rules[name] = value
        unknown = set(entry) - {"url", "since", "max_videos", *_FIELDS}
        if unknown:
            raise ChannelsFileError(f"{path}: channel #{i} has unknown keys: {', '.join(sorted(unknown))}")
        channels.append(Channel(url=url, since=since, max_videos=max_videos, **rules))
    return _once_each(channels, str(path))


def _once_each(channels: list[Channel], path: str) -> list[Channel]:
    # A registry written before URLs were compared by channel may hold one channel twice; the first wins.
    seen: set[str] = set()
    kept = []
    for channel in channels:
        key = channel_key(channel.url)
        if key in seen:
            log.warning("%s: %s is registered twice; the first entry's rules apply", path, channel.url)
            continue
        seen.add(key)
        kept.append(channel)
    return kept


def save_channels(settings: Settings, channels: list[Channel]) -> None:
    """Write the registry (atomically)."""
    lines = [f"version = {VERSION}", ""]
    for channel in channels:
        lines += ["[[channels]]", f"url = {_quote(channel.url)}"]
        if channel.since:
            lines.append(f"since = {channel.since.isoformat()}")
        if channel.max_videos:
            lines.append(f"max_videos = {channel.max_videos}")
        for name in _FIELDS:
            value = getattr(channel, name)
            if isinstance(value, str):
                lines.append(f"{name} = {_quote(value)}")
            elif isinstance(value, bool):
                if value:
                    lines.append(f"{name} = true")
            elif value is not None:
                lines.append(f"{name} = {value}")
        lines.append("")
    Blobs(settings).write(KEY, "\n".join(lines).encode("utf-8"))


def register_channel(settings: Settings, channel: Channel) -> Channel | None:
    """Register a channel, or give an already registered one these rules; return its previous registration.

    The previous registration is None for a new channel; equal to the new one (`rule_changes` empty)
    when nothing changed, and then the file is not written. A registered channel keeps the URL it has.
    """
    channel = dataclasses.replace(channel, url=canonical_url(channel.url))
    for pattern in (channel.include, channel.exclude):
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ChannelsFileError(f"{pattern!r} is not a valid regex: {exc}") from None
    channels = load_channels(settings)
    key = channel_key(channel.url)
    for i, registered in enumerate(channels):
        if channel_key(registered.url) == key:
            updated = dataclasses.replace(channel, url=registered.url)
            if updated != registered:
                save_channels(settings, [*channels[:i], updated, *channels[i + 1 :]])
            return registered
    save_channels(settings, [*channels, channel])
    return None


def add_channel(settings: Settings, channel: Channel) -> bool:
    """Register a channel (see `register_channel`); True if it was not registered before."""
    return register_channel(settings, channel) is None


def remove_channel(settings: Settings, url: str) -> bool:
    """Unregister a channel, by any URL of it; False if it was not registered."""
    key = channel_key(url)
    channels = load_channels(settings)
    kept = [c for c in channels if channel_key(c.url) != key]
    if len(kept) == len(channels):
        return False
    save_channels(settings, kept)
    return True


def _quote(text: str) -> str:
    # A JSON string is a valid TOML basic string: quotes, backslashes and control characters escaped.
    return json.dumps(text, ensure_ascii=False)
