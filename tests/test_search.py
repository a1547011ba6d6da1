"""`tubescribe search`: BM25 over segments and summaries, the right video and second first, always current."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from catalog_records import timed_transcript
from cli_support import tubescribe
from sample_catalog import (  # noqa: F401  (sample: a pytest fixture, used by name)
    GENERIC_CHANNEL,
    TKEY,
    YOUTUBE_ID,
    sample,
    segments_of,
    video_of,
)
from tubescribe.catalog import search as search_module
from tubescribe.catalog.connection import writer
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.migrations import apply_schema
from tubescribe.catalog.search import INDEX_FORMAT, SearchError, moment_link, refresh_index, search, snippet
from tubescribe.catalog.sql import run_sql
from tubescribe.records import Segment
from tubescribe.settings import Settings
from tubescribe.stages.summarize import summary_key
from tubescribe.stages.summarize.local.summarizer import LocalSummarizer
from tubescribe.store import Store

REPO = Path(__file__).resolve().parents[1]
SEARCH_SQL = sorted(p.stem for p in (REPO / "sql" / "search").glob("*.sql"))


def second_of(name: str, words: str) -> float:
    """Start of the first sample segment (as the fixture cuts them) that holds `words`."""
    video = video_of(name)
    assert video.duration_s is not None
    return next(s.start_s for s in segments_of(name, video.duration_s) if words in s.text)


# -- the right video and second first ------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "name", "words"),
    [
        ("borrow checker", "rust", "borrow checker"),
        ("allocators", "zig", "allocators"),
        ("hypervisor", "localized_deployment", "hypervisor"),
        ("jsx", "react", "jsx"),
        ("garbage collector memory safety", "rust", "memory safety"),
    ],
)
def test_search_puts_the_right_video_and_second_first(sample: Settings, query: str, name: str, words: str) -> None:
    best = search(sample, query)[0]
    assert (best.video_id, best.kind) == (name, "segment")
    if name != "zig":  # "allocators" also matches "allocation" (both stem to "alloc"), so any of zig's will do
        assert best.start_s == second_of(name, words)
    assert words.split()[0][:5] in best.snippet


def test_a_generic_hit_links_to_the_media_at_its_second(sample: Settings) -> None:
    best = search(sample, "borrow checker")[0]
    assert best.link == f"http://127.0.0.1:8000/rust.webm#t={int(second_of('rust', 'borrow checker'))}"
    assert (best.title, best.channel) == ("Rust in 100 Seconds", GENERIC_CHANNEL)


def test_a_youtube_hit_links_to_youtube_at_its_second(sample: Settings) -> None:
    best = search(sample, "typescript released 2012")[0]
    assert best.video_id == YOUTUBE_ID
    assert best.link == f"https://www.youtube.com/watch?v={YOUTUBE_ID}&t={int(best.start_s)}s"


def test_hits_are_ordered_by_score_and_limited(sample: Settings) -> None:
    hits = search(sample, "memory", limit=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_channel_filter_matches_part_of_the_title_or_the_id(sample: Settings) -> None:
    assert {h.video_id for h in search(sample, "typescript", channel="fireship")} == {YOUTUBE_ID}
    assert {h.video_id for h in search(sample, "typescript", channel="UCsBjURrPoezykLs9EqgamOA")} == {YOUTUBE_ID}
    assert YOUTUBE_ID not in {h.video_id for h in search(sample, "typescript", channel="sample channel", limit=50)}


def test_since_filter_keeps_later_videos_only(sample: Settings) -> None:
    hits = search(sample, "memory", since=date(2024, 6, 1), limit=50)
    assert hits and not {h.video_id for h in hits} & {"zig", "rust"}


def test_no_match_is_an_empty_list(sample: Settings) -> None:
    assert search(sample, "xylophone") == []


def test_blank_query_says_what_to_give(sample: Settings) -> None:
    with pytest.raises(SearchError, match="give some words"):
        search(sample, "   ")


# -- what is indexed -----------------------------------------------------------------------------
def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_segment_is_a_document_at_its_own_second(sample: Settings) -> None:
    matched = (
        "SELECT count(*) FROM search_docs d JOIN segments s ON s.video_id = d.video_id AND s.idx = d.part "
        "AND s.start_s = d.start_s AND s.text = d.text WHERE d.kind = 'segment'"
    )
    assert _rows(sample, matched) == _rows(sample, "SELECT count(*) FROM segments")


def test_summary_sections_point_at_their_start_and_the_rest_at_zero(sample: Settings) -> None:
    mismatched = _rows(
        sample,
        "SELECT d.video_id, d.part FROM search_docs d JOIN video_sections x ON x.video_id = d.video_id "
        "AND x.idx = d.part WHERE d.kind = 'section' AND d.start_s <> coalesce(x.start_s, 0)",
    )
    assert mismatched == []
    kinds = "SELECT kind, count(*), max(start_s) > 0 FROM search_docs WHERE kind <> 'segment' GROUP BY 1 ORDER BY 1"
    assert _rows(sample, kinds) == [("introduction", 5, False), ("section", 25, True), ("topics", 5, False)]


def test_a_summary_hit_points_at_its_section(sample: Settings) -> None:
    section_hits = [h for h in search(sample, "ownership borrowing", limit=30) if h.kind == "section"]
    assert section_hits
    starts = dict(
        ((v, s), i) for v, i, s in _rows(sample, "SELECT video_id, idx, coalesce(start_s, 0) FROM video_sections")
    )
    assert all((h.video_id, h.start_s) in starts for h in section_hits)


# -- always current ------------------------------------------------------------------------------
def test_the_index_follows_every_load(settings: Settings) -> None:
    store = Store(settings)
    summarizer = LocalSummarizer()
    video = video_of("rust")
    first = timed_transcript(
        "rust",
        ["rust has a borrow checker for memory", "and cargo builds the crates quickly"],
        5.0,
        settings_key=TKEY,
        transcribed_at=video.published_at,
    )
    store.save_video(video)
    store.save_transcript(first)
    store.save_summary(summarizer.summarize(video, first), summary_key(summarizer))
    load_videos(settings, ["rust"], TKEY, summary_key(summarizer))
    assert [(h.video_id, h.start_s) for h in search(settings, "cargo crates")][:1] == [("rust", 5.0)]

    # The same video re-transcribed: old words are gone from the index, new ones are found at once.
    second = first.model_copy(
        update={"segments": (Segment(idx=0, start_s=0.0, end_s=10.0, text="a fungus named rust grows on iron"),)}
    )
    store.save_transcript(second)
    store.save_summary(summarizer.summarize(video, second), summary_key(summarizer))
    load_videos(settings, ["rust"], TKEY, summary_key(summarizer))
    assert search(settings, "cargo crates") == []
    assert search(settings, "fungus")[0].video_id == "rust"


def _copy_of(sample: Settings, tmp_path: Path) -> Settings:
    """A private copy of the sample catalog (writer file and published file), to change freely."""
    settings = Settings.load(home=tmp_path / "home")
    for path in (sample.writer_catalog_path, sample.catalog_path):
        target = settings.home / path.relative_to(sample.home)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return settings


def _ranked(settings: Settings, query: str) -> list[tuple[str, str, float, float]]:
    return [(h.video_id, h.kind, h.start_s, h.score) for h in search(settings, query, limit=50)]


def test_a_refresh_touches_only_its_videos_and_leaves_the_rest_as_they_were(sample: Settings, tmp_path: Path) -> None:
    settings = _copy_of(sample, tmp_path)
    docs = "SELECT doc_id, video_id, kind, part, text FROM search_docs ORDER BY doc_id"
    before = _rows(settings, docs)
    with writer(settings) as con:
        refresh_index(con, ["zig"])
    after = _rows(settings, docs)
    assert [d for d in after if d[1] != "zig"] == [d for d in before if d[1] != "zig"]
    # zig's documents are the same texts under new ids, so its hits are the same.
    assert sorted(d[2:] for d in after if d[1] == "zig") == sorted(d[2:] for d in before if d[1] == "zig")
    assert min(d[0] for d in after if d[1] == "zig") > max(d[0] for d in before)
    assert _ranked(settings, "allocators") == _ranked(sample, "allocators")


def test_replaced_documents_score_nothing_and_a_merge_drops_them(sample: Settings, tmp_path: Path) -> None:
    settings = _copy_of(sample, tmp_path)
    queries = ["allocators", "borrow checker", "hypervisor jsx", "memory safety"]
    with writer(settings) as con, mock.patch.object(search_module, "MERGE_AFTER_GROWTH", 10.0):
        for _ in range(3):  # three reloads, no merge: zig's and rust's old postings stay, listed as dead
            refresh_index(con, ["zig", "rust"])
    [(postings, dead)] = _rows(
        settings, "SELECT count(*), (SELECT count(*) FROM search_dead_docs) FROM search_postings"
    )
    assert dead > 0
    assert {q: _ranked(settings, q) for q in queries} == {q: _ranked(sample, q) for q in queries}
    with writer(settings) as con:
        run_sql(con, "search/merge", {"format": INDEX_FORMAT})
    live = "SELECT count(*) FROM (SELECT DISTINCT doc_id, term FROM search_docs, unnest(search_tokens(text)) t(term))"
    with writer(settings) as con:
        [(live_postings,)] = con.execute(live).fetchall()
    assert _rows(settings, "SELECT count(*) FROM search_postings") == [(live_postings,)]
    assert live_postings < postings
    assert _rows(settings, "SELECT count(*) FROM search_dead_docs") == [(0,)]
    # Back in one term order, as a query's block skipping needs.
    ordered = "SELECT bool_and(ok) FROM (SELECT term >= lag(term, 1, '') OVER () AS ok FROM search_postings)"
    assert _rows(settings, ordered) == [(True,)]
    assert {q: _ranked(settings, q) for q in queries} == {q: _ranked(sample, q) for q in queries}


def test_the_corpus_numbers_follow_every_refresh(sample: Settings, tmp_path: Path) -> None:
    # BM25's corpus size and average length are kept beside the index, not counted by each search.
    settings = _copy_of(sample, tmp_path)
    counted = "SELECT count(*), sum(terms) FROM search_docs"
    kept = "SELECT docs, terms FROM search_index_state"
    before = _rows(settings, counted)
    assert _rows(settings, kept) == before
    with writer(settings) as con, mock.patch.object(search_module, "MERGE_AFTER_GROWTH", 10.0):
        con.execute("DELETE FROM segments WHERE video_id = 'zig' AND idx % 2 = 0")  # zig is shorter now
        refresh_index(con, ["zig"])  # no merge: the numbers come from the refresh itself
    assert _rows(settings, counted) != before
    assert _rows(settings, kept) == _rows(settings, counted)
    # And the next new document's id is past every id in use, live or replaced.
    in_use = "SELECT max(doc_id) FROM (SELECT doc_id FROM search_docs UNION ALL SELECT doc_id FROM search_dead_docs)"
    [(top,)] = _rows(settings, in_use)
    assert _rows(settings, "SELECT next_doc_id FROM search_index_state") == [(top + 1,)]


def test_an_index_of_an_older_format_is_rebuilt_whole_by_the_next_load(sample: Settings, tmp_path: Path) -> None:
    settings = _copy_of(sample, tmp_path)
    with writer(settings) as con:
        con.execute("UPDATE search_index_state SET format = 1")
        con.execute("DELETE FROM search_postings")  # as if the old index were unusable
    with pytest.raises(SearchError, match="no search index yet"):
        search(settings, "allocators")
    load_videos(settings, [], TKEY, "k1")  # a load with nothing to write still brings the index up to date
    assert _ranked(settings, "allocators") == _ranked(sample, "allocators")


def test_a_catalog_without_an_index_says_how_to_build_it(settings: Settings) -> None:
    with writer(settings):
        pass
    with pytest.raises(SearchError, match=r"no search index yet.*tubescribe ingest"):
        search(settings, "rust")


def test_an_empty_load_builds_an_empty_index(settings: Settings) -> None:
    load_videos(settings, [], TKEY, "k1")
    assert search(settings, "rust") == []


@pytest.mark.parametrize("name", SEARCH_SQL)
def test_search_sql_runs_on_an_empty_catalog(tmp_path: Path, name: str) -> None:
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        apply_schema(con)
        refresh_index(con)
        params = {"query": "rust", "channel": None, "since": None, "limit": 5, "format": INDEX_FORMAT}
        params |= {"all": True, "video_ids": [], "vector": "[" + ", ".join(["0.1"] * 384) + "]", "model": "local/m"}
        rows = run_sql(con, f"search/{name}", params)
    # index_ready is true once built; refresh ends with an INSERT (its count), postings_stats counts rows.
    expected = {"index_ready": [(True,)], "merge": [(1,)], "postings_stats": [(0, 0)], "embedded": [(False,)]}
    assert rows == expected.get(name, [])


# -- pieces --------------------------------------------------------------------------------------
def test_moment_links() -> None:
    assert moment_link("youtube", "abc_DEF-123", "https://youtu.be/x", 83.9) == (
        "https://www.youtube.com/watch?v=abc_DEF-123&t=83s"
    )
    assert moment_link("generic", "ep1", "https://cdn.example/ep1.mp3#old", 7.2) == "https://cdn.example/ep1.mp3#t=7"
    assert moment_link("vimeo", "v", "https://vimeo.com/1", -1) == "https://vimeo.com/1#t=0"


def test_snippet_centres_on_the_match_and_marks_cuts() -> None:
    text = " ".join(["filler"] * 60 + ["the", "borrow", "checker", "validates"] + ["more"] * 60)
    cut = snippet(text, "borrow checker", width=80)
    assert cut.startswith("…") and cut.endswith("…") and "borrow checker" in cut and len(cut) <= 82


def test_snippet_keeps_short_text_whole() -> None:
    assert snippet("  short   text ", "text") == "short text"


# -- the command ---------------------------------------------------------------------------------
def test_cli_search_json(sample: Settings) -> None:
    done = tubescribe(sample.home, "search", "borrow checker", "--format", "json", "--limit", "3")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 3
    assert (hits[0]["video_id"], hits[0]["start_s"]) == ("rust", second_of("rust", "borrow checker"))
    assert hits[0]["link"].endswith(f"#t={int(hits[0]['start_s'])}")
