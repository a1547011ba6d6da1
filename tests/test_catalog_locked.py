"""Someone holding the published catalog open for writing is named as the cause, at once, not after retries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sample_catalog import build_sample_catalog
from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.sql import CatalogLockedError
from tubescribe.errors import Kind
from tubescribe.pipeline import steps as pipeline
from tubescribe.pipeline.upgrade import UPGRADED_MARKER
from tubescribe.settings import Settings
from tubescribe.store import Store

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])  # read-write: DuckDB locks every other process out of the file
print("held", flush=True)
time.sleep(600)
"""


def test_a_writable_connection_held_elsewhere_is_named_and_not_retried(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "home")
    build_sample_catalog(settings)
    # A home already on today's ids (else the first discover's upgrade would publish a fresh copy first).
    Store(settings).blobs.write(UPGRADED_MARKER, b"ok\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.catalog_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(CatalogLockedError, match="held open for writing by another process") as caught:
            connect_read_only(settings)
        assert caught.value.kind is Kind.PERMANENT  # a retry would meet the same lock
        assert "PID" in str(caught.value) or "pid" in str(caught.value)
        # What an ingest meets first: the listing's check of what is already settled.
        with pytest.raises(CatalogLockedError):
            pipeline.discover(settings, ["http://127.0.0.1:1/feed.xml"])
    finally:
        holder.kill()
        holder.wait(10)
    connect_read_only(settings).close()  # and it opens again once the holder is gone
