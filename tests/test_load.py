"""The load stage: idempotent, all-or-nothing upserts of finished artifacts into the catalog."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from catalog_records import (
    EXAMPLES,
    TKEY,
    WHEN,
    counts,
    make_failure,
    make_summary_record,
    make_transcript,
    make_video,
    read,
    snapshot,
    stage,
)
from tubescribe.catalog import load
from tubescribe.catalog.load import LoadResult, load_videos
from tubescribe.catalog.sql import CatalogError
from tubescribe.settings import Settings
from tubescribe.store import Store


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


def test_the_summary_lists_match_their_rows_and_follow_a_replaced_summary(settings: Settings, store: Store) -> None:
    lists = (
        "SELECT x.bullets, x.topics, (SELECT list(text ORDER BY idx) FROM section_bullets b"
        " WHERE b.summary_id = x.summary_id AND b.section_idx = x.idx),"
        " (SELECT list(topic ORDER BY idx) FROM section_topics t"
        " WHERE t.summary_id = x.summary_id AND t.section_idx = x.idx) FROM summary_sections x ORDER BY idx"
    )
    tags = "SELECT topics, general_topics FROM summaries"
    for example in (0, 1):  # the same summary key, a different summary: every list must follow
        stage(store, example=example)
        load_videos(settings, ["rust"], TKEY, "k1")
        summary = EXAMPLES[example]["summary"]
        assert [(b, t) for b, t, _, _ in read(settings, lists)] == [
            (s["content"], s["topics"]) for s in summary["sections"]
        ]
        assert all(b == rb and t == rt for b, t, rb, rt in read(settings, lists))
        general = [f"{g['name']} ({Decimal(str(g['complexity'])):.2f})" for g in summary["generalTopics"]]
        assert read(settings, tags) == [(summary["topics"], general)]


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


def test_an_older_summary_loaded_later_does_not_become_the_newest(settings: Settings, store: Store) -> None:
    stage(store, summary_key="k2", prompt_version="p2")
    store.save_summary(make_summary_record(prompt_version="p2", created_at=WHEN + timedelta(days=1)), "k2")
    load_videos(settings, ["rust"], TKEY, "k2")
    store.save_summary(make_summary_record(prompt_version="p1", created_at=WHEN), "k1")
    load_videos(settings, ["rust"], TKEY, "k1")
    assert read(settings, "SELECT summary_id FROM latest_summaries") == [("rust-k2",)]
    # Same time: the smaller id wins, whichever was loaded last.
    store.save_summary(make_summary_record(prompt_version="p0", created_at=WHEN + timedelta(days=1)), "k0")
    load_videos(settings, ["rust"], TKEY, "k0")
    assert read(settings, "SELECT summary_id FROM latest_summaries") == [("rust-k0",)]
    assert read(settings, "SELECT count(*) FILTER (WHERE is_latest) FROM summaries") == [(1,)]


def test_failure_artifact_marks_the_video_failed(settings: Settings, store: Store) -> None:
    store.save_video(make_video())
    store.save_failure(
        make_failure(stage="transcribe", error_class="TranscribeError", message="could not decode rust.webm")
    )
    result = load_videos(settings, ["rust"], TKEY, "k1")
    assert result.failed == ("rust",)
    assert read(settings, "SELECT status, failed_stage, error_class, error_message FROM videos") == [
        ("failed", "transcribe", "TranscribeError", "could not decode rust.webm")
    ]


def test_cleared_failure_turns_the_video_loaded(settings: Settings, store: Store) -> None:
    store.save_video(make_video())
    store.save_failure(make_failure())
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
def _crash_on_the_summaries(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    # Channels, timings and transcripts are written by then, inside the batch's transaction.
    real = load.run_sql

    def flaky(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> Any:
        if name == "load/summaries":
            raise RuntimeError("crash halfway through the batch")
        return real(con, name, params)

    monkeypatch.setattr(load, "run_sql", flaky)


def _bad_second_summary(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    # tokens_in beyond INTEGER: the insert itself fails inside DuckDB.
    store.save_summary(make_summary_record("zig", tokens_in=10**12), "k1")


# A crash propagates as raised; DuckDB's own error comes out of the rolled-back transaction as a CatalogError.
@pytest.mark.parametrize(
    ("crash", "raised"),
    [(_crash_on_the_summaries, RuntimeError), (_bad_second_summary, CatalogError)],
    ids=["raise", "insert-fails"],
)
def test_crash_halfway_leaves_the_catalog_exactly_as_before(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, crash: Any, raised: type[Exception]
) -> None:
    stage(store, "rust")
    load_videos(settings, ["rust"], TKEY, "k1")
    before = snapshot(settings)
    # The batch would change the first video (a new title) and add a second one...
    store.save_video(make_video("rust", title="Renamed"))
    stage(store, "zig")
    crash(monkeypatch, store)
    # ...but the second video's summary fails, so nothing of the batch may land.
    with pytest.raises(raised):
        load_videos(settings, ["rust", "zig"], TKEY, "k1")
    assert snapshot(settings) == before


def test_catalog_is_writable_after_a_crashed_batch(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage(store, "rust")
    stage(store, "zig")
    _crash_on_the_summaries(monkeypatch, store)
    with pytest.raises(RuntimeError):
        load_videos(settings, ["rust", "zig"], TKEY, "k1")
    monkeypatch.undo()
    assert load_videos(settings, ["rust", "zig"], TKEY, "k1").loaded == ("rust", "zig")
