"""Running the SQL files in `sql/` by name, with bound parameters, and the catalog's errors and transactions.

The SQL ships inside the package (`tubescribe/catalog/sql`, linked from the checkout's top-level `sql/`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tubescribe.errors import Kind, TubescribeError

if TYPE_CHECKING:
    import duckdb

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class CatalogError(TubescribeError):
    """The catalog could not be opened or written; worth another try (a lock, a busy lake) unless a subclass says."""

    kind = Kind.TRANSIENT


class CatalogLockedError(CatalogError):
    """Another process holds the published catalog file open for writing, which DuckDB lets lock out every reader."""

    kind = Kind.PERMANENT


class TransactionConflict(CatalogError):
    """Another DuckLake writer committed a conflicting change first; the write can be retried."""


def sql_dir() -> Path:
    """The repository's `sql/` folder (override with TUBESCRIBE_SQL_DIR)."""
    override = os.environ.get("TUBESCRIBE_SQL_DIR")
    return Path(override) if override else Path(str(resources.files("tubescribe.catalog") / "sql"))


@functools.cache
def read_statements(name: str) -> tuple[str, ...]:
    return _statements((sql_dir() / f"{name}.sql").read_text(encoding="utf-8"))


def _statements(text: str) -> tuple[str, ...]:
    # Our SQL files never hold ';' inside literals, so a statement ends at a ';' closing a line.
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return tuple(s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip())


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run every statement of `sql/<name>.sql` with bound named parameters; return the last result's rows."""
    rows: list[tuple[Any, ...]] = []
    for statement in read_statements(name):
        wanted = set(_PARAM.findall(statement))
        bound = {key: value for key, value in (params or {}).items() if key in wanted}
        missing = wanted - bound.keys()
        if missing:
            raise CatalogError(f"sql/{name}.sql needs parameters: {', '.join(sorted(missing))}")
        result = con.execute(statement, bound) if bound else con.execute(statement)
        rows = result.fetchall() if result.description else []
    return rows


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit if the block succeeds, roll back otherwise."""
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        kind = TransactionConflict if "transaction conflict" in str(exc).lower() else CatalogError
        raise kind(f"catalog write rolled back: {exc}") from exc
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
        con.execute("ROLLBACK")
