"""The DuckDB catalog: every SQL file runs, transactions are all or nothing, one writer at a time."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog_records import TABLES, TKEY, counts
from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.catalog.load import json_rows
from tubescribe.catalog.migrations import apply_schema, schema_files
from tubescribe.catalog.sql import CatalogError, run_sql, sql_dir, transaction
from tubescribe.settings import Settings

REPO = Path(__file__).resolve().parents[1]
# search/ needs the fts extension, export/ writes files and maintenance/ needs DuckLake: tests/test_search.py,
# tests/test_export.py and tests/test_lake.py run those.
SQL_FILES = sorted(
    name
    for name in (p.relative_to(REPO / "sql").with_suffix("").as_posix() for p in (REPO / "sql").rglob("*.sql"))
    if not name.startswith(("search/", "export/", "maintenance/"))
)

# Plausible typed values for every $param, shaped the way load.py and query.py pass them.
NOW = datetime(2025, 1, 1, tzinfo=UTC)
SQL_PARAMS: dict[str, dict[str, Any]] = {
    "load/channels": {
        "rows": [{"channel_id": "c1", "title": "Channel", "url": "http://127.0.0.1/feed.xml", "extractor": "generic"}],
        "now": NOW,
    },
    "load/videos": {
        "rows": [
            {
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
            }
        ],
        "max_attempts": 5,
        "now": NOW,
    },
    "load/stage_runs": {
        "rows": [
            {
                "video_id": "v1",
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
    "queries/settled_videos": {
        "whisper_key": "k",
        "other_whisper": True,
        "caption_keys": ["c"],
        "summary_key": "s",
        "retry_permanent": False,
    },
    "load/transcripts": {
        "rows": [
            {
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
                "source": "asr",
                "caption_kind": None,
                "caption_track": None,
                "caption_format": None,
                "caption_note": "no captions listed",
            }
        ],
        "video_ids": ["v1"],
        "keys": [{"video_id": "v1", "settings_key": TKEY}],
        "now": NOW,
        "segments": [
            {"video_id": "v1", "idx": 0, "start_s": 0.0, "end_s": 4.0, "text": "hello"},
            {"video_id": "v1", "idx": 1, "start_s": 4.0, "end_s": 8.0, "text": "world"},
        ],
    },
    "load/summaries": {
        "rows": [
            {
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
                "transcript_key": TKEY,
            }
        ],
        "summary_ids": ["v1-k"],
        "sections": [
            {"summary_id": "v1-k", "video_id": "v1", "idx": 1, "title": "Section 1: A", "start_s": 0.0, "end_s": None}
        ],
        "bullets": [{"summary_id": "v1-k", "video_id": "v1", "section_idx": 1, "idx": 1, "text": "bullet"}],
        "section_topics": [{"summary_id": "v1-k", "video_id": "v1", "section_idx": 1, "idx": 1, "text": "topic"}],
        "tags": [{"summary_id": "v1-k", "video_id": "v1", "idx": 1, "text": "Tags", "normalized": "tag"}],
        "general_topics": [
            {"summary_id": "v1-k", "video_id": "v1", "idx": 1, "name": "Quantum Computing", "complexity": "0.87"}
        ],
    },
    "load/summary_lists": {"summary_ids": ["v1-k"]},
    "load/embeddings": {
        "rows": [
            {
                "video_id": "v1",
                "model": "local/m",
                "kind": "chunk",
                "idx": 0,
                "start_s": 0.0,
                "end_s": 8.0,
                "text": "hello world",
                "embedding": [0.6, 0.8],
                "created_at": NOW,
            }
        ],
        "model": "local/m",
        "video_ids": ["v1"],
    },
    "migrations/record": {"version": 999, "name": "999_test", "checksum": "0" * 16, "now": NOW},
    "queries/landed": {"video_ids": ["v1", "v2"]},
    "upgrade/rename_video_ids": {"old": "v1", "new": "generic-feed-v1"},
    "queries/video": {"video_id": "v1"},
    "queries/video_sections": {"video_id": "v1"},
    "queries/video_transcript": {"video_id": "v1"},
    "browse/newest_videos": {"channel_id": None, "limit": 25, "offset": 0},
    "browse/video_count": {"channel_id": "c1"},
    "browse/weekly_videos": {"weeks": 26},
    "browse/topic_months": {"months": 12, "topics": 5},
    "browse/failures": {"limit": 10},
    "browse/video": {"video_id": "v1"},
    "browse/video_general": {"video_id": "v1"},
    "browse/video_segments": {"video_id": "v1"},
    "browse/video_tags": {"video_id": "v1"},
    "browse/topics": {"limit": 25, "offset": 0},
    "browse/topic_trends": {"topics": ["rust", "memory"]},
    "browse/topic_videos": {"topic": "rust", "limit": 25, "offset": 25},
    "browse/topic_video_count": {"topic": "rust"},
    "notify/landed": {"since": NOW},
    "notify/failures": {"since": NOW},
    "notify/new_topics": {"since": NOW},
    "notify/tokens": {"since": NOW},
    "plan/token_rates": {"backend": "openai", "model": "gpt-4o-mini"},
    "plan/media_history": {"limit": 200},
    "plan/caption_share": {"channel_ids": ["c1"], "caption_keys": ["captions-uploaded"]},
}


# The loader hands its rows over as JSON text (load.json_rows); so do these.
for _name, _params in SQL_PARAMS.items():
    if _name.startswith("load/"):
        _params.update({k: json_rows(v) for k, v in _params.items() if isinstance(v, list) and isinstance(v[0], dict)})


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
    run_sql(fresh, "load/summaries", SQL_PARAMS["load/summaries"])
    assert fresh.execute("SELECT complexity, typeof(complexity) FROM general_topics").fetchall() == [
        (Decimal("0.87"), "DECIMAL(3,2)")
    ]


def test_run_sql_names_missing_parameters(fresh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogError, match=r"sql/queries/video\.sql needs parameters: video_id"):
        run_sql(fresh, "queries/video", {})


def test_run_sql_ignores_unused_parameters(fresh: duckdb.DuckDBPyConnection) -> None:
    assert run_sql(fresh, "queries/video", {"video_id": "x", "unused": 1}) == []


def test_bound_values_are_never_read_as_sql(fresh: duckdb.DuckDBPyConnection) -> None:
    evil = {"channel_id": "c1", "title": "x'); DROP TABLE videos; --", "url": "u", "extractor": "generic"}
    run_sql(fresh, "load/channels", {"rows": json_rows([evil]), "now": NOW})
    assert fresh.execute("SELECT title FROM channels").fetchall() == [("x'); DROP TABLE videos; --",)]
    assert fresh.execute("SELECT count(*) FROM videos").fetchall() == [(0,)]


# -- transaction -----------------------------------------------------------------------------------
def test_transaction_commits_when_the_block_succeeds(fresh: duckdb.DuckDBPyConnection) -> None:
    with transaction(fresh):
        run_sql(fresh, "load/channels", SQL_PARAMS["load/channels"])
    assert fresh.execute("SELECT count(*) FROM channels").fetchall() == [(1,)]


def test_transaction_rolls_back_when_the_block_raises(fresh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(RuntimeError), transaction(fresh):
        run_sql(fresh, "load/channels", SQL_PARAMS["load/channels"])
        raise RuntimeError("crash")
    assert fresh.execute("SELECT count(*) FROM channels").fetchall() == [(0,)]


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
    # Were the lock still held, this writer would give up with "held the catalog lock" instead of opening.
    with writer(settings, lock_timeout_s=0.3) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)


def test_writer_creates_the_catalog_with_the_schema(settings: Settings) -> None:
    with writer(settings):
        pass
    assert counts(settings) == dict.fromkeys(TABLES, 0)


def test_read_only_connection_needs_an_existing_catalog(settings: Settings) -> None:
    with pytest.raises(CatalogError, match="no catalog"):
        connect_read_only(settings)


# -- migrations ------------------------------------------------------------------------------------
# How the release before schema_migrations left a catalog: keyed tables, a sequence for search ids,
# and no record of which schema files it had (it re-ran them all on every open).
PREVIOUS_RELEASE = """
CREATE TABLE videos (video_id VARCHAR PRIMARY KEY, channel_id VARCHAR NOT NULL, title VARCHAR NOT NULL,
    url VARCHAR NOT NULL, published_at TIMESTAMPTZ, duration_s DOUBLE, extractor VARCHAR NOT NULL,
    status VARCHAR NOT NULL, failed_stage VARCHAR, error_class VARCHAR, error_message VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
CREATE TABLE transcripts (video_id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, language VARCHAR NOT NULL,
    language_probability DOUBLE, audio_duration_s DOUBLE NOT NULL, model VARCHAR NOT NULL,
    settings_key VARCHAR NOT NULL, segment_count INTEGER NOT NULL, transcribed_at TIMESTAMPTZ NOT NULL,
    elapsed_s DOUBLE NOT NULL);
CREATE SEQUENCE search_doc_ids;
INSERT INTO videos VALUES ('old', 'c', 'Old video', 'http://127.0.0.1:1/old.webm', NULL, 10, 'generic',
    'pending', NULL, NULL, NULL, now(), now());
"""


def _previous_release_catalog(settings: Settings) -> None:
    settings.writer_catalog_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.writer_catalog_path)) as con:
        con.execute(PREVIOUS_RELEASE)


def test_a_previous_release_catalog_upgrades_in_place_and_loads(settings: Settings) -> None:
    from catalog_records import stage
    from tubescribe.catalog.load import load_videos
    from tubescribe.store import Store

    _previous_release_catalog(settings)
    with writer(settings) as con:
        applied = con.execute("SELECT name FROM schema_migrations ORDER BY version").fetchall()
        assert [f"schema/{name}" for (name,) in applied] == schema_files()
        assert con.execute("SELECT video_id, attempts FROM videos").fetchall() == [("old", 0)]  # 005's column
    stage(Store(settings), "rust")
    load_videos(settings, ["rust"], TKEY, "k1")
    load_videos(settings, ["rust"], TKEY, "k1")  # delete+insert on the old keyed tables, twice
    assert counts(settings)["videos"] == 2 and counts(settings)["transcripts"] == 1


def test_a_second_open_applies_no_migration(settings: Settings) -> None:
    with writer(settings) as con:
        assert apply_schema(con) == []
    with writer(settings) as con:
        assert apply_schema(con) == []
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchall() == [(len(schema_files()),)]


def _sql_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tubescribe.catalog import sql as catalog

    copy = tmp_path / "sql"
    shutil.copytree(REPO / "sql", copy)
    monkeypatch.setenv("TUBESCRIBE_SQL_DIR", str(copy))
    catalog.read_statements.cache_clear()  # statements are cached by name; the caller clears it again when done
    return copy


@contextmanager
def _migrated(settings: Settings, copy: Path, name: str, sql: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write (or rewrite) one migration in the SQL copy, then open the catalog, which applies what is new."""
    from tubescribe.catalog import sql as catalog

    (copy / "schema" / name).write_text(sql)
    catalog.read_statements.cache_clear()
    with writer(settings) as con:
        yield con


def _view(n: int) -> str:
    return f"CREATE OR REPLACE VIEW note_view AS SELECT {n} AS n;\n"


def test_a_new_migration_is_applied_once_on_an_existing_catalog(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tubescribe.catalog import sql as catalog

    with writer(settings):
        pass
    copy = _sql_copy(tmp_path, monkeypatch)
    try:
        (copy / "schema" / "900_notes.sql").write_text(
            "CREATE TABLE notes (video_id VARCHAR NOT NULL, note VARCHAR NOT NULL);\n"
            "INSERT INTO notes VALUES ('v', 'added once');\n"
        )
        with writer(settings) as con:
            assert apply_schema(con) == []
        with writer(settings) as con:
            assert con.execute("SELECT count(*) FROM notes").fetchall() == [(1,)]  # not inserted again
            assert con.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(900,)]
        # An applied migration that changes data may not be edited afterwards...
        notes = (copy / "schema" / "900_notes.sql").read_text()
        with (
            pytest.raises(CatalogError, match=r"900_notes\.sql changed"),
            _migrated(settings, copy, "900_notes.sql", "CREATE TABLE notes (video_id VARCHAR);\n"),
        ):
            pass
        # ...but one that only defines views is re-applied when it changes.
        (copy / "schema" / "900_notes.sql").write_text(notes)
        with _migrated(settings, copy, "901_note_view.sql", _view(1)):
            pass
        with _migrated(settings, copy, "901_note_view.sql", _view(2)) as con:
            assert con.execute("SELECT n FROM note_view").fetchall() == [(2,)]
        # An earlier view migration edited: the later ones that may redefine its views run again after it.
        with _migrated(settings, copy, "902_note_view_again.sql", _view(3)):
            pass
        with _migrated(settings, copy, "901_note_view.sql", _view(4)) as con:
            assert apply_schema(con) == []
            assert con.execute("SELECT n FROM note_view").fetchall() == [(3,)]  # 902's, the last definition
    finally:
        catalog.read_statements.cache_clear()
