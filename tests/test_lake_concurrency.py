"""A DuckLake catalog shared by many processes: readers pinned to a snapshot, writers serialised by
Postgres advisory locks (the catalog's and the channel registry's), concurrent loads without duplicates,
and a real transaction conflict retried."""

from __future__ import annotations

import subprocess
import threading

import pytest

from catalog_records import TKEY, stage
from cli_support import CLI, cli_environment
from lake_support import lake, rows  # noqa: F401  (lake: a fixture)
from services_pg import Postgres, postgres, postgres_server  # noqa: F401  (fixtures)
from tubescribe.catalog.connection import connect_read_only, exclusive, retry_conflicts, writer
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.sql import CatalogError, TransactionConflict, transaction
from tubescribe.settings import Settings
from tubescribe.stages.channels import load_channels
from tubescribe.store import Store

pytestmark = pytest.mark.slow


def test_a_reader_keeps_its_snapshot_through_a_load(lake: Settings) -> None:
    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    reader = connect_read_only(lake)
    try:
        assert reader.execute("SELECT count(*) FROM videos").fetchall() == [(1,)]
        stage(Store(lake), "zig")
        load_videos(lake, ["zig"], TKEY, "k1")
        assert reader.execute("SELECT count(*) FROM videos").fetchall() == [(1,)]
        assert reader.execute("SELECT count(*) FROM segments").fetchall() == [(2,)]
    finally:
        reader.close()
    assert rows(lake, "SELECT count(*) FROM videos") == [(2,)]


def test_a_lake_reader_cannot_write(lake: Settings) -> None:
    stage(Store(lake), "rust")
    load_videos(lake, ["rust"], TKEY, "k1")
    reader = connect_read_only(lake)
    try:
        with pytest.raises(Exception, match=r"read-only|read only"):
            reader.execute("DELETE FROM videos")
    finally:
        reader.close()
    assert rows(lake, "SELECT count(*) FROM videos") == [(1,)]


def test_a_second_lake_writer_waits_for_the_advisory_lock(lake: Settings) -> None:
    with writer(lake):
        held = threading.Event()
        inside = threading.Event()
        errors: list[BaseException] = []

        def second() -> None:
            held.set()
            try:
                with writer(lake, lock_timeout_s=30):
                    inside.set()
            except BaseException as exc:  # reported to the test below
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        held.wait()
        assert not inside.wait(0.8), "the second writer got in while the first held the lock"
        with pytest.raises(CatalogError, match="catalog lock"), writer(lake, lock_timeout_s=0.3):
            pass
    thread.join(30)
    assert inside.is_set() and not errors


def test_channel_registry_edits_wait_for_the_channels_lock_across_processes(lake: Settings, postgres: Postgres) -> None:
    # The registry is read, changed and written whole; with a shared catalog, two machines editing it
    # at once would lose one edit, so `channels add` takes a Postgres advisory lock of its own.
    env = {"TUBESCRIBE_CATALOG_URL": f"postgres:{postgres.dsn}", "TUBESCRIBE_LAKE_DATA_URL": lake.lake_data_url or ""}
    url = "http://127.0.0.1:1/feed.xml"
    with exclusive(lake, "channels"):
        with writer(lake):  # the catalog's own lock is another one: it does not hold the registry up
            pass
        adding = subprocess.Popen(
            [*CLI, "channels", "add", url],
            env=cli_environment(lake.home, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert adding.stderr is not None
        said = adding.stderr.readline()  # it says so rather than hanging silently
        assert "waiting for another tubescribe process to release the channels lock" in said
        assert adding.poll() is None and load_channels(lake) == []
    out, _ = adding.communicate(timeout=60)
    assert adding.returncode == 0 and f"added {url}" in out
    assert [c.url for c in load_channels(lake)] == [url]


def test_two_concurrent_lake_loads_serialise_without_duplicates(lake: Settings) -> None:
    store = Store(lake)
    for video_id in ("rust", "zig", "react"):
        stage(store, video_id)
    errors: list[BaseException] = []

    def load(ids: list[str]) -> None:
        try:
            load_videos(lake, ids, TKEY, "k1")
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(ids,)) for ids in (["rust", "zig"], ["zig", "react"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert rows(lake, "SELECT video_id, count(*) FROM videos GROUP BY video_id ORDER BY video_id") == [
        ("react", 1),
        ("rust", 1),
        ("zig", 1),
    ]
    assert rows(lake, "SELECT video_id, count(*) FROM transcripts GROUP BY ALL HAVING count(*) > 1") == []
    assert rows(lake, "SELECT count(*) FROM segments") == [(6,)]


def test_a_lake_transaction_conflict_is_retried(lake: Settings) -> None:
    import duckdb

    from tubescribe.catalog import lake as catalog

    with writer(lake) as con:
        con.execute("INSERT INTO channels VALUES ('c', 'first', 'u', 'generic', now(), now())")
    # A second connection that ignores the writer lock (as a process without it would) commits a
    # change to the same rows while the first one's transaction is open: a real DuckLake conflict.
    rival = duckdb.connect()
    catalog.attach_lake(rival, lake, read_only=False)
    tries: list[int] = []

    def write() -> None:
        with writer(lake) as con, transaction(con):
            con.execute("UPDATE channels SET title = 'ours'")
            if not tries:
                rival.execute("UPDATE channels SET title = 'rival'")
            tries.append(1)

    try:
        with pytest.raises(TransactionConflict), writer(lake) as con, transaction(con):
            con.execute("UPDATE channels SET title = 'ours'")
            rival.execute("UPDATE channels SET title = 'rival'")
        assert rows(lake, "SELECT title FROM channels") == [("rival",)]  # the conflicting batch rolled back
        retry_conflicts(write)
    finally:
        rival.close()
    assert len(tries) == 2
    assert rows(lake, "SELECT title FROM channels") == [("ours",)]
