"""DuckDB extensions, loaded offline from the pinned PyPI packages: never downloaded at run time.

DuckDB would otherwise fetch an extension from extensions.duckdb.org the first time it is needed.
tubescribe pins `duckdb-extension-<name>` to the exact DuckDB version, and each wheel carries the
signed binary, so every connection that needs one turns auto-install/auto-load off and LOADs that
file by path: fts (its `stem`), and for a DuckLake catalog ducklake, postgres_scanner and httpfs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from tubescribe.errors import TubescribeError

if TYPE_CHECKING:
    import duckdb

# Extension name -> (the wheel's Python package, the PyPI package to install). `duckdb-extension-postgres`
# ships a binary that does not load; `duckdb-extension-postgres-scanner` is the one that does.
WHEELS = {
    "fts": ("duckdb_extension_fts", "duckdb-extension-fts"),
    "ducklake": ("duckdb_extension_ducklake", "duckdb-extension-ducklake"),
    "postgres_scanner": ("duckdb_extension_postgres_scanner", "duckdb-extension-postgres-scanner"),
    "httpfs": ("duckdb_extension_httpfs", "duckdb-extension-httpfs"),
}
LAKE_EXTENSIONS = ("ducklake", "postgres_scanner", "httpfs")


class ExtensionError(TubescribeError):
    """A bundled DuckDB extension is missing or does not match the installed DuckDB."""


def no_downloads(con: duckdb.DuckDBPyConnection) -> None:
    """Stop this connection from installing or auto-loading extensions on its own."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")


def extension_path(name: str) -> Path:
    """The extension file shipped by the `duckdb-extension-<name>` wheel for this DuckDB version."""
    import duckdb

    module, package = WHEELS[name]
    version = duckdb.__version__
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"the {name} extension is not installed; run `pip install {package}=={version}`")
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionError(
            f"no {name} extension for DuckDB {version} at {path}; run `pip install {package}=={version}`"
        )
    return path


def fts_path() -> Path:
    """The fts extension file shipped by the `duckdb-extension-fts` wheel for this DuckDB version."""
    return extension_path("fts")


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """LOAD a bundled extension into `con` (must run before external access is turned off)."""
    import duckdb

    no_downloads(con)
    path = extension_path(name)
    try:
        # LOAD takes no bound parameters; the path is ours (the wheel's folder), quoted as a literal.
        con.execute("LOAD '" + str(path).replace("'", "''") + "'")
    except duckdb.Error as exc:
        raise ExtensionError(f"could not load the {name} extension from {path}: {str(exc).splitlines()[0]}") from None


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD the bundled fts extension into `con` (must run before external access is turned off)."""
    load_extension(con, "fts")


def load_lake(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD what a DuckLake catalog needs: ducklake, postgres_scanner (metadata) and httpfs (S3 data)."""
    for name in LAKE_EXTENSIONS:
        load_extension(con, name)
