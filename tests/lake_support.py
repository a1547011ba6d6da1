"""What the DuckLake tests share (test_lake.py, test_lake_concurrency.py): a fresh lake on the loopback
Postgres, and reading it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from catalog_records import TABLES
from services_pg import Postgres
from tubescribe.catalog.connection import connect_read_only
from tubescribe.settings import Settings


@pytest.fixture
def lake(settings: Settings, postgres: Postgres, tmp_path: Path) -> Settings:
    """Settings for a fresh DuckLake catalog (its own home, so its artifacts are its own)."""
    return replace(
        settings,
        home=tmp_path / "lake-home",
        catalog_url=f"postgres:{postgres.dsn}",
        lake_data_url=str(tmp_path / "lake-data"),
    )


def rows(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = connect_read_only(settings)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def lake_counts(settings: Settings) -> dict[str, int]:
    return {table: rows(settings, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
