"""Being a polite client: per-platform concurrency slots, and stopping after a platform blocks us.

A block is a small JSON object in the store (`platforms/<platform>.blocked`, with its expiry), so every
worker sees it, on any machine. Slots are file locks under the home, which hold across one machine's
processes only: with a shared store (`TUBESCRIBE_STORE_URL`) the Airflow pool `tubescribe_network`
bounds concurrency instead, and `slot` does nothing.
"""

from __future__ import annotations

import fcntl
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from tubescribe.settings import Settings
from tubescribe.store import Blobs


def client_options(settings: Settings) -> dict[str, object]:
    """yt-dlp options every request shares: politeness pauses and the user's cookies."""
    options: dict[str, object] = {
        "sleep_interval_requests": settings.sleep_requests_s,
        "sleep_interval": settings.sleep_downloads_s,
    }
    if settings.cookies_file is not None:
        options["cookiefile"] = str(settings.cookies_file)
    return options


def platform_of(url: str) -> str:
    """The platform a URL belongs to, by host: www.youtube.com, youtu.be and m.youtube.com are one."""
    host = (urlparse(url).hostname or "unknown").lower()
    host = re.sub(r"^(www|m|music)\.", "", host)
    return "youtube.com" if host == "youtu.be" else host


def _name(kind: str, platform: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", platform)[:80] or "unknown"
    return f"{safe}.{kind}"


def block(settings: Settings, platform: str, reason: str) -> None:
    """Stop all requests to a platform for the cooldown (it rate-limited us or asked for a bot check)."""
    until = time.time() + settings.block_cooldown_s
    marker = json.dumps({"until": until, "reason": reason[:500]})
    Blobs(settings).write(f"platforms/{_name('blocked', platform)}", marker.encode("utf-8"))


def blocked(settings: Settings, platform: str) -> str | None:
    """Why a platform is blocked right now, or None."""
    blobs, key = Blobs(settings), f"platforms/{_name('blocked', platform)}"
    data = blobs.read(key)
    try:
        marker = json.loads(data) if data is not None else None
    except ValueError:
        marker = None
    if not isinstance(marker, dict):
        return None
    if marker.get("until", 0) < time.time():
        blobs.delete(key)
        return None
    return str(marker.get("reason", "blocked"))


@contextmanager
def slot(settings: Settings, platform: str) -> Iterator[None]:
    """Hold one of the platform's `platform_concurrency` slots while talking to it (one machine only)."""
    if settings.store_url is not None:
        # A file lock holds on one machine only; the tasks' Airflow pool bounds every worker together.
        yield
        return
    base = settings.home / "platforms" / _name("slot", platform)
    base.parent.mkdir(parents=True, exist_ok=True)
    while True:
        for i in range(settings.platform_concurrency):
            handle = open(base.with_name(f"{base.name}{i}"), "w")  # noqa: SIM115 - held across the yield
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
                return
            finally:
                handle.close()
        time.sleep(0.2)
