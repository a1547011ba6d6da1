"""Download stage: fetch a video's best audio with yt-dlp, as published (no re-encode).

The file lands in a private temp folder first and is renamed to `media/<video_id>.<ext>` only once
complete, so an interrupted download is never mistaken for a finished one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tubescribe.discover import YtdlpLog
from tubescribe.errors import DeferredError, redact
from tubescribe.records import Video
from tubescribe.store import Store

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """The audio of a video could not be downloaded; the message carries yt-dlp's reason."""


def download_audio(video: Video, store: Store, ydl_options: dict[str, Any] | None = None) -> Path:
    """Path to the video's audio, downloading it unless a finished file already exists."""
    import yt_dlp

    existing = store.media(video.video_id)
    if existing:
        return existing
    store.media_dir.mkdir(parents=True, exist_ok=True)
    for leftover in store.media_dir.glob(f".{video.video_id}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # staging of a download that was killed midway
    staging = Path(tempfile.mkdtemp(prefix=f".{video.video_id}.", dir=store.media_dir))
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
            info = ydl.extract_info(video.url, download=False)
            live = (info or {}).get("live_status")
            if live in ("is_live", "is_upcoming", "post_live"):
                raise DeferredError(
                    f"{video.video_id}: live_status is {live}; it will be fetched once it is a recording"
                )
            ydl.process_ie_result(info, download=True)
        files = [p for p in staging.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
        if len(files) != 1:
            raise DownloadError(f"{video.video_id}: expected one audio file from yt-dlp, got {len(files)}")
        if files[0].stat().st_size == 0:
            raise DownloadError(f"{video.video_id}: the downloaded file is empty")
        target = store.media_dir / f"{video.video_id}{files[0].suffix}"
        os.replace(files[0], target)
    except yt_dlp.utils.DownloadError as exc:
        raise DownloadError(f"{video.video_id}: {redact(_clean(exc))}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("downloaded %s (%.1f MB)", video.video_id, target.stat().st_size / 1e6)
    return target


def _clean(exc: Exception) -> str:
    return re.sub(r"^(\x1b\[[0-9;]*m)?ERROR:(\x1b\[0m)?\s*", "", str(exc)).strip()
