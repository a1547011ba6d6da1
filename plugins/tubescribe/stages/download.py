"""Download stage: fetch a video's best audio with yt-dlp, as published (no re-encode).

`extracted` opens one yt-dlp session per video; the pipeline first offers its info to the captions
step, and downloads the audio (`fetch_audio`) only when the captions could not be used.

The file lands in a private staging folder in this machine's scratch first and is published to the
store as `media/<video_id>.<ext>` only once complete (renamed into the home, or uploaded whole), so
an interrupted download is never mistaken for a finished one.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tubescribe.errors import DeferredError, NotMediaError, TubescribeError, classify, redact
from tubescribe.records import Video
from tubescribe.stages.discover import YtdlpLog
from tubescribe.store import Store

log = logging.getLogger(__name__)


class DownloadError(TubescribeError):
    """The audio of a video could not be downloaded; the message carries yt-dlp's reason, the kind what it means."""


@contextmanager
def extracted(video: Video, store: Store, ydl_options: dict[str, Any] | None = None) -> Iterator[tuple[Any, dict]]:
    """One yt-dlp session on a video: its extracted info (formats, captions) and the client that made it.

    The captions step and the audio download share this one extraction, so a video whose captions are
    used costs one page request and one caption request, and never a media request. yt-dlp's errors,
    raised here or in the caller's block, come out as DownloadError with their kind.
    """
    import yt_dlp

    staging = store.staging(video.video_id)
    options = {
        # Audio only; "best" covers sources that only offer one muxed file (podcast mp4s).
        "format": "bestaudio/best",
        # The name comes from our validated id only, never from the title or the remote file name.
        "outtmpl": {"default": str(staging / f"{video.video_id}.%(ext)s")},
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": True,
        "retries": 3,
        "fragment_retries": 3,
        "socket_timeout": 30,
        "overwrites": True,
        "postprocessors": [],
        "logger": YtdlpLog(log),
        **(ydl_options or {}),
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(video.url, download=False) or {}
            live = info.get("live_status")
            if live in ("is_live", "is_upcoming", "post_live"):
                raise DeferredError(
                    f"{video.video_id}: live_status is {live}; it will be fetched once it is a recording"
                )
            yield ydl, info
    except (yt_dlp.utils.DownloadError, yt_dlp.networking.exceptions.RequestError) as exc:
        # yt-dlp says what happened only in words: the kind comes from its message (a 429 blocks, a 404 is final).
        raise DownloadError(f"{video.video_id}: {redact(_clean(exc))}", kind=classify(exc)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_audio(video: Video, store: Store, ydl: Any, info: dict) -> Path:
    """Download the audio of an extracted video and publish it to the store; a local file of it."""
    ydl.process_ie_result(info, download=True)
    staging = Path(ydl.params["outtmpl"]["default"]).parent
    files = [p for p in staging.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
    if len(files) != 1:
        raise DownloadError(f"{video.video_id}: expected one audio file from yt-dlp, got {len(files)}")
    if files[0].stat().st_size == 0:
        raise NotMediaError(f"{video.video_id}: the downloaded file is empty: the source serves no audio")
    target = store.put_media(files[0])
    log.info("downloaded %s (%.1f MB)", video.video_id, target.stat().st_size / 1e6)
    return target


def download_audio(video: Video, store: Store, ydl_options: dict[str, Any] | None = None) -> Path:
    """A local file of the video's audio, downloading it unless the store has a finished file already."""
    existing = store.fetch_media(video.video_id)
    if existing:
        return existing
    with extracted(video, store, ydl_options) as (ydl, info):
        return fetch_audio(video, store, ydl, info)


def _clean(exc: Exception) -> str:
    return re.sub(r"^(\x1b\[[0-9;]*m)?ERROR:(\x1b\[0m)?\s*", "", str(exc)).strip()
