"""DuckLake for deployments: attaching it (metadata in Postgres, data in S3 or a folder) and its S3 secret."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tubescribe.catalog.extensions import load_lake
from tubescribe.catalog.sql import CatalogError
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

EMPTY_LAKE = "the DuckLake catalog is empty; run `tubescribe ingest URL` or `tubescribe demo` first"


# -- backends --------------------------------------------------------------------------------------
def is_lake(settings: Settings) -> bool:
    """Whether the catalog is DuckLake (`TUBESCRIBE_CATALOG_URL` set) rather than the embedded file."""
    return bool(settings.catalog_url)


def sql_literal(value: object) -> str:
    # ATTACH and CREATE SECRET take no bound parameters; values are quoted as literals, quotes doubled.
    return str(value).replace("'", "''")


def lake_data_path(settings: Settings) -> str:
    """Where the lake's data files live, ending in '/' (DuckLake joins paths onto it)."""
    url = settings.lake_data_url or ""
    if "://" not in url:
        url = str(Path(url).expanduser().resolve())
    return url if url.endswith("/") else url + "/"


def _s3_secret(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    # The keys come from the environment at connect time and live only in this connection's memory:
    # a temporary secret, never persisted, never part of an error message.
    import duckdb

    key_id = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (key_id and secret):
        # DuckDB's credential chain (instance roles, ~/.aws) lives in its `aws` extension, which is not bundled.
        raise CatalogError(
            f"the lake's data is in S3 ({lake_data_path(settings)}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    options = ["TYPE s3", "URL_STYLE 'path'", f"KEY_ID '{sql_literal(key_id)}'", f"SECRET '{sql_literal(secret)}'"]
    if token := os.environ.get("AWS_SESSION_TOKEN"):
        options.append(f"SESSION_TOKEN '{sql_literal(token)}'")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    options.append(f"REGION '{sql_literal(region)}'")
    if settings.s3_endpoint_url:
        endpoint = urlsplit(settings.s3_endpoint_url)
        options.append(f"ENDPOINT '{sql_literal(endpoint.netloc or endpoint.path)}'")
        options.append(f"USE_SSL {'true' if endpoint.scheme == 'https' else 'false'}")
    try:
        con.execute(f"CREATE OR REPLACE TEMPORARY SECRET tubescribe_lake ({', '.join(options)})")
    except duckdb.Error:
        raise CatalogError(
            "could not set up S3 access for the lake; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
            "TUBESCRIBE_S3_ENDPOINT_URL"
        ) from None


def _current_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """The lake's newest snapshot id (raises the empty-lake error where there is none yet)."""
    url = settings.catalog_url or ""
    if not url.startswith("postgres:"):
        # Metadata in a local file: attach it once to ask (DuckLake creates nothing read-only).
        con.execute(f"ATTACH 'ducklake:{sql_literal(url)}' AS lake_now (READ_ONLY)")
        [(snapshot,)] = con.execute("SELECT id FROM lake_now.current_snapshot()").fetchall()
        con.execute("DETACH lake_now")
        return int(snapshot)
    # In Postgres, one query on DuckLake's own snapshot table (part of its published format) instead
    # of a second ATTACH, which reads the whole catalog's metadata (about 0.4 s of each reader's start).
    import psycopg2

    try:
        pg = psycopg2.connect(url.removeprefix("postgres:"), connect_timeout=30)
        with contextlib.closing(pg), pg.cursor() as cur:
            cur.execute("SELECT max(snapshot_id) FROM ducklake_snapshot")
            row = cur.fetchone()
    except psycopg2.errors.UndefinedTable:
        raise CatalogError(EMPTY_LAKE) from None
    except psycopg2.Error as exc:
        message = re.sub(r"password=\S+", "password=***", str(exc).strip().splitlines()[0])
        raise CatalogError(f"could not open the DuckLake catalog: {message}") from None
    if row is None or row[0] is None:
        raise CatalogError(EMPTY_LAKE)
    return int(row[0])


def attach_lake(con: duckdb.DuckDBPyConnection, settings: Settings, *, read_only: bool) -> None:
    import duckdb

    load_lake(con)
    data = lake_data_path(settings)
    if data.startswith("s3://"):
        _s3_secret(con, settings)
    source = f"ducklake:{sql_literal(settings.catalog_url)}"
    try:
        if read_only:
            # Pinned to the snapshot current now, so every query on this connection sees the same
            # catalog however many loads commit meanwhile (as a reader of the embedded file does).
            snapshot = _current_snapshot(con, settings)
            con.execute(f"ATTACH '{source}' AS catalog (READ_ONLY, SNAPSHOT_VERSION {snapshot})")
            # Readers may then lock external access off (sandbox.py): the lake's files stay readable.
            con.execute("SET allowed_directories = $dirs", {"dirs": [data]})
            # A lake's data files never change once written (a change writes new ones), so their
            # Parquet footers can be kept between statements instead of read again by each.
            con.execute("SET parquet_metadata_cache = true")
        else:
            con.execute(f"ATTACH '{source}' AS catalog (DATA_PATH '{sql_literal(data)}')")
        con.execute("USE catalog")
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if read_only and "creating a new DuckLake is explicitly disabled" in message:
            raise CatalogError(EMPTY_LAKE) from None
        # libpq connection strings may hold a password (PGPASSWORD is the way to pass it; this is in case).
        message = re.sub(r"password=\S+", "password=***", message)
        raise CatalogError(f"could not open the DuckLake catalog: {message}") from None


# Rows per Parquet row group, per table, where DuckDB's default (122,880) does not suit how it is read.
# A search reads the text of its ten best documents by doc_id; DuckDB skips the row groups whose
# doc_id range holds none of them, so small groups mean reading ten small groups rather than the
# whole table's text (about 400 ms at 10k videos on 2 cores; 2,048 is DuckDB's vector size).
ROW_GROUP_ROWS = {"search_docs": 2048}


def tune_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Set the lake's per-table options (persisted in its metadata) for the files written from now on."""
    for table, rows in ROW_GROUP_ROWS.items():
        con.execute(
            "CALL catalog.set_option('parquet_row_group_size', $rows, table_name => $table)",
            {"rows": rows, "table": table},
        )
