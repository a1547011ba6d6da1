"""The catalog as DuckLake: Postgres metadata on loopback, data files in a local folder.

The same loads, searches and views as the embedded catalog, plus what only a shared catalog needs:
migration from an embedded catalog, maintenance, and data in S3. Readers and writers at once (snapshots,
locks, conflicts): test_lake_concurrency.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog_records import TABLES, TKEY, stage
from lake_support import lake, lake_counts, rows  # noqa: F401  (lake: a fixture)
from sample_catalog import SAMPLE_IDS, build_sample_catalog
from services_pg import Postgres, postgres, postgres_server  # noqa: F401  (fixtures)
from services_s3 import S3Service, s3_service  # noqa: F401  (fixture)
from tubescribe.catalog.connection import catalog_exists, connect_read_only, writer
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.maintenance import maintain, migrate_to_lake
from tubescribe.catalog.migrations import apply_schema, schema_files
from tubescribe.catalog.search import search
from tubescribe.catalog.sql import CatalogError, transaction
from tubescribe.settings import Settings
from tubescribe.store import Store

# Each test starts a database on a loopback Postgres (and some a moto S3): not part of `make test-fast`.
pytestmark = pytest.mark.slow


def test_a_lake_load_writes_every_table_and_its_files_go_to_the_data_folder(lake: Settings) -> None:
    stage(Store(lake), "rust")
    stage(Store(lake), "zig")
    assert load_videos(lake, ["rust", "zig"], TKEY, "k1").loaded == ("rust", "zig")
    found = lake_counts(lake)
    assert found["videos"] == 2 and found["channels"] == 1 and found["transcripts"] == 2
    assert all(found[table] > 0 for table in TABLES)
    assert list(Path(lake.lake_data_url or "").rglob("*.parquet"))
    assert not lake.catalog_path.exists()  # no embedded file, no published copy


def test_search_documents_are_written_in_small_row_groups(lake: Settings) -> None:
    # A search reads its best documents' text by doc_id; small row groups let it skip the rest.
    build_sample_catalog(lake)
    options = rows(
        lake, "SELECT option_name, value, scope_entry FROM ducklake_options('catalog') WHERE scope = 'TABLE'"
    )
    assert ("parquet_row_group_size", "2048", "main.search_docs") in options
    files = [path for (path,) in rows(lake, "SELECT data_file FROM ducklake_list_files('catalog', 'search_docs')")]
    [(docs,)] = rows(lake, "SELECT count(*) FROM search_docs")
    [(groups, largest)] = rows(lake, f"SELECT count(*), max(row_group_num_rows) FROM parquet_metadata({files!r}) "
                                     "WHERE path_in_schema = 'doc_id'")  # fmt: skip
    assert largest <= 2048 and groups >= docs / 2048


def test_reloading_into_the_lake_leaves_the_same_rows(lake: Settings) -> None:
    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    before = {table: sorted(rows(lake, _stable(table)), key=repr) for table in TABLES}
    load_videos(lake, ["rust"], TKEY, "k1")
    assert {table: sorted(rows(lake, _stable(table)), key=repr) for table in TABLES} == before


def _stable(table: str, *, when_loaded: bool = False) -> str:
    # Every column but those a reload rightly changes (when the row was last written or listed), and
    # with `when_loaded` also when it was first written (two catalogs loaded apart).
    moving = {"videos": "updated_at", "channels": "last_listed_at"}.get(table)
    if when_loaded:  # and what the summarizer measured or stamped as it ran
        moving = {
            "videos": "updated_at, first_seen_at, last_attempt_at",
            "channels": "last_listed_at, first_seen_at",
            "summaries": "created_at, latency_s",
        }.get(table)
    return f"SELECT * EXCLUDE ({moving}) FROM {table}" if moving else f"SELECT * FROM {table}"


@pytest.fixture
def both(settings: Settings, lake: Settings) -> tuple[Settings, Settings]:
    """The sample catalog built twice from the same records: embedded and in the lake."""
    build_sample_catalog(settings)
    build_sample_catalog(lake)
    return settings, lake


def test_search_on_the_lake_gives_the_embedded_catalogs_hits(both: tuple[Settings, Settings]) -> None:
    embedded, lake = both
    for query in ("memory safe", "borrow checker", "react components", "zig comptime"):
        hits = search(embedded, query, limit=20)
        assert hits, f"the sample catalog should match {query!r}"
        assert search(lake, query, limit=20) == hits, query


def test_search_by_meaning_on_the_lake_gives_the_embedded_catalogs_hits(both: tuple[Settings, Settings]) -> None:
    from tubescribe.pipeline.retrieval import find

    embedded, lake = both
    for question in ("a language that keeps memory safe without a collector", "user interfaces made of components"):
        for mode in ("semantic", "hybrid"):
            hits = find(embedded, question, mode=mode, limit=10)
            assert hits and hits[0].video_id in ("rust", "react"), (question, mode)
            assert find(lake, question, mode=mode, limit=10) == hits, (question, mode)


def test_the_lake_holds_what_the_embedded_catalog_holds(both: tuple[Settings, Settings]) -> None:
    embedded, lake = both
    for table in TABLES:
        sql = _stable(table, when_loaded=True)
        assert sorted(rows(lake, sql), key=repr) == sorted(rows(embedded, sql), key=repr), table


def test_every_view_queries_on_the_lake(both: tuple[Settings, Settings]) -> None:
    embedded, lake = both
    listing = "SELECT view_name FROM duckdb_views() WHERE database_name = 'catalog' AND NOT internal ORDER BY 1"
    views = rows(lake, listing)
    assert views == rows(embedded, listing) and len(views) >= 10
    for (view,) in views:
        assert rows(lake, f"SELECT count(*) FROM {view}") == rows(embedded, f"SELECT count(*) FROM {view}"), view


def test_migrate_to_lake_copies_every_table_and_every_video_once(settings: Settings, lake: Settings) -> None:
    build_sample_catalog(settings)
    embedded_counts = {table: rows(settings, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
    copied = migrate_to_lake(settings, lake)
    assert {table: copied[table] for table in TABLES} == embedded_counts
    migrate_to_lake(settings, lake)  # again: replaces, never duplicates
    assert lake_counts(lake) == embedded_counts
    assert rows(lake, "SELECT count(DISTINCT video_id), count(*) FROM videos") == [
        (len(SAMPLE_IDS) + 1, len(SAMPLE_IDS) + 1)
    ]
    assert search(lake, "memory safe") == search(settings, "memory safe")


def test_catalog_migrate_moves_a_home_into_the_lake_from_the_cli(settings: Settings, lake: Settings) -> None:
    import os
    import subprocess
    import sys

    build_sample_catalog(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUBESCRIBE_")}
    env |= {
        "TUBESCRIBE_HOME": str(lake.home),
        "TUBESCRIBE_CATALOG_URL": str(lake.catalog_url),
        "TUBESCRIBE_LAKE_DATA_URL": str(lake.lake_data_url),
    }
    cli = [sys.executable, "-c", "from tubescribe.cli.app import main; main()"]
    done = subprocess.run(
        [*cli, "catalog", "migrate", "--home", str(settings.home)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(SAMPLE_IDS) + 1} videos" in done.stdout
    assert rows(lake, "SELECT count(DISTINCT video_id), count(*) FROM videos") == [
        (len(SAMPLE_IDS) + 1, len(SAMPLE_IDS) + 1)
    ]
    # Without a lake to copy into it says so and exits 1, no traceback.
    refused = subprocess.run(
        [*cli, "catalog", "migrate"],
        env={**env, "TUBESCRIBE_CATALOG_URL": "", "TUBESCRIBE_LAKE_DATA_URL": ""},
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "TUBESCRIBE_CATALOG_URL" in refused.stderr and "Traceback" not in refused.stderr


def test_migrations_are_applied_once_on_the_lake(lake: Settings) -> None:
    with writer(lake) as con:
        assert apply_schema(con) == []  # the writer applied them all already
    with writer(lake) as con:
        assert apply_schema(con) == []
        recorded = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [f"schema/{name}" for _, name in recorded] == schema_files()


def test_maintenance_compacts_the_lake_and_keeps_its_rows(lake: Settings) -> None:
    store = Store(lake)
    for video_id in ("rust", "zig", "react"):
        stage(store, video_id)
        load_videos(lake, [video_id], TKEY, "k1")
    before = lake_counts(lake)
    done = maintain(lake, keep_days=0)
    assert done.backend == "ducklake"
    assert done.snapshots_after < done.snapshots_before
    assert lake_counts(lake) == before
    assert search(lake, "memory safe")


def test_maintenance_checkpoints_the_embedded_catalog(settings: Settings) -> None:
    stage(Store(settings), "rust")
    load_videos(settings, ["rust"], TKEY, "k1")
    assert maintain(settings).backend == "duckdb"
    assert rows(settings, "SELECT count(*) FROM videos") == [(1,)]


# -- data in S3 (moto on loopback) ----------------------------------------------------------------
SECRET_KEY = "lake-test-secret-3f9a1c"  # moto accepts any key; this one is distinctive enough to look for


@pytest.fixture
def s3_lake(lake: Settings, s3_service: S3Service, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    prefix = f"lake-{Path(lake.home).parent.name}"
    return replace(lake, lake_data_url=f"s3://{s3_service.bucket}/{prefix}/", s3_endpoint_url=s3_service.endpoint_url)


def test_a_lake_with_data_in_s3_loads_reloads_and_searches(
    s3_lake: Settings, s3_service: S3Service, postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg2

    store = Store(s3_lake)
    stage(store, "rust")
    stage(store, "zig")
    load_videos(s3_lake, ["rust", "zig"], TKEY, "k1")
    before = lake_counts(s3_lake)
    load_videos(s3_lake, ["rust", "zig"], TKEY, "k1")
    assert lake_counts(s3_lake) == before and before["videos"] == 2
    assert search(s3_lake, "memory safe")
    prefix = (s3_lake.lake_data_url or "").removeprefix(f"s3://{s3_service.bucket}/")
    listed = s3_service.client().list_objects_v2(Bucket=s3_service.bucket, Prefix=prefix)
    assert any(item["Key"].endswith(".parquet") for item in listed.get("Contents", []))
    # The key is in the writer's S3 secret (DuckDB redacts it even there), and in neither the lake's
    # metadata nor the logs.
    with writer(s3_lake) as duck:
        [(scope, shown)] = duck.execute(
            "SELECT scope, secret_string FROM duckdb_secrets() WHERE name = 'tubescribe_lake'"
        ).fetchall()
    assert scope == ["s3://", "s3n://", "s3a://"] and "testing" in shown and SECRET_KEY not in shown
    con = psycopg2.connect(postgres.dsn)
    with con.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        metadata = ""
        for (table,) in cur.fetchall():
            cur.execute(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{table}\" t")  # names from Postgres
            metadata += cur.fetchone()[0]
    con.close()
    assert s3_lake.lake_data_url in metadata  # the metadata was read: it names where the data lives
    assert SECRET_KEY not in metadata
    assert SECRET_KEY not in caplog.text


def test_an_empty_lake_reads_as_no_catalog_yet(lake: Settings) -> None:
    assert not catalog_exists(lake)
    with pytest.raises(CatalogError, match="empty; run `tubescribe ingest"):
        connect_read_only(lake)
    with writer(lake):
        pass
    assert catalog_exists(lake)
    assert rows(lake, "SELECT count(*) FROM videos") == [(0,)]


def test_exports_read_the_lake(lake: Settings, tmp_path: Path) -> None:
    import duckdb

    from tubescribe.catalog.export import export_pages, export_tables

    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    written = export_tables(lake, tmp_path / "tables", "parquet")
    # Every table, the empty ones too (nothing here was embedded or replaced a transcript).
    assert sorted(p.stem for p in written) == sorted([*TABLES, "stage_runs", "embeddings", "replaced_transcripts"])
    videos = duckdb.sql(f"SELECT video_id FROM '{tmp_path / 'tables' / 'videos.parquet'}'").fetchall()
    assert videos == [("rust",)]
    pages = export_pages(lake, tmp_path / "pages", subtitles="srt", markdown=True)
    assert pages and all(path.exists() for path in pages)


def test_every_named_query_runs_on_the_lake(lake: Settings) -> None:
    from test_catalog import SQL_PARAMS
    from tubescribe.catalog.sql import run_sql, sql_dir

    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    con = connect_read_only(lake)
    try:
        for path in sorted((sql_dir() / "queries").glob("*.sql")):
            name = f"queries/{path.stem}"
            params = dict(SQL_PARAMS.get(name, {}))
            params.update({key: "rust" for key in ("video_id",) if key in params})
            params.update({key: ["rust"] for key in ("video_ids",) if key in params})
            run_sql(con, name, params)
        assert run_sql(con, "queries/video", {"video_id": "rust"})
    finally:
        con.close()


def test_s3_data_without_keys_says_which_to_set(s3_lake: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CatalogError, match="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), writer(s3_lake):
        pass


def test_renaming_a_video_id_works_on_the_lake(lake: Settings) -> None:
    from tubescribe.catalog.sql import run_sql

    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    with writer(lake) as con, transaction(con):
        run_sql(con, "upgrade/rename_video_ids", {"old": "rust", "new": "generic-feed-rust"})
    assert rows(lake, "SELECT DISTINCT video_id FROM segments") == [("generic-feed-rust",)]
    assert rows(lake, "SELECT count(*) FROM videos WHERE video_id = 'rust'") == [(0,)]
