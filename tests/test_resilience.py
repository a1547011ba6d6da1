"""Surviving real channels: bad files, rate limits, truncation, corrupt media, crashes and readers (issue 4).

The stages run as the backfill DAG runs them (discover, download, transcribe, summarize, load), but called
in this process on one home, which is much faster than a DAG run; the real DAG runs only where the
selection params are under test. Media comes from a loopback feed server with faults per file
(`helpers_feed.py`); downloads use 20-second clips of the two shortest sample videos, so transcription
stays quick.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yt_dlp

from helpers_feed import FeedServer, serve
from tubescribe import airflow_env, pipeline
from tubescribe.channels import Channel
from tubescribe.platforms import blocked
from tubescribe.records import Video
from tubescribe.sample import FEED_TEMPLATE, SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.store import Store

CLIP_S = 20
CLIPPED = ("rust.webm", "react.mp4")
# Publish dates: zig 2024-03-04, rust 2024-05-14, react 2024-08-09, typescript 2024-11-20, deployment 2025-02-06.
MEDIA = {
    "zig": "zig.m4a",
    "rust": "rust.webm",
    "react": "react.mp4",
    "typescript_fireship": "typescript_fireship.m4a",
    "localized_deployment": "localized_deployment.webm",
}
PLATFORM = "127.0.0.1"


# -- helpers ---------------------------------------------------------------------------------------
def clip(source: Path, target: Path, seconds: float) -> None:
    """The first seconds of a file's audio track, copied without re-encoding."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        audio = src.streams.audio[0]
        stream = out.add_stream_from_template(audio)
        for packet in src.demux(audio):
            if packet.dts is None:  # the demuxer's closing flush packet
                continue
            if packet.pts is not None and packet.pts * packet.time_base > seconds:
                break
            packet.stream = stream
            out.mux(packet)


def fresh_env(mp: pytest.MonkeyPatch, home: Path, **env: str) -> Settings:
    """Point TUBESCRIBE_HOME at `home`, drop every other TUBESCRIBE_ setting, keep retries quick."""
    for name in list(os.environ):
        if name.startswith("TUBESCRIBE_"):
            mp.delenv(name)
    mp.setenv("TUBESCRIBE_HOME", str(home))
    mp.setenv("TUBESCRIBE_RETRY_BASE_S", "0.01")
    for name, value in env.items():
        mp.setenv(name, value)
    return Settings.load()


def run_batch(settings: Settings, batch: list[str]) -> dict[str, list[str]]:
    """Download, transcribe, summarize and load one batch, as the DAG's mapped tasks do."""
    done = pipeline.summarize(settings, pipeline.transcribe(settings, pipeline.download(settings, batch)))
    return pipeline.load(settings, done)


def ingest(settings: Settings, urls: list[str], *, retry_permanent: bool = True) -> dict[str, list[str]]:
    """One whole run: discover, then every batch through every stage; what landed, failed, waits."""
    totals: dict[str, list[str]] = {"loaded": [], "failed": [], "pending": []}
    for batch in pipeline.discover(settings, urls, retry_permanent=retry_permanent):
        for key, ids in run_batch(settings, batch).items():
            totals[key] += ids
    return totals


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def video_state(settings: Settings) -> dict[str, tuple[Any, ...]]:
    """video_id -> (status, failed_stage, error_kind, attempts) from the published catalog."""
    rows = query(settings.catalog_path, "SELECT video_id, status, failed_stage, error_kind, attempts FROM videos")
    return {video_id: tuple(rest) for video_id, *rest in rows}


def counts(path: Path) -> dict[str, int]:
    """Rows per table of a catalog file."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            " ORDER BY ALL"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}


def fresh_requests(server: FeedServer, name: str) -> int:
    """Requests for a file that start from its first byte (yt-dlp's own resumes carry a Range header)."""
    return sum(1 for requested, headers in server.requests if requested == name and "Range" not in headers)


def retry_delays(caplog: pytest.LogCaptureFixture, video_id: str) -> list[float]:
    """The backoff delays the stage runner logged for one video, in order."""
    return [
        float(r.args[-1])
        for r in caplog.records
        if "retrying in" in r.msg and isinstance(r.args, tuple) and video_id in r.args
    ]


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample feed with 20-second clips of rust and react; the other media files are absent (404)."""
    path = tmp_path_factory.mktemp("site")
    shutil.copy(SAMPLE_DIR / FEED_TEMPLATE, path / FEED_TEMPLATE)
    for name in CLIPPED:
        clip(SAMPLE_DIR / name, path / name, CLIP_S)
    return path


@pytest.fixture
def settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fresh_env(monkeypatch, home)


@pytest.fixture
def server(site: Path) -> Iterator[FeedServer]:
    with serve(site, only=["rust", "react"]) as srv:
        yield srv


@dataclass(frozen=True)
class Landed:
    settings: Settings
    server: FeedServer
    result: dict[str, list[str]]


@pytest.fixture(scope="module")
def landed(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    """One run over rust, react and zig, whose media answers 404: rust and react land, zig fails."""
    home = tmp_path_factory.mktemp("landed") / "home"
    with pytest.MonkeyPatch.context() as mp, serve(site, only=["rust", "react", "zig"]) as srv:
        settings = fresh_env(mp, home)
        srv.fail("zig.m4a", "not_found")
        result = ingest(settings, [srv.feed_url])
        yield Landed(settings, srv, result)


@pytest.fixture
def landed_copy(landed: Landed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A private copy of the landed home, as the current home (tests may change it)."""
    home = tmp_path / "home"
    shutil.copytree(landed.settings.home, home, symlinks=True)
    return fresh_env(monkeypatch, home)


@pytest.fixture
def rust_only_catalog(landed_copy: Settings) -> Settings:
    """The landed home with a catalog holding rust only; react's and zig's artifacts wait to be loaded."""
    landed_copy.catalog_path.unlink()
    shutil.rmtree(landed_copy.writer_catalog_path.parent)
    assert pipeline.load(landed_copy, ["rust"])["loaded"] == ["rust"]
    return landed_copy


# -- 1. one bad video does not stop the others -----------------------------------------------------
@pytest.mark.slow
def test_a_missing_media_file_does_not_stop_the_other_videos(landed: Landed) -> None:
    assert landed.result == {"loaded": ["react", "rust"], "failed": ["zig"], "pending": []}
    state = video_state(landed.settings)
    assert state["react"][0] == state["rust"][0] == "loaded"


@pytest.mark.slow
def test_a_missing_media_file_is_a_permanent_download_failure_in_ingest_failures(landed: Landed) -> None:
    catalog = landed.settings.catalog_path
    assert query(catalog, "SELECT video_id, stage, error_kind, error_class, attempts FROM ingest_failures") == [
        ("zig", "download", "permanent", "DownloadError", 1)
    ]
    assert query(catalog, "SELECT status FROM videos WHERE video_id = 'zig'") == [("failed",)]
    assert "404" in query(catalog, "SELECT message FROM ingest_failures")[0][0]


# -- 2. a rate limit blocks the platform -----------------------------------------------------------
@pytest.fixture
def rate_limited(settings: Settings, site: Path) -> Iterator[tuple[Settings, FeedServer, dict[str, list[str]]]]:
    """A batch of react, rust and zig (newest first) whose first media file answers 429."""
    with serve(site, only=["rust", "react", "zig"]) as srv:
        srv.fail("react.mp4", "rate_limited")
        [batch] = pipeline.discover(settings, [srv.feed_url])
        assert batch == ["react", "rust", "zig"]
        yield settings, srv, run_batch(settings, batch)


def test_a_429_on_media_is_recorded_as_blocked_and_blocks_the_platform(rate_limited: Any) -> None:
    settings, _, _ = rate_limited
    failure = Store(settings).failure("react")
    assert (failure.stage, failure.kind) == ("download", "blocked")
    assert "429" in (blocked(settings, PLATFORM) or "")
    assert video_state(settings)["react"] == ("pending", "download", "blocked", 0)


def test_after_a_429_the_batchs_other_videos_are_not_requested_and_stay_pending(rate_limited: Any) -> None:
    settings, srv, result = rate_limited
    assert srv.hits("react.mp4") >= 1
    assert srv.hits("rust.webm") == srv.hits("zig.m4a") == 0
    assert result == {"loaded": [], "failed": [], "pending": ["react", "rust", "zig"]}
    state = video_state(settings)
    assert [state[v][0] for v in ("rust", "zig")] == ["pending", "pending"]


# -- 3. a truncated body is transient --------------------------------------------------------------
def test_a_truncated_download_is_retried_with_backoff_then_recorded_transient(
    server: FeedServer, home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fresh_env(monkeypatch, home, TUBESCRIBE_STAGE_RETRIES="2")
    server.fail("rust.webm", "truncated")
    caplog.set_level(logging.WARNING)
    [batch] = pipeline.discover(settings, [f"{server.feed_url}?only=rust"])
    result = run_batch(settings, batch)
    # Each attempt is yt-dlp's probe of the URL plus its fetch from byte 0: three attempts, six requests.
    assert fresh_requests(server, "rust.webm") == 2 * (1 + 2)
    assert retry_delays(caplog, "rust") == [0.01, 0.02]
    assert result["failed"] == ["rust"]
    assert video_state(settings)["rust"] == ("failed", "download", "transient", 1)


@pytest.mark.slow
def test_a_later_run_with_the_file_fixed_lands_the_truncated_video_and_resets_attempts(
    server: FeedServer, settings: Settings
) -> None:
    server.fail("rust.webm", "truncated")
    feed = f"{server.feed_url}?only=rust"
    ingest(settings, [feed], retry_permanent=False)
    ingest(settings, [feed], retry_permanent=False)
    assert video_state(settings)["rust"] == ("failed", "download", "transient", 2)
    server.fix("rust.webm")
    assert ingest(settings, [feed], retry_permanent=False)["loaded"] == ["rust"]
    assert video_state(settings)["rust"] == ("loaded", None, None, 0)


# -- 4. corrupt media ------------------------------------------------------------------------------
def test_corrupt_media_fails_transcription_permanently_and_is_removed(server: FeedServer, settings: Settings) -> None:
    server.fail("rust.webm", "corrupt")
    result = ingest(settings, [f"{server.feed_url}?only=rust"])
    assert result["failed"] == ["rust"]
    failure = Store(settings).failure("rust")
    assert (failure.stage, failure.kind, failure.error_class) == ("transcribe", "permanent", "TranscribeError")
    assert Store(settings).media("rust") is None
    assert list(settings.media_dir.iterdir()) == []
    assert video_state(settings)["rust"] == ("failed", "transcribe", "permanent", 1)


@pytest.mark.slow
def test_a_backfill_after_the_media_is_fixed_lands_the_corrupt_video(server: FeedServer, settings: Settings) -> None:
    feed = f"{server.feed_url}?only=rust"
    server.fail("rust.webm", "corrupt")
    ingest(settings, [feed])
    server.fix("rust.webm")
    assert ingest(settings, [feed], retry_permanent=True)["loaded"] == ["rust"]
    assert video_state(settings)["rust"] == ("loaded", None, None, 0)
    assert Store(settings).media("rust").read_bytes() == (server.directory / "rust.webm").read_bytes()


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


def scripted_video(settings: Settings) -> Video:
    video = Video(
        video_id="dQw4w9WgXcQ",
        title="scripted",
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        channel_id="UCscripted",
        channel_title="scripted",
        channel_url="https://www.youtube.com/@scripted",
        extractor="youtube",
    )
    Store(settings).save_video(video)
    return video


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


# -- 6. a rerun with nothing new does nothing ------------------------------------------------------
def artifact_mtimes(settings: Settings) -> dict[Path, int]:
    files = [*settings.media_dir.iterdir(), *settings.work_dir.rglob("*")]
    return {p: p.stat().st_mtime_ns for p in files if p.is_file()}


@pytest.mark.slow
def test_a_rerun_with_nothing_new_selects_nothing_and_touches_nothing(landed: Landed, landed_copy: Settings) -> None:
    before = artifact_mtimes(landed_copy)
    requests = len(landed.server.requests)
    assert pipeline.discover(landed_copy, [f"{landed.server.feed_url}?only=rust,react"]) == []
    assert artifact_mtimes(landed_copy) == before
    assert [name for name, _ in landed.server.requests[requests:]] == ["feed.xml"]


@pytest.mark.slow
def test_a_nightly_discover_skips_a_permanent_failure(landed: Landed, landed_copy: Settings) -> None:
    assert pipeline.discover(landed_copy, [landed.server.feed_url], retry_permanent=False) == []


@pytest.mark.slow
def test_a_backfill_discover_retries_a_permanent_failure(landed: Landed, landed_copy: Settings) -> None:
    assert pipeline.discover(landed_copy, [landed.server.feed_url], retry_permanent=True) == [["zig"]]


# -- 7. a killed load changes nothing --------------------------------------------------------------
KILLABLE_LOAD = """
import pathlib, sys, time
from tubescribe import load, pipeline
from tubescribe.settings import Settings

real = load.run_sql

def write_then_hang(con, name, params=None):
    rows = real(con, name, params)
    if name == "load/summaries":
        pathlib.Path(sys.argv[1]).touch()
        time.sleep(300)
    return rows

load.run_sql = write_then_hang
pipeline.load(Settings.load(), sys.argv[2:])
"""


@pytest.mark.slow
def test_a_load_killed_midway_leaves_the_catalog_as_before_and_a_rerun_completes_it(
    rust_only_catalog: Settings, tmp_path: Path
) -> None:
    settings = rust_only_catalog
    before = counts(settings.catalog_path)
    assert before == counts(settings.writer_catalog_path) and before["main.videos"] == 1
    marker = tmp_path / "summaries-written"
    load = subprocess.Popen([sys.executable, "-c", KILLABLE_LOAD, str(marker), "react", "zig"])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and load.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        load.send_signal(signal.SIGKILL)
        load.wait(30)
    assert marker.exists(), "the load never reached its summaries"
    assert load.returncode == -signal.SIGKILL
    assert counts(settings.catalog_path) == before
    assert counts(settings.writer_catalog_path) == before

    assert pipeline.load(settings, ["react", "zig"]) == {"loaded": ["react"], "failed": ["zig"], "pending": []}
    assert counts(settings.catalog_path)["main.videos"] == 3
    assert video_state(settings)["react"][0] == "loaded"


# -- 8. the date window and the limit, through the real DAG ----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"since": "2024-05-14", "until": "2024-11-20"}, ["typescript_fireship", "react", "rust"]),
        ({"since": "2024-05-14", "until": "2024-11-20", "limit": 2}, ["typescript_fireship", "react"]),
        ({"limit": 1}, ["localized_deployment"]),
    ],
    ids=["inclusive-window", "window-and-limit", "limit-takes-the-newest"],
)
def test_the_backfill_dag_selects_exactly_the_window_and_limit_newest_first(
    airflow_db: Path, settings: Settings, site: Path, window: dict[str, Any], expected: list[str]
) -> None:
    with serve(site) as srv:
        for name in MEDIA.values():
            srv.fail(name, "not_found")  # selection is under test: every video fails fast at download
        state = airflow_env.run_dag("tubescribe_backfill", {"urls": [srv.feed_url], **window})
    assert state == "failed"
    assert sorted(p.parent.name for p in settings.work_dir.glob("*/video.json")) == sorted(expected)
    downloads = [name for name, _ in srv.requests if name != "feed.xml"]
    assert list(dict.fromkeys(downloads)) == [MEDIA[v] for v in expected]


# -- 9. readers never block a load -----------------------------------------------------------------
HELD_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("SELECT count(*) FROM videos").fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""
NEW_READER = """
import sys, duckdb
print(duckdb.connect(sys.argv[1], read_only=True).execute("SELECT count(*) FROM videos").fetchone()[0])
"""


@pytest.fixture
def readers(rust_only_catalog: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, subprocess.Popen[str]]]:
    """The catalog held open by a connection in this process and by another process."""
    path = str(rust_only_catalog.catalog_path)
    here = duckdb.connect(path, read_only=True)
    there = subprocess.Popen(
        [sys.executable, "-c", HELD_READER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert there.stdout is not None and there.stdout.readline().strip() == "1"
        yield here, there
    finally:
        here.close()
        there.kill()
        there.wait(30)


def reader_count(reader: tuple[duckdb.DuckDBPyConnection, subprocess.Popen[str]]) -> tuple[int, int]:
    """Videos each held reader sees now (the other process answers once, then exits)."""
    here, there = reader
    out, _ = there.communicate("\n", timeout=30)
    return here.execute("SELECT count(*) FROM videos").fetchone()[0], int(out.strip())


@pytest.mark.slow
def test_a_load_succeeds_while_readers_hold_the_catalog_open(rust_only_catalog: Settings, readers: Any) -> None:
    assert pipeline.load(rust_only_catalog, ["react", "zig"]) == {"loaded": ["react"], "failed": ["zig"], "pending": []}


@pytest.mark.slow
def test_readers_holding_the_catalog_keep_their_snapshot(rust_only_catalog: Settings, readers: Any) -> None:
    pipeline.load(rust_only_catalog, ["react", "zig"])
    assert reader_count(readers) == (1, 1)


@pytest.mark.slow
def test_a_new_reader_process_sees_the_new_rows(rust_only_catalog: Settings, readers: Any) -> None:
    pipeline.load(rust_only_catalog, ["react", "zig"])
    new = subprocess.run(
        [sys.executable, "-c", NEW_READER, str(rust_only_catalog.catalog_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert new.stdout.strip() == "3", new.stderr


@pytest.mark.slow
def test_a_new_reader_in_the_same_process_sees_the_new_rows(rust_only_catalog: Settings, readers: Any) -> None:
    from tubescribe.catalog import connect_read_only

    pipeline.load(rust_only_catalog, ["react", "zig"])
    with connect_read_only(rust_only_catalog) as con:
        assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == 3


# -- 10. channel rules -----------------------------------------------------------------------------
SHORT_ITEMS = """
    <item>
      <title>Rust in 45 Seconds</title>
      <guid isPermaLink="false">rust_45s</guid>
      <pubDate>Sat, 01 Mar 2025 15:00:00 +0000</pubDate>
      <itunes:duration>45</itunes:duration>
      <enclosure url="{base_url}/rust.webm" length="382728" type="audio/webm"/>
    </item>
    <item>
      <title>React, the Short</title>
      <guid isPermaLink="false">react_short</guid>
      <pubDate>Tue, 01 Apr 2025 15:00:00 +0000</pubDate>
      <itunes:duration>90</itunes:duration>
      <enclosure url="{base_url}/shorts/react.mp4" length="662596" type="video/mp4"/>
    </item>
  </channel>"""
EVERY_VIDEO = ["react_short", "rust_45s", "localized_deployment", "typescript_fireship", "react", "rust", "zig"]


@pytest.fixture(scope="module")
def rules_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample feed plus a 45-second video and one under /shorts/ (durations and titles only: no media)."""
    path = tmp_path_factory.mktemp("rules")
    feed = (SAMPLE_DIR / FEED_TEMPLATE).read_text(encoding="utf-8").replace("  </channel>", SHORT_ITEMS, 1)
    (path / FEED_TEMPLATE).write_text(feed, encoding="utf-8")
    with serve(path) as srv:
        yield srv.feed_url


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, EVERY_VIDEO),
        ({"include": r"in 100 seconds", "exclude": r"^(zig|react)\b"}, ["typescript_fireship", "rust"]),
        ({"min_duration_s": 182}, ["localized_deployment", "typescript_fireship", "zig"]),
        ({"max_duration_s": 181}, ["react_short", "rust_45s", "react", "rust"]),
        ({"min_duration_s": 150, "max_duration_s": 200, "exclude": "react"}, ["rust", "zig"]),
        ({"skip_shorts": True}, EVERY_VIDEO[2:]),
    ],
    ids=["no-rules", "include-exclude", "min-duration-inclusive", "max-duration-inclusive", "combined", "skip-shorts"],
)
def test_channel_rules_pick_exactly_the_matching_videos(
    settings: Settings, rules_feed: str, rules: dict[str, Any], expected: list[str]
) -> None:
    channel = Channel(url=rules_feed, **rules)
    batches = pipeline.discover(settings, [rules_feed], channel=channel)
    assert [v for batch in batches for v in batch] == expected
    assert sorted(p.parent.name for p in settings.work_dir.glob("*/video.json")) == sorted(expected)


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


def test_a_cookie_value_in_an_error_never_reaches_the_catalog_or_the_logs(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "tubescribe-cookie-7f3a9c2e51"
    jar = cookies_file(tmp_path / "cookies.txt", {"SID": secret})
    settings = fresh_env(monkeypatch, home, TUBESCRIBE_COOKIES_FILE=str(jar))
    caplog.set_level(logging.DEBUG)
    raised = fail_with_the_cookie_header(monkeypatch)
    video = scripted_video(settings)
    pipeline.download(settings, [video.video_id])
    pipeline.load(settings, [video.video_id])
    assert raised and secret in raised[0], "the cookies file did not reach yt-dlp"
    assert "<redacted>" in Store(settings).failure(video.video_id).message
    assert leaks(settings, caplog, secret) == []


def test_no_cookie_of_a_multi_cookie_header_reaches_the_catalog_or_the_logs(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = "tubescribe-cookie-first-1b2c3d", "tubescribe-cookie-second-4e5f6a"
    jar = cookies_file(tmp_path / "cookies.txt", {"SID": first, "HSID": second})
    settings = fresh_env(monkeypatch, home, TUBESCRIBE_COOKIES_FILE=str(jar))
    caplog.set_level(logging.DEBUG)
    raised = fail_with_the_cookie_header(monkeypatch)
    video = scripted_video(settings)
    pipeline.download(settings, [video.video_id])
    pipeline.load(settings, [video.video_id])
    assert raised and first in raised[0] and second in raised[0], "the cookies file did not reach yt-dlp"
    assert leaks(settings, caplog, first) == [] and leaks(settings, caplog, second) == []
