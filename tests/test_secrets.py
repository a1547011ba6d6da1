"""Resilience (issue 4): cookies and auth headers never reach the catalog or the logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yt_dlp

from resilience_support import (  # noqa: F401  (pytest fixtures, used by name)
    fresh_env,
    landed,
    landed_copy,
    query,
    rust_only_catalog,
    scripted_video,
    server,
    site,
)
from tubescribe.pipeline import steps as pipeline
from tubescribe.settings import Settings
from tubescribe.store import Store


# -- 11. secrets stay out of the catalog and the logs ----------------------------------------------
def cookies_file(path: Path, cookies: dict[str, str]) -> Path:
    lines = ["# Netscape HTTP Cookie File"]
    lines += [f".youtube.com\tTRUE\t/\tTRUE\t2147483647\t{name}\t{value}" for name, value in cookies.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fail_with_the_cookie_header(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """yt-dlp fails quoting the Cookie header it would send, built from the cookies file it was given."""
    raised: list[str] = []

    def extract_info(self: yt_dlp.YoutubeDL, url: str, *args: Any, **kwargs: Any) -> None:
        header = "; ".join(f"{c.name}={c.value}" for c in self.cookiejar)
        raised.append(f"ERROR: [youtube] dQw4w9WgXcQ: HTTP Error 403: Forbidden (request had Cookie: {header})")
        raise yt_dlp.utils.DownloadError(raised[-1])

    monkeypatch.setattr(yt_dlp.YoutubeDL, "extract_info", extract_info)
    return raised


def leaks(settings: Settings, caplog: pytest.LogCaptureFixture, secret: str) -> list[str]:
    """Where a secret turned up: the failure record, the catalog, the logs, any file in the home."""
    found = [f"file {p}" for p in settings.home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    message = query(settings.catalog_path, "SELECT error_message FROM videos WHERE video_id = 'dQw4w9WgXcQ'")[0][0]
    if secret in message:
        found.append("catalog error_message")
    if secret in caplog.text:
        found.append("logs")
    return found


@pytest.mark.parametrize(
    "cookies",
    [
        {"SID": "tubescribe-cookie-7f3a9c2e51"},
        {"SID": "tubescribe-cookie-first-1b2c3d", "HSID": "tubescribe-cookie-2nd-4e5f"},
    ],
    ids=["one-cookie", "multi-cookie-header"],
)
def test_no_cookie_value_in_an_error_reaches_the_catalog_or_the_logs(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    cookies: dict[str, str],
) -> None:
    jar = cookies_file(tmp_path / "cookies.txt", cookies)
    settings = fresh_env(monkeypatch, home, TUBESCRIBE_COOKIES_FILE=str(jar))
    caplog.set_level(logging.DEBUG)
    raised = fail_with_the_cookie_header(monkeypatch)
    video = scripted_video(settings)
    pipeline.download(settings, [video.video_id])
    pipeline.load(settings, [video.video_id])
    assert raised and all(value in raised[0] for value in cookies.values()), "the cookies did not reach yt-dlp"
    assert "<redacted>" in Store(settings).failure(video.video_id).message
    assert [leak for value in cookies.values() for leak in leaks(settings, caplog, value)] == []
