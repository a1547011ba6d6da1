"""The analysts' views and saved queries: they run on empty and sample catalogs, with no tubescribe code."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from catalog_records import TKEY, stage
from cli_support import tubescribe
from sample_catalog import GENERIC_CHANNEL, listed, sample  # noqa: F401  (sample: a pytest fixture, used by name)
from tubescribe.catalog.connection import writer
from tubescribe.catalog.extensions import load_fts
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.migrations import apply_schema, schema_files
from tubescribe.catalog.query import run_query
from tubescribe.catalog.sql import run_sql
from tubescribe.settings import Settings
from tubescribe.store import Store

REPO = Path(__file__).resolve().parents[1]
ANALYTICS = sorted(p.name for p in (REPO / "sql" / "analytics").glob("*.sql"))
VIEWS = {
    "latest_summaries",
    "video_tags",
    "video_general_topics",
    "video_sections",
    "video_overview",
    "topic_frequency_by_month",
    "channel_general_topics",
    "channel_overview",
    "new_videos_per_week",
    "video_processing",
    "processing_stats",
    "ingest_failures",
    "stage_timings_by_run",
    "stage_timings_by_day",
}


@pytest.fixture
def empty(settings: Settings) -> Settings:
    with writer(settings):
        pass
    return settings


CLI = [sys.executable, "-m", "tubescribe.cli.app"]


def plain(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The catalog as any DuckDB user opens it: read-only, no tubescribe code, nothing auto-loaded."""
    return duckdb.connect(str(settings.catalog_path), read_only=True, config={"autoload_known_extensions": False})


def rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with plain(settings) as con:
        return con.execute(sql).fetchall()


# -- every view, every saved query ---------------------------------------------------------------
def test_the_schema_defines_the_documented_views(empty: Settings) -> None:
    names = {name for (name,) in rows(empty, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert names == VIEWS


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_runs_in_plain_duckdb_on_an_empty_catalog(empty: Settings, view: str) -> None:
    result = rows(empty, f"SELECT * FROM {view}")
    assert result == [] or view == "processing_stats"  # processing_stats always has its "(all channels)" row


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_runs_in_plain_duckdb_on_the_sample_catalog(sample: Settings, view: str) -> None:
    assert rows(sample, f"SELECT * FROM {view}")


def test_every_table_opens_in_plain_duckdb(sample: Settings) -> None:
    tables = rows(sample, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    for (table,) in tables:
        rows(sample, f"SELECT * FROM {table} LIMIT 1")
    # The ten of the summary path, replaced_transcripts, embeddings, stage_runs, the four search tables,
    # schema_migrations.
    assert len(tables) == 18


@pytest.mark.parametrize("name", ANALYTICS)
def test_saved_query_runs_on_an_empty_catalog(empty: Settings, name: str) -> None:
    columns, _ = run_query(empty, (REPO / "sql" / "analytics" / name).read_text(encoding="utf-8"))
    assert columns


@pytest.mark.parametrize("name", ANALYTICS)
def test_saved_query_answers_on_the_sample_catalog(sample: Settings, name: str) -> None:
    _, result = run_query(sample, (REPO / "sql" / "analytics" / name).read_text(encoding="utf-8"))
    assert result


@pytest.mark.parametrize("name", ANALYTICS)
def test_saved_query_runs_through_run_sql(empty: Settings, name: str) -> None:
    # The same files the schema test runs for sql/queries; they take no parameters.
    with plain(empty) as con:
        run_sql(con, f"analytics/{Path(name).stem}")


def test_saved_query_from_the_command_line(sample: Settings) -> None:
    done = tubescribe(sample.home, "query", "--format", "json", "--file", "sql/analytics/failures.sql")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["examples"] == ["broken"]


# -- what the views say about the sample ---------------------------------------------------------
def test_processing_stats_add_up(sample: Settings) -> None:
    durations = [seconds for _, _, seconds in listed().values()]
    [total] = rows(
        sample,
        "SELECT videos, transcribed, audio_hours, transcription_speed FROM processing_stats WHERE channel_id IS NULL",
    )
    assert total == (6, 5, round(sum(durations) / 3600, 3), 8.0)
    per_channel = rows(sample, "SELECT channel, videos FROM processing_stats WHERE channel_id IS NOT NULL ORDER BY 1")
    assert per_channel == [("Fireship", 1), (GENERIC_CHANNEL, 5)]


def test_video_processing_speed_is_audio_over_elapsed(sample: Settings) -> None:
    speeds = rows(sample, "SELECT DISTINCT transcription_speed FROM video_processing WHERE status = 'loaded'")
    assert speeds == [(8.0,)]


def test_new_videos_per_week_counts_by_monday(sample: Settings) -> None:
    weeks = rows(sample, "SELECT week, videos FROM new_videos_per_week WHERE channel = 'tubescribe sample channel'")
    assert (date(2024, 3, 4), 2) in weeks  # zig and the failed video, both listed on Monday 4 March 2024
    assert all(week.weekday() == 0 for week, _ in weeks)  # type: ignore[attr-defined]


def test_channel_overview_counts_status(sample: Settings) -> None:
    assert rows(sample, "SELECT videos, loaded, failed, pending FROM channel_overview WHERE channel = 'Fireship'") == [
        (1, 1, 0, 0)
    ]
    assert rows(sample, f"SELECT loaded, failed FROM channel_overview WHERE channel = '{GENERIC_CHANNEL}'") == [(4, 1)]


def test_channel_general_topics_shares(sample: Settings) -> None:
    mix = rows(sample, "SELECT general_topic, videos, share FROM channel_general_topics WHERE channel = 'Fireship'")
    assert len(mix) == 3 and all(videos == 1 and share == 1.0 for _, videos, share in mix)


# -- topic normalization in the catalog ----------------------------------------------------------
def _load_with_tags(settings: Settings, tags_by_video: dict[str, list[str]]) -> None:
    store = Store(settings)
    for video_id, tags in tags_by_video.items():
        stage(store, video_id, summary_key="k", topics=tags)
    load_videos(settings, list(tags_by_video), TKEY, "k")


def test_spellings_of_a_topic_count_together(settings: Settings) -> None:
    _load_with_tags(
        settings,
        {
            "a": ["LLMs", "Rust", "Zig", "Go", "C"],
            "b": ["Large Language Models", "Python", "Java", "Ruby", "Perl"],
            "c": ["llm", "Kotlin", "Swift", "Dart", "Lua"],
        },
    )
    assert rows(
        settings, "SELECT month, videos, spellings FROM topic_frequency_by_month WHERE topic = 'large language model'"
    ) == [(date(2024, 5, 1), 3, ["LLMs", "Large Language Models", "llm"])]
    assert rows(settings, "SELECT tag, tag_normalized FROM topic_tags WHERE video_id = 'b' AND idx = 1") == [
        ("Large Language Models", "large language model")
    ]


def test_an_older_catalog_gains_the_normalized_column(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        for name in ("schema/001_tables", "schema/002_views"):
            run_sql(con, name)
        con.execute("INSERT INTO topic_tags VALUES ('s', 'v', 1, 'LLMs')")
        apply_schema(con)
        assert con.execute("SELECT tag, tag_normalized FROM topic_tags").fetchall() == [("LLMs", None)]
        # Until the video is loaded again, the views fall back to the lower-cased tag.
        assert con.execute("SELECT topic FROM topic_frequency_by_month").fetchall() == []  # no summary row joins
        con.execute(
            "INSERT INTO summaries (summary_id, video_id, backend, model, prompt_version, summary_json, introduction,"
            " created_at) VALUES ('s', 'v', 'local', 'm', 'p', '{}', 'intro', now())"
        )
        run_sql(con, "load/summary_lists", {"summary_ids": ["s"]})  # as the loader does: it becomes the newest
        assert con.execute("SELECT tag_normalized FROM video_tags").fetchall() == [("llms",)]


def test_an_older_catalog_gains_the_summary_lists(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        load_fts(con)
        for name in schema_files():  # as the release before schema_migrations left a catalog: every file run
            run_sql(con, name)
        con.execute(
            "INSERT INTO summaries (summary_id, video_id, backend, model, prompt_version, summary_json, introduction,"
            " created_at) VALUES ('s', 'v', 'local', 'm', 'p', '{}', 'intro', now())"
        )
        con.execute("INSERT INTO summary_sections (summary_id, video_id, idx, title) VALUES ('s', 'v', 1, 'One')")
        con.execute("INSERT INTO section_bullets VALUES ('s', 'v', 1, 2, 'second'), ('s', 'v', 1, 1, 'first')")
        con.execute("INSERT INTO topic_tags (summary_id, video_id, idx, tag) VALUES ('s', 'v', 1, 'Rust')")
        con.execute("INSERT INTO general_topics VALUES ('s', 'v', 1, 'Programming Languages', 0.5)")
        # As a catalog from before the list columns: they exist (ALTER adds them) but hold NULL.
        assert con.execute("SELECT bullets FROM summary_sections").fetchall() == [(None,)]
        assert apply_schema(con) == schema_files()  # no schema_migrations yet: every migration, once
        assert con.execute("SELECT bullets, topics FROM video_sections").fetchall() == [(["first", "second"], [])]
        assert con.execute("SELECT topics, general_topics FROM latest_summaries").fetchall() == [
            (["Rust"], ["Programming Languages (0.50)"])
        ]
