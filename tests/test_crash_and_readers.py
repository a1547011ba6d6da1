"""Resilience (issue 4): a load killed midway changes nothing, and readers never block a load."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from resilience_support import (  # noqa: F401  (pytest fixtures, used by name)
    Landed,
    counts,
    ids,
    landed,
    landed_copy,
    rust_only_catalog,
    server,
    site,
    video_state,
)
from tubescribe.pipeline import steps as pipeline
from tubescribe.settings import Settings


@pytest.fixture
def react_zig(landed: Landed) -> list[str]:
    """The ids of the two landed-run videos the rust-only catalog lacks: react (loadable) and zig (failed)."""
    return ids(landed.server.feed_url, "react", "zig")


# -- 7. a killed load changes nothing --------------------------------------------------------------
KILLABLE_LOAD = """
import pathlib, sys, time
from tubescribe.catalog import load
from tubescribe.pipeline import steps as pipeline
from tubescribe.settings import Settings

real = load.run_sql

def write_then_hang(con, name, params=None):
    rows = real(con, name, params)
    if name == "load/summaries":
        pathlib.Path(sys.argv[1]).touch()
        time.sleep(300)
    return rows

load.run_sql = write_then_hang
pipeline.load(Settings.load(), sys.argv[2:])
"""


@pytest.mark.slow
def test_a_load_killed_midway_leaves_the_catalog_as_before_and_a_rerun_completes_it(
    rust_only_catalog: Settings, react_zig: list[str], tmp_path: Path
) -> None:
    settings = rust_only_catalog
    before = counts(settings.catalog_path)
    assert before == counts(settings.writer_catalog_path) and before["main.videos"] == 1
    marker = tmp_path / "summaries-written"
    load = subprocess.Popen([sys.executable, "-c", KILLABLE_LOAD, str(marker), *react_zig])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and load.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        load.send_signal(signal.SIGKILL)
        load.wait(30)
    assert marker.exists(), "the load never reached its summaries"
    assert load.returncode == -signal.SIGKILL
    assert counts(settings.catalog_path) == before
    assert counts(settings.writer_catalog_path) == before

    react, zig = react_zig
    assert pipeline.load(settings, react_zig) == {"loaded": [react], "failed": [zig], "pending": []}
    assert counts(settings.catalog_path)["main.videos"] == 3
    assert video_state(settings)[react][0] == "loaded"


# -- 9. readers never block a load -----------------------------------------------------------------
HELD_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("SELECT count(*) FROM videos").fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""
NEW_READER = """
import sys, duckdb
print(duckdb.connect(sys.argv[1], read_only=True).execute("SELECT count(*) FROM videos").fetchone()[0])
"""


@pytest.fixture
def readers(rust_only_catalog: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, subprocess.Popen[str]]]:
    """The catalog held open by a connection in this process and by another process."""
    path = str(rust_only_catalog.catalog_path)
    here = duckdb.connect(path, read_only=True)
    there = subprocess.Popen(
        [sys.executable, "-c", HELD_READER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert there.stdout is not None and there.stdout.readline().strip() == "1"
        yield here, there
    finally:
        here.close()
        there.kill()
        there.wait(30)


def reader_count(reader: tuple[duckdb.DuckDBPyConnection, subprocess.Popen[str]]) -> tuple[int, int]:
    """Videos each held reader sees now (the other process answers once, then exits)."""
    here, there = reader
    out, _ = there.communicate("\n", timeout=30)
    return here.execute("SELECT count(*) FROM videos").fetchone()[0], int(out.strip())


@pytest.mark.slow
def test_a_load_succeeds_while_readers_hold_the_catalog_open(
    rust_only_catalog: Settings, readers: Any, react_zig: list[str]
) -> None:
    react, zig = react_zig
    assert pipeline.load(rust_only_catalog, react_zig) == {"loaded": [react], "failed": [zig], "pending": []}


@pytest.mark.slow
def test_readers_holding_the_catalog_keep_their_snapshot(
    rust_only_catalog: Settings, readers: Any, react_zig: list[str]
) -> None:
    pipeline.load(rust_only_catalog, react_zig)
    assert reader_count(readers) == (1, 1)


@pytest.mark.slow
def test_a_new_reader_process_sees_the_new_rows(
    rust_only_catalog: Settings, readers: Any, react_zig: list[str]
) -> None:
    pipeline.load(rust_only_catalog, react_zig)
    new = subprocess.run(
        [sys.executable, "-c", NEW_READER, str(rust_only_catalog.catalog_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert new.stdout.strip() == "3", new.stderr


@pytest.mark.slow
def test_a_new_reader_in_the_same_process_sees_the_new_rows(
    rust_only_catalog: Settings, readers: Any, react_zig: list[str]
) -> None:
    from tubescribe.catalog.connection import connect_read_only

    pipeline.load(rust_only_catalog, react_zig)
    with connect_read_only(rust_only_catalog) as con:
        assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == 3
