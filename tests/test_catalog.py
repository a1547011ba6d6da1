"""The DuckDB catalog: every SQL file runs, loads are idempotent all-or-nothing upserts, one writer at a time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tubescribe import load
from tubescribe.catalog import (
    CatalogError,
    apply_schema,
    connect_read_only,
    run_sql,
    schema_files,
    sql_dir,
    transaction,
    writer,
)
from tubescribe.contract import Summary, parse_summary
from tubescribe.load import LoadResult, load_videos
from tubescribe.records import Failure, SectionSpan, Segment, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.store import Store

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = json.loads((REPO / "plugins" / "tubescribe" / "prompts" / "examples.json").read_text(encoding="utf-8"))
# search/ needs the fts extension and export/ writes files: tests/test_search.py and tests/test_export.py run those.
SQL_FILES = sorted(
    name
    for name in (p.relative_to(REPO / "sql").with_suffix("").as_posix() for p in (REPO / "sql").rglob("*.sql"))
    if not name.startswith(("search/", "export/"))
)
TABLES = (
    "channels",
    "videos",
    "transcripts",
    "segments",
    "summaries",
    "summary_sections",
    "section_bullets",
    "section_topics",
    "topic_tags",
    "general_topics",
)
WHEN = datetime(2024, 5, 14, 15, 0, tzinfo=UTC)
TKEY = "tkey00000001"

# Plausible typed values for every $param, shaped the way load.py and query.py pass them.
NOW = datetime(2025, 1, 1, tzinfo=UTC)
SQL_PARAMS: dict[str, dict[str, Any]] = {
    "load/upsert_channel": {
        "channel_id": "c1",
        "title": "Channel",
        "url": "http://127.0.0.1/feed.xml",
        "extractor": "generic",
        "now": NOW,
    },
    "load/upsert_video": {
        "video_id": "v1",
        "channel_id": "c1",
        "title": "Video",
        "url": "http://127.0.0.1/v1.webm",
        "published_at": NOW,
        "duration_s": 154.0,
        "extractor": "generic",
        "status": "failed",
        "failed_stage": "download",
        "error_class": "DownloadError",
        "error_message": "404",
        "error_kind": "permanent",
        "max_attempts": 5,
        "now": NOW,
    },
    "load/insert_stage_runs": {
        "video_id": "v1",
        "runs": [
            {
                "stage": "transcribe",
                "run_id": "r1",
                "started_at": NOW,
                "seconds": 1.5,
                "status": "done",
                "audio_s": 8.0,
                "model": "tiny.en",
            }
        ],
    },
    "queries/settled_videos": {"transcript_key": "k", "summary_key": "s", "retry_permanent": False},
    "load/upsert_transcript": {
        "video_id": "v1",
        "text": "hello world",
        "language": "en",
        "language_probability": 0.99,
        "audio_duration_s": 8.0,
        "model": "tiny.en",
        "settings_key": TKEY,
        "segment_count": 2,
        "transcribed_at": NOW,
        "elapsed_s": 1.0,
    },
    "load/delete_segments": {"video_id": "v1"},
    "load/replace_segments": {
        "video_id": "v1",
        "idx": [0, 1],
        "start_s": [0.0, 4.0],
        "end_s": [4.0, 8.0],
        "text": ["hello", "world"],
    },
    "load/upsert_summary": {
        "summary_id": "v1-k",
        "video_id": "v1",
        "backend": "local",
        "model": "m",
        "prompt_version": "p1",
        "summary_json": '{"a": 1}',
        "introduction": "Intro",
        "tokens_in": 10,
        "tokens_out": None,
        "latency_s": 0.5,
        "created_at": NOW,
    },
    "load/delete_summary_parts": {"summary_id": "v1-k"},
    "load/insert_summary_parts": {
        "summary_id": "v1-k",
        "video_id": "v1",
        "sections": [{"idx": 1, "title": "Section 1: A", "start_s": 0.0, "end_s": None}],
        "bullets": [{"section_idx": 1, "idx": 1, "text": "bullet"}],
        "section_topics": [{"section_idx": 1, "idx": 1, "text": "topic"}],
        "tags": [{"idx": 1, "text": "Tags", "normalized": "tag"}],
        "general_topics": [{"idx": 1, "name": "Quantum Computing", "complexity": "0.87"}],
    },
    "queries/landed": {"video_ids": ["v1", "v2"]},
    "queries/video": {"video_id": "v1"},
    "queries/video_sections": {"video_id": "v1"},
    "queries/video_transcript": {"video_id": "v1"},
}


# -- helpers ---------------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh catalog file with the schema applied."""
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    apply_schema(con)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings)


def make_video(video_id: str = "rust", title: str = "Rust in 100 Seconds") -> Video:
    return Video(
        video_id=video_id,
        title=title,
        url=f"http://127.0.0.1:1/{video_id}.webm",
        channel_id="generic-sample",
        channel_title="sample channel",
        channel_url="http://127.0.0.1:1/feed.xml",
        published_at=WHEN,
        duration_s=154.0,
    )


def make_transcript(video_id: str = "rust") -> Transcript:
    return Transcript(
        video_id=video_id,
        language="en",
        language_probability=0.98,
        audio_duration_s=8.5,
        model="bundled-tiny.en",
        settings_key=TKEY,
        segments=(
            Segment(idx=0, start_s=0.0, end_s=4.2, text="Rust is a memory safe language."),
            Segment(idx=1, start_s=4.2, end_s=8.4, text="It was named after a fungus."),
        ),
        transcribed_at=WHEN,
        elapsed_s=1.25,
    )


def make_summary_record(
    video_id: str = "rust",
    *,
    example: int = 0,
    prompt_version: str = "p1",
    created_at: datetime = WHEN,
    introduction: str | None = None,
    tokens_in: int | None = 1200,
) -> SummaryRecord:
    data = dict(EXAMPLES[example]["summary"])
    if introduction is not None:
        data["introduction"] = introduction
    summary: Summary = parse_summary(data)
    return SummaryRecord(
        video_id=video_id,
        backend="local",
        model="extractive",
        prompt_version=prompt_version,
        summary=summary,
        raw_json=json.dumps(data),
        section_spans=(SectionSpan(start_s=0.0, end_s=30.5),),
        created_at=created_at,
        tokens_in=tokens_in,
        tokens_out=300,
        latency_s=0.75,
    )


def stage(store: Store, video_id: str = "rust", summary_key: str = "k1", **summary: Any) -> None:
    """Write a video's finished artifacts, as the earlier stages would."""
    store.save_video(make_video(video_id))
    store.save_transcript(make_transcript(video_id))
    store.save_summary(make_summary_record(video_id, **summary), summary_key)


def read(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.catalog_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def counts(settings: Settings) -> dict[str, int]:
    return {table: read(settings, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    return {table: sorted(read(settings, f"SELECT * FROM {table}"), key=repr) for table in TABLES}


# -- every SQL file --------------------------------------------------------------------------------
def test_sql_params_cover_every_parameterised_file() -> None:
    # A new SQL file with $params must get plausible values above, or the next test cannot run it.
    parameterised = {name for name in SQL_FILES if "$" in (REPO / "sql" / f"{name}.sql").read_text()}
    assert parameterised == set(SQL_PARAMS)


def test_catalog_reads_sql_from_the_repository() -> None:
    assert sql_dir().resolve() == (REPO / "sql").resolve()


def test_schema_files_are_applied_in_name_order() -> None:
    files = schema_files()
    on_disk = sorted(f"schema/{p.stem}" for p in (REPO / "sql" / "schema").glob("*.sql"))
    assert files == on_disk
    assert files[0] == "schema/001_tables"  # tables before anything that alters or views them


@pytest.mark.parametrize("name", SQL_FILES)
def test_sql_file_runs_on_a_fresh_catalog(fresh: duckdb.DuckDBPyConnection, name: str) -> None:
    run_sql(fresh, name, SQL_PARAMS.get(name))


@pytest.mark.parametrize("name", [n for n in SQL_FILES if n.startswith("queries/")])
def test_query_on_an_empty_catalog_returns_no_rows(fresh: duckdb.DuckDBPyConnection, name: str) -> None:
    assert run_sql(fresh, name, SQL_PARAMS.get(name)) == []


def test_schema_applies_twice(fresh: duckdb.DuckDBPyConnection) -> None:
    apply_schema(fresh)
    tables = {row[0] for row in fresh.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(TABLES) <= tables


def test_load_sql_writes_a_complexity_as_decimal(fresh: duckdb.DuckDBPyConnection) -> None:
    run_sql(fresh, "load/insert_summary_parts", SQL_PARAMS["load/insert_summary_parts"])
    assert fresh.execute("SELECT complexity, typeof(complexity) FROM general_topics").fetchall() == [
        (Decimal("0.87"), "DECIMAL(3,2)")
    ]


def test_run_sql_names_missing_parameters(fresh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogError, match=r"sql/queries/video\.sql needs parameters: video_id"):
        run_sql(fresh, "queries/video", {})


def test_run_sql_ignores_unused_parameters(fresh: duckdb.DuckDBPyConnection) -> None:
    assert run_sql(fresh, "queries/video", {"video_id": "x", "unused": 1}) == []


def test_bound_values_are_never_read_as_sql(fresh: duckdb.DuckDBPyConnection) -> None:
    run_sql(fresh, "load/upsert_channel", {**SQL_PARAMS["load/upsert_channel"], "title": "x'); DROP TABLE videos; --"})
    assert fresh.execute("SELECT title FROM channels").fetchall() == [("x'); DROP TABLE videos; --",)]
    assert fresh.execute("SELECT count(*) FROM videos").fetchall() == [(0,)]


# -- transaction -----------------------------------------------------------------------------------
def test_transaction_commits_when_the_block_succeeds(fresh: duckdb.DuckDBPyConnection) -> None:
    with transaction(fresh):
        run_sql(fresh, "load/upsert_channel", SQL_PARAMS["load/upsert_channel"])
    assert fresh.execute("SELECT count(*) FROM channels").fetchall() == [(1,)]


def test_transaction_rolls_back_when_the_block_raises(fresh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(RuntimeError), transaction(fresh):
        run_sql(fresh, "load/upsert_channel", SQL_PARAMS["load/upsert_channel"])
        raise RuntimeError("crash")
    assert fresh.execute("SELECT count(*) FROM channels").fetchall() == [(0,)]


# -- load_videos -----------------------------------------------------------------------------------
def test_load_reports_a_complete_video_as_loaded(settings: Settings, store: Store) -> None:
    stage(store)
    assert load_videos(settings, ["rust"], TKEY, "k1") == LoadResult(loaded=("rust",), failed=(), pending=())


def test_load_writes_one_row_per_part(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert counts(settings) == {
        "channels": 1,
        "videos": 1,
        "transcripts": 1,
        "segments": 2,
        "summaries": 1,
        "summary_sections": 5,
        "section_bullets": 20,
        "section_topics": 15,
        "topic_tags": 5,
        "general_topics": 3,
    }


def test_load_writes_the_channel_and_video(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert read(settings, "SELECT channel_id, title, url, extractor FROM channels") == [
        ("generic-sample", "sample channel", "http://127.0.0.1:1/feed.xml", "generic")
    ]
    assert read(
        settings, "SELECT video_id, channel_id, title, published_at, duration_s, status, failed_stage FROM videos"
    ) == [("rust", "generic-sample", "Rust in 100 Seconds", WHEN, 154.0, "loaded", None)]


def test_load_writes_the_transcript_and_its_segments(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert read(settings, "SELECT text, language, settings_key, segment_count FROM transcripts") == [
        ("Rust is a memory safe language. It was named after a fungus.", "en", TKEY, 2)
    ]
    assert read(settings, "SELECT idx, start_s, end_s, text FROM segments ORDER BY idx") == [
        (0, 0.0, 4.2, "Rust is a memory safe language."),
        (1, 4.2, 8.4, "It was named after a fungus."),
    ]


def test_load_writes_the_summary_json_as_given(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    [(summary_id, prompt_version, summary_json, introduction)] = read(
        settings, "SELECT summary_id, prompt_version, summary_json, introduction FROM summaries"
    )
    assert (summary_id, prompt_version) == ("rust-k1", "p1")
    assert json.loads(summary_json) == EXAMPLES[0]["summary"]
    assert introduction == EXAMPLES[0]["summary"]["introduction"]


def test_load_writes_sections_in_order_with_spans(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    sections = EXAMPLES[0]["summary"]["sections"]
    rows = read(settings, "SELECT idx, title, start_s, end_s FROM summary_sections ORDER BY idx")
    assert rows == [(1, sections[0]["title"], 0.0, 30.5)] + [
        (i, s["title"], None, None) for i, s in enumerate(sections[1:], start=2)
    ]


def test_load_writes_bullets_and_section_topics_by_position(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    third = EXAMPLES[0]["summary"]["sections"][2]
    assert read(settings, "SELECT text FROM section_bullets WHERE section_idx = 3 ORDER BY idx") == [
        (text,) for text in third["content"]
    ]
    assert read(settings, "SELECT topic FROM section_topics WHERE section_idx = 3 ORDER BY idx") == [
        (text,) for text in third["topics"]
    ]


def test_load_writes_topic_tags_in_order(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert read(settings, "SELECT tag FROM topic_tags ORDER BY idx") == [
        (tag,) for tag in EXAMPLES[0]["summary"]["topics"]
    ]


@pytest.mark.parametrize("example", [0, 1], ids=["complexity-as-strings", "complexity-as-numbers"])
def test_load_stores_general_topic_complexity_as_decimal_3_2(settings: Settings, store: Store, example: int) -> None:
    stage(store, example=example)
    load_videos(settings, ["rust"], TKEY, "k1")
    expected = [
        (g["name"], Decimal(str(g["complexity"])), "DECIMAL(3,2)")
        for g in EXAMPLES[example]["summary"]["generalTopics"]
    ]
    assert read(settings, "SELECT name, complexity, typeof(complexity) FROM general_topics ORDER BY idx") == expected


def test_loading_twice_leaves_row_counts_unchanged(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    before = counts(settings)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert counts(settings) == before


def test_loading_twice_keeps_first_seen(settings: Settings, store: Store) -> None:
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    [(first_seen, updated)] = read(settings, "SELECT first_seen_at, updated_at FROM videos")
    load_videos(settings, ["rust"], TKEY, "k1")
    [(first_seen_again, updated_again)] = read(settings, "SELECT first_seen_at, updated_at FROM videos")
    assert first_seen_again == first_seen
    assert updated_again > updated


def test_two_videos_of_one_channel_load_in_one_batch(settings: Settings, store: Store) -> None:
    stage(store, "rust")
    stage(store, "zig")
    result = load_videos(settings, ["rust", "zig"], TKEY, "k1")
    assert result.loaded == ("rust", "zig")
    assert counts(settings)["channels"] == 1
    assert counts(settings)["segments"] == 4


def test_second_prompt_version_keeps_both_summaries(settings: Settings, store: Store) -> None:
    stage(store, summary_key="k1", prompt_version="p1")
    load_videos(settings, ["rust"], TKEY, "k1")
    store.save_summary(make_summary_record(prompt_version="p2", created_at=WHEN + timedelta(days=1)), "k2")
    load_videos(settings, ["rust"], TKEY, "k2")
    assert read(settings, "SELECT prompt_version FROM summaries ORDER BY prompt_version") == [("p1",), ("p2",)]
    assert counts(settings)["summary_sections"] == 10


def test_latest_summaries_shows_the_newest(settings: Settings, store: Store) -> None:
    stage(store, summary_key="k1", prompt_version="p1")
    load_videos(settings, ["rust"], TKEY, "k1")
    newer = make_summary_record(prompt_version="p2", created_at=WHEN + timedelta(days=1), introduction="Newer intro.")
    store.save_summary(newer, "k2")
    load_videos(settings, ["rust"], TKEY, "k2")
    assert read(settings, "SELECT summary_id, prompt_version FROM latest_summaries") == [("rust-k2", "p2")]
    assert read(settings, "SELECT introduction FROM video_overview") == [("Newer intro.",)]
    assert counts(settings)["topic_tags"] == 10
    assert read(settings, "SELECT count(*) FROM video_tags") == [(5,)]


def test_failure_artifact_marks_the_video_failed(settings: Settings, store: Store) -> None:
    store.save_video(make_video())
    store.save_failure(
        Failure(
            video_id="rust",
            stage="transcribe",
            kind="permanent",
            error_class="TranscribeError",
            message="could not decode rust.webm",
            at=WHEN,
        )
    )
    result = load_videos(settings, ["rust"], TKEY, "k1")
    assert result.failed == ("rust",)
    assert read(settings, "SELECT status, failed_stage, error_class, error_message FROM videos") == [
        ("failed", "transcribe", "TranscribeError", "could not decode rust.webm")
    ]


def test_cleared_failure_turns_the_video_loaded(settings: Settings, store: Store) -> None:
    store.save_video(make_video())
    store.save_failure(
        Failure(
            video_id="rust", stage="download", kind="permanent", error_class="DownloadError", message="404", at=WHEN
        )
    )
    load_videos(settings, ["rust"], TKEY, "k1")
    store.clear_failure("rust")
    stage(store)
    load_videos(settings, ["rust"], TKEY, "k1")
    assert read(settings, "SELECT status, failed_stage, error_message FROM videos") == [("loaded", None, None)]


def test_video_without_transcript_is_pending(settings: Settings, store: Store) -> None:
    store.save_video(make_video())
    assert load_videos(settings, ["rust"], TKEY, "k1").pending == ("rust",)
    assert read(settings, "SELECT status FROM videos") == [("pending",)]


def test_video_without_artifacts_is_pending_and_not_written(settings: Settings) -> None:
    assert load_videos(settings, ["never_listed"], TKEY, "k1").pending == ("never_listed",)
    assert counts(settings)["videos"] == 0


def test_transcript_for_other_settings_is_used_when_none_matches(settings: Settings, store: Store) -> None:
    # Re-summarizing after a Whisper setting changed must not drop the transcript the summary came from.
    stage(store)
    load_videos(settings, ["rust"], "another-key", "k1")
    assert read(settings, "SELECT settings_key FROM transcripts") == [(TKEY,)]


def test_transcript_for_the_current_settings_wins(settings: Settings, store: Store) -> None:
    stage(store)
    store.save_transcript(make_transcript().model_copy(update={"settings_key": "current", "model": "small"}))
    load_videos(settings, ["rust"], "current", "k1")
    assert read(settings, "SELECT settings_key, model FROM transcripts") == [("current", "small")]


# -- all or nothing --------------------------------------------------------------------------------
def _crash_on_second_summary(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    calls = []
    real = load.save_summary

    def flaky(con: duckdb.DuckDBPyConnection, record: SummaryRecord, summary_id: str) -> None:
        calls.append(summary_id)
        if len(calls) == 2:
            raise RuntimeError("crash on the second video")
        real(con, record, summary_id)

    monkeypatch.setattr(load, "save_summary", flaky)


def _bad_second_summary(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    # tokens_in beyond INTEGER: the insert itself fails inside DuckDB.
    store.save_summary(make_summary_record("zig", tokens_in=10**12), "k1")


@pytest.mark.parametrize("crash", [_crash_on_second_summary, _bad_second_summary], ids=["raise", "insert-fails"])
def test_crash_halfway_leaves_the_catalog_exactly_as_before(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, crash: Any
) -> None:
    stage(store, "rust")
    load_videos(settings, ["rust"], TKEY, "k1")
    before = snapshot(settings)
    # The batch would change the first video (a new title) and add a second one...
    store.save_video(make_video("rust", title="Renamed"))
    stage(store, "zig")
    crash(monkeypatch, store)
    # ...but the second video's summary fails, so nothing of the batch may land.
    with pytest.raises((RuntimeError, duckdb.Error)):
        load_videos(settings, ["rust", "zig"], TKEY, "k1")
    assert snapshot(settings) == before


def test_catalog_is_writable_after_a_crashed_batch(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage(store, "rust")
    stage(store, "zig")
    _crash_on_second_summary(monkeypatch, store)
    with pytest.raises(RuntimeError):
        load_videos(settings, ["rust", "zig"], TKEY, "k1")
    monkeypatch.undo()
    assert load_videos(settings, ["rust", "zig"], TKEY, "k1").loaded == ("rust", "zig")


# -- one writer ------------------------------------------------------------------------------------
class HeldWriter:
    """Holds the catalog writer on a thread until released."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with writer(self.settings):
            self.holding.set()
            self.release.wait(10)

    def __enter__(self) -> HeldWriter:
        self.thread.start()
        assert self.holding.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def test_second_writer_times_out_with_catalog_error(settings: Settings) -> None:
    with HeldWriter(settings), pytest.raises(CatalogError, match="catalog lock"), writer(settings, lock_timeout_s=0.3):
        pass


def test_second_writer_waits_until_the_first_releases(settings: Settings) -> None:
    got_in = threading.Event()

    def second() -> None:
        with writer(settings, lock_timeout_s=10):
            got_in.set()

    with HeldWriter(settings) as first:
        waiter = threading.Thread(target=second, daemon=True)
        waiter.start()
        assert not got_in.wait(0.6), "the second writer got in while the first held the lock"
        first.release.set()
        assert got_in.wait(5)
    waiter.join(5)


def test_writer_releases_the_lock_after_an_error(settings: Settings) -> None:
    with pytest.raises(RuntimeError), writer(settings):
        raise RuntimeError("crash while writing")
    started = time.monotonic()
    with writer(settings, lock_timeout_s=0.3):
        pass
    assert time.monotonic() - started < 0.3


def test_writer_creates_the_catalog_with_the_schema(settings: Settings) -> None:
    with writer(settings):
        pass
    assert counts(settings) == dict.fromkeys(TABLES, 0)


def test_read_only_connection_needs_an_existing_catalog(settings: Settings) -> None:
    with pytest.raises(CatalogError, match="no catalog"):
        connect_read_only(settings)
