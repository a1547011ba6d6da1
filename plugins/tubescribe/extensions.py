"""DuckDB extensions, loaded offline from the pinned PyPI packages: never downloaded at run time.

DuckDB would otherwise fetch `fts` from extensions.duckdb.org the first time a search function is
used. tubescribe pins `duckdb-extension-fts` to the exact DuckDB version, and the wheel carries the
signed binary, so every connection that needs it turns auto-install/auto-load off and LOADs that
file by path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


class ExtensionError(RuntimeError):
    """A bundled DuckDB extension is missing or does not match the installed DuckDB."""


def no_downloads(con: duckdb.DuckDBPyConnection) -> None:
    """Stop this connection from installing or auto-loading extensions on its own."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")


def fts_path() -> Path:
    """The fts extension file shipped by the `duckdb-extension-fts` wheel for this DuckDB version."""
    import duckdb

    spec = importlib.util.find_spec("duckdb_extension_fts")
    version = duckdb.__version__
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"the fts extension is not installed; run `pip install duckdb-extension-fts=={version}`")
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{version}" / "fts.duckdb_extension"
    if not path.is_file():
        raise ExtensionError(
            f"no fts extension for DuckDB {version} at {path}; run `pip install duckdb-extension-fts=={version}`"
        )
    return path


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD the bundled fts extension into `con` (must run before external access is turned off)."""
    import duckdb

    no_downloads(con)
    path = fts_path()
    try:
        # LOAD takes no bound parameters; the path is ours (the wheel's folder), quoted as a literal.
        con.execute("LOAD '" + str(path).replace("'", "''") + "'")
    except duckdb.Error as exc:
        raise ExtensionError(f"could not load the fts extension from {path}: {str(exc).splitlines()[0]}") from None
