"""Catalog upkeep and moves: compacting a DuckLake catalog, and copying an embedded catalog into one.

A DuckLake catalog gains a snapshot and small data files with every load; `maintain` merges adjacent
files, expires snapshots older than `keep_days` (readers pinned to an older snapshot must reconnect)
and deletes the files no snapshot needs any more. On the embedded DuckDB file it checkpoints (the
writer publishes the result as every write does). Both run as the one catalog writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tubescribe.catalog.connection import retry_conflicts, writer
from tubescribe.catalog.lake import is_lake
from tubescribe.catalog.sql import CatalogError, run_sql, transaction
from tubescribe.settings import Settings

log = logging.getLogger(__name__)
KEEP_DAYS = 7  # a week of snapshots: time travel and slow readers, against metadata and files kept


@dataclass(frozen=True)
class Maintained:
    """What one `maintain` run did."""

    backend: str  # 'ducklake' or 'duckdb'
    snapshots_before: int
    snapshots_after: int


def maintain(settings: Settings, keep_days: int = KEEP_DAYS) -> Maintained:
    """Compact the catalog: on DuckLake merge files, expire old snapshots and delete unused files; else CHECKPOINT."""
    if not is_lake(settings):
        with writer(settings) as con:
            con.execute("CHECKPOINT catalog")
        return Maintained("duckdb", 0, 0)

    def run() -> Maintained:
        with writer(settings) as con:
            [(before,)] = run_sql(con, "maintenance/snapshots")
            older_than = datetime.now(UTC) - timedelta(days=keep_days)
            run_sql(con, "maintenance/lake", {"older_than": older_than})
            [(after,)] = run_sql(con, "maintenance/snapshots")
        log.info("lake maintained: %d snapshots -> %d", before, after)
        return Maintained("ducklake", before, after)

    return retry_conflicts(run)


def migrate_to_lake(settings_from: Settings, settings_to: Settings) -> dict[str, int]:
    """Copy an embedded catalog into a DuckLake catalog (replacing what it holds); return rows per table.

    For `tubescribe catalog migrate`. Both catalogs are first brought to the current migrations, so
    the tables match by name; the copy is one transaction, so the lake holds all of it or none.
    """
    if is_lake(settings_from) or not is_lake(settings_to):
        raise CatalogError("migrate_to_lake copies an embedded catalog into DuckLake (set TUBESCRIBE_CATALOG_URL)")
    if not settings_from.catalog_path.exists():
        raise CatalogError(f"no catalog at {settings_from.catalog_path} to copy")
    with writer(settings_from):
        pass  # the embedded catalog upgraded in place and published
    copied: dict[str, int] = {}
    with writer(settings_to) as con:
        # ATTACH takes no bound parameters; the path is ours (the home), quotes doubled.
        source = str(settings_from.catalog_path).replace("'", "''")
        con.execute(f"ATTACH '{source}' AS embedded (READ_ONLY)")
        tables = [table for (table,) in run_sql(con, "maintenance/copied_tables")]
        with transaction(con):
            for table in tables:
                # Table names come from our own catalog's listing, never from input; quoted all the same.
                name = '"' + table.replace('"', '""') + '"'
                con.execute(f"DELETE FROM catalog.main.{name}")
                con.execute(f"INSERT INTO catalog.main.{name} BY NAME SELECT * FROM embedded.main.{name}")
                [(rows,)] = con.execute(f"SELECT count(*) FROM catalog.main.{name}").fetchall()
                copied[table] = int(rows)
        con.execute("DETACH embedded")
    return copied
