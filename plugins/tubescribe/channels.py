"""The channel registry: `channels.toml` in the home, the list the nightly DAG ingests.

The file is versioned (`version = 1`) so later releases can migrate it instead of guessing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime

from tubescribe.discover import DiscoverError, check_channel_url
from tubescribe.settings import Settings
from tubescribe.store import write_text

VERSION = 1


class ChannelsFileError(ValueError):
    """channels.toml cannot be read; the message says which line or field to fix."""


@dataclass(frozen=True)
class Channel:
    url: str
    since: date | None = None
    max_videos: int | None = None


def load_channels(settings: Settings) -> list[Channel]:
    """The registered channels (none if the file does not exist yet)."""
    path = settings.channels_file
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
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
            url = check_channel_url(str(entry["url"]))
        except DiscoverError as exc:
            raise ChannelsFileError(f"{path}: channel #{i}: {exc}") from None
        channels.append(Channel(url=url, since=since, max_videos=max_videos))
    return channels


def save_channels(settings: Settings, channels: list[Channel]) -> None:
    """Write the registry (atomically)."""
    lines = [f"version = {VERSION}", ""]
    for channel in channels:
        lines += ["[[channels]]", f"url = {_quote(channel.url)}"]
        if channel.since:
            lines.append(f"since = {channel.since.isoformat()}")
        if channel.max_videos:
            lines.append(f"max_videos = {channel.max_videos}")
        lines.append("")
    write_text(settings.channels_file, "\n".join(lines))


def add_channel(settings: Settings, channel: Channel) -> bool:
    """Register a channel; False if its URL is already there."""
    channel = Channel(check_channel_url(channel.url), channel.since, channel.max_videos)
    channels = load_channels(settings)
    if any(c.url == channel.url for c in channels):
        return False
    save_channels(settings, [*channels, channel])
    return True


def remove_channel(settings: Settings, url: str) -> bool:
    """Unregister a channel; False if it was not registered."""
    url = url.strip()
    channels = load_channels(settings)
    kept = [c for c in channels if c.url != url]
    if len(kept) == len(channels):
        return False
    save_channels(settings, kept)
    return True


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
