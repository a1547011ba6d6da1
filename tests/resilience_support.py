"""Shared pieces of the resilience tests (issue 4): a loopback feed of short clips, one landed run
of it shared by every test file, and helpers that run the stages as the backfill DAG does.

The stages are called in this process on one home, which is much faster than a DAG run; media comes
from a loopback feed server with faults per file (`helpers_feed.py`); downloads use 20-second clips of
the two shortest sample videos, so transcription stays quick. Test files import the fixtures they use
(all of them, since pytest resolves a fixture's own fixtures in the test's module).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog_records import make_video
from helpers_feed import FeedServer, serve
from tubescribe.pipeline import steps as pipeline
from tubescribe.records import Video
from tubescribe.sample import FEED_TEMPLATE, SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_item_id
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
def ids(feed: str, *guids: str) -> list[str]:
    """The video ids of these guids of the feed at `feed` (ids are namespaced by their feed URL, query included)."""
    return [feed_item_id(feed, guid) for guid in guids]


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
    """Download, transcribe, summarize, embed and load one batch, as the DAG's mapped tasks do."""
    done = pipeline.summarize(settings, pipeline.transcribe(settings, pipeline.download(settings, batch)))
    return pipeline.load(settings, pipeline.embed(settings, done))


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
@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample feed with 20-second clips of rust and react; the other media files are absent (404)."""
    path = tmp_path_factory.mktemp("site")
    shutil.copy(SAMPLE_DIR / FEED_TEMPLATE, path / FEED_TEMPLATE)
    for name in CLIPPED:
        clip(SAMPLE_DIR / name, path / name, CLIP_S)
    return path


@pytest.fixture
def server(site: Path) -> Iterator[FeedServer]:
    with serve(site, only=["rust", "react"]) as srv:
        yield srv


@dataclass(frozen=True)
class Landed:
    settings: Settings
    server: FeedServer
    result: dict[str, list[str]]


@pytest.fixture(scope="session")
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
def rust_only_catalog(landed: Landed, landed_copy: Settings) -> Settings:
    """The landed home with a catalog holding rust only; react's and zig's artifacts wait to be loaded."""
    landed_copy.catalog_path.unlink()
    shutil.rmtree(landed_copy.writer_catalog_path.parent)
    rust = ids(landed.server.feed_url, "rust")
    assert pipeline.load(landed_copy, rust)["loaded"] == rust
    return landed_copy


def scripted_video(settings: Settings) -> Video:
    video = make_video(
        "dQw4w9WgXcQ",
        "scripted",
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        channel_id="UCscripted",
        channel_title="scripted",
        channel_url="https://www.youtube.com/@scripted",
        extractor="youtube",
    )
    Store(settings).save_video(video)
    return video
