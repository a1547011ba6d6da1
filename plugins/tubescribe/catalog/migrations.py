"""Versioned migrations: `sql/schema/<version>_<name>.sql`, applied once each, in order, recorded in the catalog."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tubescribe.catalog.extensions import load_fts
from tubescribe.catalog.sql import CatalogError, read_statements, run_sql, sql_dir, transaction

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)
# Migrations up to this version were applied by re-running every schema file on each open, before
# schema_migrations existed; they stay idempotent so that such catalogs upgrade by applying them once.
BASELINE_VERSION = 100
# A statement that only (re)defines a view or macro: its migration may be edited and is re-applied then.
_REDEFINES = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(VIEW|MACRO|FUNCTION)\b", re.I)


def schema_files() -> list[str]:
    """Names of the migration files (`sql/schema/<version>_<name>.sql`), in the order they are applied."""
    return sorted(f"schema/{p.stem}" for p in (sql_dir() / "schema").glob("*.sql"))


def _version(name: str) -> int:
    return int(name.removeprefix("schema/").split("_", 1)[0])


def _checksum(name: str) -> str:
    return hashlib.sha256("\n".join(read_statements(name)).encode()).hexdigest()[:16]


def _redefinitions_only(name: str) -> bool:
    return all(_REDEFINES.match(statement) for statement in read_statements(name))


def apply_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this catalog has not had yet, in order, and record them; return their names.

    Each migration runs once. One already applied whose file changed is applied again only if it
    just (re)defines views and macros; any other change must come as a new migration.
    """
    load_fts(con)  # the search macros call fts's `stem`, and DuckDB binds a macro when it is created
    exists = has_schema(con)
    applied = dict(run_sql(con, "migrations/applied")) if exists else {}
    due = []
    redefining = False
    for name in schema_files():
        recorded = applied.get(_version(name))
        if recorded is None:
            due.append(name)
        elif recorded != _checksum(name) or (redefining and _redefinitions_only(name)):
            if not _redefinitions_only(name):
                raise CatalogError(
                    f"sql/{name}.sql changed after this catalog applied it; put the change in a new migration"
                )
            # Later migrations may redefine the same views (100 redefines 002's video_tags), so they
            # are applied again too, and the last definition stays the one in force.
            redefining = True
            due.append(name)
    if not due:
        return []
    with transaction(con):
        if not exists:
            run_sql(con, "migrations/create")
        for name in due:
            run_sql(con, name)
            params = {"version": _version(name), "name": name.removeprefix("schema/"), "checksum": _checksum(name)}
            run_sql(con, "migrations/record", {**params, "now": datetime.now(UTC)})
    log.info("catalog migrated: %s", ", ".join(due))
    return due


def has_schema(con: duckdb.DuckDBPyConnection) -> bool:
    [(found,)] = con.execute(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchall()
    return bool(found)
