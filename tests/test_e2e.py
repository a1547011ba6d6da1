"""End to end: the real backfill DAG (dag.test) over the loopback sample feed into a temp catalog."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog_records import TABLES
from tubescribe.orchestration import embedded as airflow_env
from tubescribe.sample import SAMPLE_DIR, serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_item_id

pytestmark = pytest.mark.slow


def counts(catalog: Path) -> dict[str, int]:
    with duckdb.connect(str(catalog), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def backfill(feed: str, **conf: Any) -> str:
    return airflow_env.run_dag("tubescribe_backfill", {"urls": [feed], **conf})


@pytest.fixture(scope="module")
def ingested(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One backfill of the two shortest sample videos, shared by the tests that only read its results."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    with pytest.MonkeyPatch.context() as mp, serve_sample_channel(only=["rust", "react"]) as feed:
        mp.setenv("TUBESCRIBE_HOME", str(home))
        state = backfill(feed)
        assert state == "success"
        settings = Settings.load()
        settings.extra["feed"] = feed
        settings.extra["counts"] = counts(settings.catalog_path)
        yield settings


def test_backfill_lands_every_video_with_transcript_summary_and_tags(ingested: Settings) -> None:
    c = ingested.extra["counts"]
    assert c["videos"] == 2 and c["transcripts"] == 2 and c["summaries"] == 2 and c["channels"] == 1
    assert c["segments"] > 20
    assert c["summary_sections"] == 10 and c["section_bullets"] == 40 and c["section_topics"] == 30
    assert c["topic_tags"] == 10 and c["general_topics"] == 6
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        assert con.execute("SELECT list(DISTINCT status) FROM videos").fetchone()[0] == ["loaded"]
        rust = feed_item_id(ingested.extra["feed"], "rust")
        text = con.execute("SELECT text FROM transcripts WHERE video_id = ?", [rust]).fetchone()[0]
        assert "memory" in text.lower()
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'general_topics'"
            ).fetchall()
        )
        assert types["complexity"] == "DECIMAL(3,2)"


def test_every_stage_leaves_its_timing_in_the_catalog(ingested: Settings) -> None:
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        rows = con.execute("SELECT video_id, stage, run_id, seconds, audio_s, status FROM stage_runs").fetchall()
        by_run = con.execute("SELECT stage, videos FROM stage_timings_by_run ORDER BY stage").fetchall()
    rust, react = (feed_item_id(ingested.extra["feed"], guid) for guid in ("rust", "react"))
    assert {(v, stage) for v, stage, *_ in rows} == {
        (v, stage) for v in (rust, react) for stage in ("download", "transcribe", "summarize", "embed")
    }
    assert all(
        run_id.startswith("manual__") and seconds > 0 and status == "done" for _, _, run_id, seconds, _, status in rows
    )
    transcribe_audio = {v: audio for v, stage, _, _, audio, _ in rows if stage == "transcribe"}
    assert transcribe_audio[rust] > 100
    assert by_run == [("download", 2), ("embed", 2), ("summarize", 2), ("transcribe", 2)]


def test_rerun_is_idempotent_and_redoes_no_work(ingested: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUBESCRIBE_HOME", str(ingested.home))
    media = sorted(ingested.media_dir.iterdir())
    before = {p: p.stat().st_mtime_ns for p in [*media, *ingested.work_dir.rglob("*.json")]}
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        transcribed_at = con.execute("SELECT list(transcribed_at ORDER BY video_id) FROM transcripts").fetchone()[0]

    assert backfill(ingested.extra["feed"]) == "success"

    assert counts(ingested.catalog_path) == ingested.extra["counts"]
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM stage_runs").fetchone()[0] == 8, "skipped work is not timed"
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before, "a rerun rewrote media or artifacts"
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        assert (
            con.execute("SELECT list(transcribed_at ORDER BY video_id) FROM transcripts").fetchone()[0]
            == transcribed_at
        )


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def test_ingested_transcripts_match_a_direct_faster_whisper_call(ingested: Settings) -> None:
    """Word error rate against the sample's source text, pipeline vs faster-whisper alone: within 0.02."""
    import jiwer
    from faster_whisper import WhisperModel

    from tubescribe.stages.transcribe.whisper import model_path

    model = WhisperModel(model_path(ingested.whisper_model), device="cpu", compute_type="int8")
    with duckdb.connect(str(ingested.catalog_path), read_only=True) as con:
        ingested_text = dict(con.execute("SELECT video_id, text FROM transcripts").fetchall())
    for guid, ext in (("rust", "webm"), ("react", "mp4")):
        segments, _ = model.transcribe(str(SAMPLE_DIR / f"{guid}.{ext}"), beam_size=5, vad_filter=True)
        direct = " ".join(s.text.strip() for s in segments)
        reference = " ".join(_words((SAMPLE_DIR / f"{guid}.txt").read_text()))
        wer_direct = jiwer.wer(reference, " ".join(_words(direct)))
        wer_pipeline = jiwer.wer(reference, " ".join(_words(ingested_text[feed_item_id(ingested.extra["feed"], guid)])))
        print(f"{guid}: WER direct {wer_direct:.3f}, pipeline {wer_pipeline:.3f}")
        assert abs(wer_pipeline - wer_direct) <= 0.02
        assert wer_pipeline < 0.35


def test_a_dead_media_url_fails_that_video_only(airflow_db: Path, home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_DIR, site)
    (site / "rust.webm").unlink()  # the feed still lists it: its download answers 404
    with serve_sample_channel(only=["rust", "react"], directory=site) as feed:
        assert backfill(feed) == "failed"
    with duckdb.connect(str(Settings.load().catalog_path), read_only=True) as con:
        rows = dict(con.execute("SELECT video_id, (status, failed_stage, error_message) FROM videos").fetchall())
    assert rows[feed_item_id(feed, "react")][0] == "loaded"
    status, stage, message = rows[feed_item_id(feed, "rust")]
    assert (status, stage) == ("failed", "download")
    assert "404" in message


def test_date_window_and_limit_select_the_right_videos(airflow_db: Path, home: Path) -> None:
    # Publish dates: zig 2024-03-04, rust 2024-05-14, react 2024-08-09, typescript 2024-11-20, deployment 2025-02-06.
    # The window keeps rust..typescript (inclusive), the limit the newest two of those. Summaries and
    # transcripts are not needed to check selection, so the run stops after discover.
    from tubescribe.pipeline import steps as pipeline

    with serve_sample_channel() as feed:
        batches = pipeline.discover(Settings.load(), [feed], since="2024-05-14", until="2024-11-20", limit=2)
    typescript, react = (feed_item_id(feed, guid) for guid in ("typescript_fireship", "react"))
    assert [v for batch in batches for v in batch] == [typescript, react]
    assert os.path.exists(Path(os.environ["TUBESCRIBE_HOME"]) / "work" / react / "video.json")
