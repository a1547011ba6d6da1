"""`tubescribe plan` (issue 17): what a backfill would take, on the sample channel served on loopback.

With an empty home every video is new and every figure is a default; after a real ingest (the stages
in-process, as the backfill DAG's tasks call them, once for the module) the loaded videos are skipped and
the figures come from the catalog's history. Nothing is downloaded: the feed server counts media requests.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cli_support import tubescribe
from resilience_support import fresh_env, ingest
from tubescribe.cli.terminal import print_plan
from tubescribe.pipeline.plan import DEFAULT_SECONDS_PER_AUDIO_S, Plan, plan
from tubescribe.sample import sample_ids, serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.stages.discover import DiscoverError, feed_item_id
from tubescribe.text import usd

DURATIONS = {"zig": 182, "rust": 154, "react": 181, "typescript_fireship": 267, "localized_deployment": 208}


@pytest.fixture(scope="module")
def feed() -> Iterator[str]:
    with serve_sample_channel(captions=True) as url:
        yield url


def rendered(result: Plan, fmt: str) -> str:
    buffer = io.StringIO()
    print_plan(Console(file=buffer, no_color=True, width=1000), result, fmt)
    return buffer.getvalue()


# -- no history ------------------------------------------------------------------------------------
def test_an_empty_catalog_plans_every_video_as_new_with_the_defaults(settings: Settings, feed: str) -> None:
    result = plan(settings, [feed])
    assert {v.video_id for v in result.videos} == {feed_item_id(feed, guid) for guid in sample_ids()}
    assert (result.new, result.skipped) == (5, 0)
    assert result.audio_s == sum(DURATIONS.values())
    # A flat listing does not say which videos have captions: unknown, costed as Whisper.
    assert result.transcripts("unknown") == 5 and result.transcripts("captions") == 0
    assert result.whisper_audio_s == result.audio_s and "upper bound" in result.captions_basis
    stages = {s.stage: s for s in result.stages}
    assert set(stages) == {"download", "transcribe", "summarize", "embed"}
    for stage in stages.values():
        assert stage.basis.startswith("default: BENCHMARKS.md")
        assert stage.seconds == pytest.approx(DEFAULT_SECONDS_PER_AUDIO_S[stage.stage] * result.audio_s)
    assert result.tokens_in is None and result.cost_usd is None  # the local summarizer calls no LLM
    assert result.media_bytes == round(16_000 * result.audio_s)
    assert result.batches == 1 and result.wall_s > stages["transcribe"].seconds / result.transcription_workers
    # Nothing was written: a plan is no run.
    assert not settings.catalog_path.exists()
    assert not settings.work_dir.exists() and not settings.media_dir.exists()


def test_captions_off_says_every_new_video_goes_to_whisper(home: Path, feed: str) -> None:
    result = plan(Settings.load(captions="off"), [feed])
    assert result.transcripts("whisper") == 5 and result.transcripts("unknown") == 0
    assert result.whisper_audio_s == result.audio_s and "TUBESCRIBE_CAPTIONS=off" in result.captions_basis


def test_since_until_and_limit_select_as_the_backfill_does(settings: Settings, feed: str) -> None:
    from datetime import date

    result = plan(settings, [feed], since=date(2024, 5, 1), until=date(2024, 12, 31))
    assert {v.title for v in result.videos} == {
        "Rust in 100 Seconds",
        "React in 100 Seconds",
        "TypeScript in 100 Seconds",
    }
    assert len(plan(settings, [feed], limit=2).videos) == 2


def test_the_openai_summarizer_is_costed_only_with_both_prices(
    home: Path, feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unpriced = plan(Settings.load(summarizer="openai"), [feed])
    assert unpriced.tokens_in and unpriced.tokens_out and unpriced.cost_usd is None
    assert "set TUBESCRIBE_OPENAI_PRICE_IN/OUT" in rendered(unpriced, "table")
    monkeypatch.setenv("TUBESCRIBE_OPENAI_PRICE_IN", "0.15")
    monkeypatch.setenv("TUBESCRIBE_OPENAI_PRICE_OUT", "0.60")
    priced = plan(Settings.load(summarizer="openai"), [feed])
    assert priced.cost_usd == pytest.approx((priced.tokens_in * 0.15 + priced.tokens_out * 0.60) / 1e6)
    assert usd(priced.cost_usd) == "0.0072 USD" and "0.0072 USD" in rendered(priced, "table")


def test_a_negative_price_is_a_settings_error(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tubescribe.settings import SettingsError

    monkeypatch.setenv("TUBESCRIBE_OPENAI_PRICE_IN", "-1")
    with pytest.raises(SettingsError, match="PRICE_IN/OUT"):
        Settings.load()


def test_json_output_parses_and_holds_every_figure(settings: Settings, feed: str) -> None:
    data = json.loads(rendered(plan(settings, [feed], workers=4), "json"))
    assert (data["new"], data["skipped"], data["workers"]) == (5, 0, 4)
    assert data["transcripts"] == {"whisper": 0, "captions": 0, "unknown": 5}
    assert {s["stage"] for s in data["stages"]} == {"download", "transcribe", "summarize", "embed"}
    assert data["tokens_in"] is None and data["cost_usd"] is None and data["media_bytes"] > 0


def test_a_url_that_cannot_be_listed_raises_the_discover_error(settings: Settings) -> None:
    with pytest.raises(DiscoverError, match="not an http"):
        plan(settings, ["file:///etc/passwd"])


def test_a_url_that_cannot_be_listed_is_named_and_the_others_still_planned(settings: Settings, feed: str) -> None:
    # As the backfill goes on without a dead URL, so does its plan, and says which it left out.
    result = plan(settings, ["http://127.0.0.1:1/gone/feed.xml", feed])
    assert result.new == 5
    assert len(result.unlisted) == 1 and "127.0.0.1:1/gone/feed.xml" in result.unlisted[0]
    assert "not listed" in rendered(result, "table")


def test_the_command_prints_the_table(home: Path, feed: str) -> None:
    done = tubescribe(home, "plan", feed, "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "5 new, 0 already in the catalog (skipped)" in done.stdout
    assert "wall time, 2 workers" in done.stdout and "media on disk" in done.stdout
    assert "unknown 5; Whisper expected for 0.28 h (16:32)" in done.stdout
    assert "no history of these channels: every video costed as Whisper (an upper bound)" in done.stdout


def test_the_command_json_parses(home: Path, feed: str) -> None:
    done = tubescribe(home, "plan", feed, "--format", "json", "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new"] == 1


def test_the_command_refuses_a_bad_url_with_a_clear_error(home: Path) -> None:
    done = tubescribe(home, "plan", "http://127.0.0.1:1/feed.xml")
    assert done.returncode == 1
    assert done.stderr.startswith("error: could not list http://127.0.0.1:1/feed.xml")
    assert "Traceback" not in done.stderr


def _last_backfill_run() -> tuple[dict[str, str | None], Any]:
    """The newest backfill run's task states, and the XCom `plan` its plan task pushed."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == "tubescribe_backfill").order_by(DagRun.id.desc()).first()
        assert run is not None
        rows = session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        states = {ti.task_id: ti.state for ti in rows}
        pushed = (
            session.query(XComModel)
            .filter(XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.key == "plan")
            .one()
        )
        return states, XComModel.deserialize_value(pushed)


@pytest.mark.slow
def test_the_backfill_dag_dry_run_keeps_the_plan_and_runs_nothing_else(
    airflow_db: Path, settings: Settings, feed: str
) -> None:
    from tubescribe.orchestration import embedded as airflow_env

    state = airflow_env.run_dag("tubescribe_backfill", {"urls": [feed], "limit": 3, "dry_run": True})
    assert state == "success"
    states, pushed = _last_backfill_run()
    assert states.pop("plan") == "success"
    assert states and set(states.values()) == {"skipped"}, states  # discover and every stage after it
    expected = plan(settings, [feed], limit=3).as_dict()
    assert (pushed["new"], pushed["skipped"]) == (3, 0)
    # The figures, not the titles: the XCom stays small however long the channel.
    assert "videos" not in pushed and pushed == {k: v for k, v in expected.items() if k != "videos"}
    # A dry run lists the channel and nothing more: no catalog, no media, no work files.
    assert not settings.catalog_path.exists()
    assert not settings.work_dir.exists() and not settings.media_dir.exists()


# -- with history ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ingested(feed: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The sample channel (two of its videos captioned) ingested once into a home for this module."""
    home = tmp_path_factory.mktemp("plan") / "home"
    with pytest.MonkeyPatch.context() as mp:
        settings = fresh_env(mp, home)
        landed = ingest(settings, [feed])
        assert len(landed["loaded"]) == 5, landed
        yield settings


@pytest.mark.slow
def test_after_an_ingest_the_loaded_videos_are_skipped(ingested: Settings, feed: str) -> None:
    result = plan(ingested, [feed])
    assert (result.new, result.skipped) == (0, 5)
    assert result.audio_s == 0 and result.wall_s == 0 and result.media_bytes == 0 and result.batches == 0
    assert result.captions_basis == "no new videos"


@pytest.mark.slow
def test_after_an_ingest_the_estimates_come_from_its_history(ingested: Settings, feed: str) -> None:
    # The same channel under another URL is five new videos (ids are namespaced by the feed's URL).
    other = feed + "?again=1"
    result = plan(ingested, [other])
    assert result.new == 5
    stages = {s.stage: s for s in result.stages}
    for name in ("download", "transcribe", "summarize", "embed"):
        assert stages[name].basis.startswith("history: median of"), stages[name]
    # Two of the five landed from captions, so Whisper is expected for the other three's share of the audio.
    assert result.captions_basis == "history: 2 of 5 landed videos of these channels had captions"
    assert result.whisper_audio_s == pytest.approx(result.audio_s * 3 / 5)
    assert stages["transcribe"].audio_s == pytest.approx(result.whisper_audio_s)
    # Three of the five were transcribed by Whisper; their stored media give the disk figure.
    assert result.media_basis.startswith("history: 3 stored media files")
    assert 0 < result.media_bytes < 16_000 * result.audio_s
    assert stages["transcribe"].seconds_per_audio_s != DEFAULT_SECONDS_PER_AUDIO_S["transcribe"]


@pytest.mark.slow
def test_the_command_reads_the_history_too(ingested: Settings, feed: str) -> None:
    done = tubescribe(ingested.home, "plan", feed, feed + "?again=1")
    assert done.returncode == 0, done.stderr
    assert "5 new, 5 already in the catalog (skipped)" in done.stdout
    assert "history: median of" in done.stdout
