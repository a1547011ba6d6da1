"""Resilience (issue 4): each kind of failure is recorded as what it is and does not stop the others:
a missing file, a rate limit, a truncated body, corrupt media, and what the extractor says."""

from __future__ import annotations

import http.server
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp

from helpers_feed import FeedServer, serve, serve_handler
from resilience_support import (  # noqa: F401  (pytest fixtures, used by name)
    PLATFORM,
    Landed,
    fresh_env,
    fresh_requests,
    ingest,
    landed,
    landed_copy,
    query,
    retry_delays,
    run_batch,
    rust_only_catalog,
    scripted_video,
    server,
    site,
    video_state,
)
from tubescribe.errors import Kind
from tubescribe.pipeline import steps as pipeline
from tubescribe.pipeline.platforms import blocked
from tubescribe.settings import Settings
from tubescribe.stages.discover import DiscoverError, feed_item_id
from tubescribe.store import Store


def ids(feed: str, *guids: str) -> list[str]:
    """The video ids of these guids of the feed at `feed` (ids are namespaced by their feed)."""
    return [feed_item_id(feed, guid) for guid in guids]


# -- 1. one bad video does not stop the others -----------------------------------------------------
@pytest.mark.slow
def test_a_missing_media_file_does_not_stop_the_other_videos(landed: Landed) -> None:
    react, rust, zig = ids(landed.server.feed_url, "react", "rust", "zig")
    assert landed.result == {"loaded": [react, rust], "failed": [zig], "pending": []}
    state = video_state(landed.settings)
    assert state[react][0] == state[rust][0] == "loaded"


@pytest.mark.slow
def test_a_missing_media_file_is_a_permanent_download_failure_in_ingest_failures(landed: Landed) -> None:
    catalog = landed.settings.catalog_path
    [zig] = ids(landed.server.feed_url, "zig")
    assert query(catalog, "SELECT video_id, stage, error_kind, error_class, attempts FROM ingest_failures") == [
        (zig, "download", "permanent", "DownloadError", 1)
    ]
    assert query(catalog, "SELECT status FROM videos WHERE video_id = ?", [zig]) == [("failed",)]
    assert "404" in query(catalog, "SELECT message FROM ingest_failures")[0][0]


# -- 2. a rate limit blocks the platform -----------------------------------------------------------
@pytest.fixture
def rate_limited(settings: Settings, site: Path) -> Iterator[tuple[Settings, FeedServer, dict[str, list[str]]]]:
    """A batch of react, rust and zig (newest first) whose first media file answers 429."""
    with serve(site, only=["rust", "react", "zig"]) as srv:
        srv.fail("react.mp4", "rate_limited")
        [batch] = pipeline.discover(settings, [srv.feed_url])
        assert batch == ids(srv.feed_url, "react", "rust", "zig")
        yield settings, srv, run_batch(settings, batch)


def test_a_429_on_media_is_recorded_as_blocked_and_blocks_the_platform(rate_limited: Any) -> None:
    settings, srv, _ = rate_limited
    [react] = ids(srv.feed_url, "react")
    failure = Store(settings).failure(react)
    assert (failure.stage, failure.kind) == ("download", "blocked")
    assert "429" in (blocked(settings, PLATFORM) or "")
    assert video_state(settings)[react] == ("pending", "download", "blocked", 0)


def test_after_a_429_the_batchs_other_videos_are_not_requested_and_stay_pending(rate_limited: Any) -> None:
    settings, srv, result = rate_limited
    assert srv.hits("react.mp4") >= 1
    assert srv.hits("rust.webm") == srv.hits("zig.m4a") == 0
    assert result == {"loaded": [], "failed": [], "pending": ids(srv.feed_url, "react", "rust", "zig")}
    state = video_state(settings)
    assert [state[v][0] for v in ids(srv.feed_url, "rust", "zig")] == ["pending", "pending"]


# -- 3. a truncated body is transient --------------------------------------------------------------
def test_a_truncated_download_is_retried_with_backoff_then_recorded_transient(
    server: FeedServer, home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fresh_env(monkeypatch, home, TUBESCRIBE_STAGE_RETRIES="2")
    server.fail("rust.webm", "truncated")
    caplog.set_level(logging.WARNING)
    feed = f"{server.feed_url}?only=rust"
    [rust] = ids(feed, "rust")
    [batch] = pipeline.discover(settings, [feed])
    result = run_batch(settings, batch)
    # Each attempt is yt-dlp's probe of the URL plus its fetch from byte 0: three attempts, six requests.
    assert fresh_requests(server, "rust.webm") == 2 * (1 + 2)
    assert retry_delays(caplog, rust) == [0.01, 0.02]
    assert result["failed"] == [rust]
    assert video_state(settings)[rust] == ("failed", "download", "transient", 1)


@pytest.mark.slow
def test_a_later_run_with_the_file_fixed_lands_the_truncated_video_and_resets_attempts(
    server: FeedServer, settings: Settings
) -> None:
    server.fail("rust.webm", "truncated")
    feed = f"{server.feed_url}?only=rust"
    [rust] = ids(feed, "rust")
    ingest(settings, [feed], retry_permanent=False)
    ingest(settings, [feed], retry_permanent=False)
    assert video_state(settings)[rust] == ("failed", "download", "transient", 2)
    server.fix("rust.webm")
    assert ingest(settings, [feed], retry_permanent=False)["loaded"] == [rust]
    assert video_state(settings)[rust] == ("loaded", None, None, 0)


# -- 4. corrupt media ------------------------------------------------------------------------------
def test_corrupt_media_fails_transcription_permanently_and_is_removed(server: FeedServer, settings: Settings) -> None:
    server.fail("rust.webm", "corrupt")
    feed = f"{server.feed_url}?only=rust"
    [rust] = ids(feed, "rust")
    result = ingest(settings, [feed])
    assert result["failed"] == [rust]
    failure = Store(settings).failure(rust)
    assert (failure.stage, failure.kind, failure.error_class) == ("transcribe", "permanent", "TranscribeError")
    assert Store(settings).media(rust) is None
    assert list(settings.media_dir.iterdir()) == []
    assert video_state(settings)[rust] == ("failed", "transcribe", "permanent", 1)


@pytest.mark.slow
def test_a_backfill_after_the_media_is_fixed_lands_the_corrupt_video(server: FeedServer, settings: Settings) -> None:
    feed = f"{server.feed_url}?only=rust"
    [rust] = ids(feed, "rust")
    server.fail("rust.webm", "corrupt")
    ingest(settings, [feed])
    server.fix("rust.webm")
    assert ingest(settings, [feed], retry_permanent=True)["loaded"] == [rust]
    assert video_state(settings)[rust] == ("loaded", None, None, 0)
    assert Store(settings).media(rust).read_bytes() == (server.directory / "rust.webm").read_bytes()


# -- 5. what the extractor says decides the kind ---------------------------------------------------
BOT_CHECK = (
    "Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. "
    "See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass "
    "your cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for "
    "tips on effectively exporting YouTube cookies"
)
EXTRACTOR_ERRORS = [
    (BOT_CHECK, "blocked"),
    ("Sign in to confirm your age. This video may be inappropriate for some users.", "permanent"),
    ("Private video. Sign in if you've been granted access to this video", "permanent"),
    ("Premieres in 3 hours", "deferred"),
    ("This live event will begin in 2 days.", "deferred"),
    ("HTTP Error 503: Service Unavailable", "transient"),
]


def script_extractor(monkeypatch: pytest.MonkeyPatch, message: str) -> list[str]:
    """Make every yt-dlp extraction fail with `message`, as yt-dlp words it; returns the URLs it was asked for."""
    calls: list[str] = []

    def extract_info(self: yt_dlp.YoutubeDL, url: str, *args: Any, **kwargs: Any) -> None:
        calls.append(url)
        raise yt_dlp.utils.DownloadError(f"ERROR: [youtube] dQw4w9WgXcQ: {message}")

    monkeypatch.setattr(yt_dlp.YoutubeDL, "extract_info", extract_info)
    return calls


@pytest.mark.parametrize(("message", "kind"), EXTRACTOR_ERRORS, ids=[k for _, k in EXTRACTOR_ERRORS])
def test_an_extractor_error_is_recorded_with_the_kind_its_text_means(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, message: str, kind: str
) -> None:
    video = scripted_video(settings)
    script_extractor(monkeypatch, message)
    pipeline.download(settings, [video.video_id])
    failure = Store(settings).failure(video.video_id)
    assert (failure.stage, failure.kind, failure.error_class) == ("download", kind, "DownloadError")


@pytest.mark.parametrize(("message", "kind"), EXTRACTOR_ERRORS, ids=[k for _, k in EXTRACTOR_ERRORS])
def test_only_a_transient_extractor_error_is_retried_within_the_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, message: str, kind: str
) -> None:
    video = scripted_video(settings)
    calls = script_extractor(monkeypatch, message)
    pipeline.download(settings, [video.video_id])
    assert len(calls) == (1 + settings.stage_retries if kind == "transient" else 1)


def test_a_bot_check_blocks_the_platform(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    video = scripted_video(settings)
    script_extractor(monkeypatch, BOT_CHECK)
    pipeline.download(settings, [video.video_id])
    assert "not a bot" in (blocked(settings, "youtube.com") or "")


# -- 6. one rule per answer: 429 blocks, refusals and non-media are permanent -------------------------
_ITEM = (
    '<item><title>{guid}</title><guid isPermaLink="false">{guid}</guid>'
    '<pubDate>Tue, 14 May 2024 15:00:00 +0000</pubDate><enclosure url="{url}" type="audio/webm"/></item>'
)
# What each media path answers: a status, or a body served with 200.
_ANSWERS: dict[str, int | bytes] = {
    "empty.webm": b"",
    "page.webm": b"<html><body>Sorry, this episode moved.</body></html>",
    "redirect.webm": 302,
    "unauthorized.webm": 401,
    "forbidden.webm": 403,
    "ratelimited.webm": 429,
}


class _Answers(http.server.BaseHTTPRequestHandler):
    """A feed whose items each meet one kind of answer; `/blocked/feed.xml` itself answers 429."""

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path = self.path.split("?")[0]
        if path == "/blocked/feed.xml":
            return self._answer(429)
        if path == "/unauthorized/feed.xml":
            return self._answer(401)
        if path == "/feed.xml":
            items = [_ITEM.format(guid=name.split(".")[0], url=f"{base}/{name}") for name in _ANSWERS]
            items.append(_ITEM.format(guid="local", url="file:///etc/hostname"))
            channel = f"<channel><title>answers</title>{''.join(items)}</channel>"
            body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
            return self._answer(200, body.encode(), "application/rss+xml")
        answer = _ANSWERS.get(path.lstrip("/"), 404)
        if isinstance(answer, bytes):
            return self._answer(200, answer, "audio/webm")
        return self._answer(answer)

    do_HEAD = do_GET

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "file:///etc/hostname")
        if status == 429:
            self.send_header("Retry-After", "3600")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def answers() -> Iterator[str]:
    with serve_handler(_Answers) as url:
        yield url


def _failures(settings: Settings) -> dict[str, tuple[str, str]]:
    store = Store(settings)
    found = {}
    for folder in settings.work_dir.iterdir():
        video, failure = store.video(folder.name), store.failure(folder.name)
        if video and failure:
            found[video.title] = (failure.stage, failure.kind)
    return found


@pytest.mark.slow
def test_each_answer_gets_its_one_kind(answers: str, settings: Settings) -> None:
    result = ingest(settings, [f"{answers}/feed.xml"])
    assert _failures(settings) == {
        "empty": ("download", "permanent"),  # a 0-byte file is served the same next time
        "page": ("transcribe", "permanent"),  # an HTML page is not media
        "redirect": ("download", "permanent"),  # a redirect to file:// is never followed
        "local": ("download", "permanent"),  # nor is a file:// enclosure
        "unauthorized": ("download", "permanent"),
        "forbidden": ("download", "permanent"),
        "ratelimited": ("download", "blocked"),
    }
    assert result["loaded"] == []
    assert blocked(settings, "127.0.0.1"), "the 429 must block the platform"


def test_a_429_while_listing_blocks_the_platform_and_is_not_retried(answers: str, settings: Settings) -> None:
    with pytest.raises(DiscoverError) as raised:
        pipeline.discover(settings, [f"{answers}/blocked/feed.xml"])
    assert raised.value.kind is Kind.BLOCKED
    assert not raised.value.transient, "a block is never a retry-now (the Airflow task must not retry it)"
    assert "429" in (blocked(settings, "127.0.0.1") or "")


def test_a_401_while_listing_is_permanent_and_says_to_check_the_key(answers: str, settings: Settings) -> None:
    with pytest.raises(DiscoverError) as raised:
        pipeline.discover(settings, [f"{answers}/unauthorized/feed.xml"])
    assert raised.value.kind is Kind.PERMANENT
    assert "check the key" in str(raised.value)
    assert blocked(settings, "127.0.0.1") is None
