"""`tubescribe query`: a sandbox that answers questions and refuses everything else, changing nothing."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cli_support import tubescribe
from sample_catalog import sample  # noqa: F401  (pytest fixture, used by name)
from tubescribe.catalog.connection import writer
from tubescribe.catalog.query import QueryError, run_query
from tubescribe.catalog.sandbox import NO_ATTACH, NO_EXTENSIONS, NO_FILES, NO_SETTINGS, READ_ONLY, explain, sandboxed
from tubescribe.settings import Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder a refused statement might try to write into; it must stay empty."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


def fingerprint(settings: Settings) -> dict[str, object]:
    """Row count and checksum of every table, the catalog file's hash, and the files in the home."""
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        listed = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        tables = [t for (t,) in listed]
        sums = {
            t: con.execute(
                "SELECT count(*), md5(coalesce(string_agg(CAST(x AS VARCHAR), '|' ORDER BY CAST(x AS VARCHAR)), '')) "
                "FROM query_table($t) x",
                {"t": t},
            ).fetchone()
            for t in tables
        }
    files = sorted(str(p.relative_to(settings.home)) for p in settings.home.rglob("*") if p.is_file())
    return {"tables": sums, "file": hashlib.sha256(settings.catalog_path.read_bytes()).hexdigest(), "home": files}


# What a user might try, what the refusal must say, in both layers.
HARMFUL = {
    "insert": ("INSERT INTO channels SELECT * FROM channels", READ_ONLY),
    "update": ("UPDATE videos SET title = 'pwned'", READ_ONLY),
    "delete": ("DELETE FROM segments", READ_ONLY),
    "drop": ("DROP TABLE videos", READ_ONLY),
    "create": ("CREATE TABLE notes AS SELECT 1 AS x", READ_ONLY),
    "alter": ("ALTER TABLE videos ADD COLUMN pwned INTEGER", READ_ONLY),
    "second-statement": ("SELECT 1; DELETE FROM videos", READ_ONLY),
    "copy-to": ("COPY videos TO '{outside}/leak.csv'", NO_FILES),
    "copy-query-to": ("COPY (SELECT * FROM transcripts) TO '{outside}/leak.parquet' (FORMAT parquet)", NO_FILES),
    "export-database": ("EXPORT DATABASE '{outside}/dump'", NO_FILES),
    "attach": ("ATTACH '{outside}/other.duckdb' AS other", NO_ATTACH),
    "read-csv": ("SELECT * FROM read_csv('/etc/passwd')", NO_FILES),
    "read-text": ("SELECT * FROM read_text('/etc/hostname')", NO_FILES),
    "glob": ("SELECT * FROM glob('/etc/*')", NO_FILES),
    "set": ("SET memory_limit = '100GB'", NO_SETTINGS),
    "set-external-access": ("SET enable_external_access = true", NO_SETTINGS),
    "reset": ("RESET lock_configuration", NO_SETTINGS),
    "pragma-set": ("PRAGMA threads = 1", NO_SETTINGS),
    "install": ("INSTALL httpfs", NO_EXTENSIONS),
    "load": ("LOAD httpfs", NO_EXTENSIONS),
    "load-path": ("LOAD '{outside}/evil.duckdb_extension'", NO_EXTENSIONS),
}


def _sql(template: str, outside: Path) -> str:
    return template.format(outside=outside)


@pytest.mark.parametrize("name", HARMFUL)
def test_harmful_statement_is_refused_and_changes_nothing(sample: Settings, outside: Path, name: str) -> None:
    sql, message = HARMFUL[name]
    before = fingerprint(sample)
    with pytest.raises(QueryError) as refused:
        run_query(sample, _sql(sql, outside))
    assert message.split(":")[0] in str(refused.value)
    assert fingerprint(sample) == before
    assert list(outside.iterdir()) == []


# DuckDB's own configuration is the real guard: with our statement check out of the way it still refuses.
DUCKDB_REFUSES = ["insert", "update", "drop", "copy-to", "export-database", "attach", "read-csv", "glob", "set",
                  "set-external-access", "reset", "install", "load", "load-path"]  # fmt: skip


@pytest.mark.parametrize("name", DUCKDB_REFUSES)
def test_duckdb_itself_refuses_without_our_statement_check(sample: Settings, outside: Path, name: str) -> None:
    sql, message = HARMFUL[name]
    # DuckDB cannot tell an ATTACH from other file access; its refusal reads as the files one.
    message = NO_FILES if name == "attach" else message
    before = fingerprint(sample)
    with sandboxed(sample) as con, pytest.raises(duckdb.Error) as refused:
        con.execute(_sql(sql, outside)).fetchall()
    assert explain(refused.value).startswith(message)
    assert fingerprint(sample) == before
    assert list(outside.iterdir()) == []


def test_sandbox_settings_are_in_force(sample: Settings) -> None:
    _, rows = run_query(
        sample,
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration', "
        "'autoinstall_known_extensions', 'autoload_known_extensions', 'memory_limit') ORDER BY name",
        memory_limit="512MB",
    )
    settings = dict(rows)
    assert settings["enable_external_access"] == "false"
    assert settings["lock_configuration"] == "true"
    assert settings["autoinstall_known_extensions"] == settings["autoload_known_extensions"] == "false"
    assert settings["memory_limit"].startswith("488.2")  # 512 MB in MiB


def test_a_long_query_is_interrupted_at_the_timeout(sample: Settings) -> None:
    started = time.monotonic()
    with pytest.raises(QueryError, match=r"stopped after 0\.5 s; .*--timeout"):
        run_query(sample, "SELECT count(*) FROM range(100000000000) a", timeout_s=0.5)
    assert time.monotonic() - started < 10


def test_a_bad_memory_limit_says_what_to_use(sample: Settings) -> None:
    with pytest.raises(QueryError, match=r"--memory-limit 'lots'.*like 2GB"):
        run_query(sample, "SELECT 1", memory_limit="lots")


def test_select_show_describe_explain_and_search_functions_are_allowed(sample: Settings) -> None:
    assert run_query(sample, "SELECT count(*) FROM videos")[1] == [(6,)]
    assert ("video_overview",) in run_query(sample, "SHOW TABLES")[1]
    assert run_query(sample, "DESCRIBE videos")[1][0][0] == "video_id"
    assert run_query(sample, "EXPLAIN SELECT 1")[1]
    hits = run_query(
        sample,
        "SELECT video_id FROM search_scores('allocators') JOIN search_docs USING (doc_id) ORDER BY score DESC LIMIT 1",
    )[1]
    assert hits == [("zig",)]


def test_pivot_with_listed_values_works_and_without_says_how(sample: Settings) -> None:
    assert run_query(sample, "PIVOT (SELECT status FROM videos) ON status IN ('loaded', 'failed') USING count(*)")[
        1
    ] == [(5, 1)]
    with pytest.raises(QueryError, match="PIVOT needs its values listed"):
        run_query(sample, "PIVOT videos ON status USING count(*)")


def test_sql_errors_come_back_as_one_clear_line(sample: Settings) -> None:
    with pytest.raises(QueryError, match=r"^Catalog Error: Table with name nope does not exist!$"):
        run_query(sample, "SELECT * FROM nope")


def test_empty_sql_says_what_to_give(sample: Settings) -> None:
    with pytest.raises(QueryError, match="no SQL to run"):
        run_query(sample, "-- just a comment")


def test_query_needs_a_catalog(settings: Settings) -> None:
    with pytest.raises(QueryError, match=r"no catalog at .*tubescribe ingest"):
        run_query(settings, "SELECT 1")


def test_query_works_on_an_empty_catalog(settings: Settings) -> None:
    with writer(settings):
        pass
    assert run_query(settings, "SELECT count(*) FROM video_overview")[1] == [(0,)]


# -- the command ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_home(sample: Settings) -> Iterator[Path]:
    yield sample.home


def test_cli_json_output(cli_home: Path) -> None:
    done = tubescribe(cli_home, "query", "--format", "json", "SELECT video_id, topics FROM video_overview ORDER BY 1")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["video_id"] for r in rows][:2] == ["broken", "localized_deployment"]
    assert isinstance(rows[1]["topics"], list)


def test_cli_csv_output_from_stdin(cli_home: Path) -> None:
    done = tubescribe(cli_home, "query", "--format", "csv", stdin="SELECT video_id, status FROM videos ORDER BY 1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["video_id,status", "broken,failed"]


def test_cli_refusal_is_a_clear_error_and_exit_code_1(cli_home: Path, tmp_path: Path) -> None:
    done = tubescribe(cli_home, "query", f"COPY videos TO '{tmp_path}/x.csv'")
    assert done.returncode == 1 and done.stdout == ""
    assert "COPY refused" in done.stderr and "tubescribe export" in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_timeout_option(cli_home: Path) -> None:
    done = tubescribe(cli_home, "query", "--timeout", "0.3", "SELECT count(*) FROM range(100000000000)")
    assert done.returncode == 1 and "stopped after 0.3 s" in done.stderr


def test_cli_missing_file_says_so(cli_home: Path, tmp_path: Path) -> None:
    done = tubescribe(cli_home, "query", "--file", str(tmp_path / "nope.sql"))
    assert done.returncode == 2 and "cannot read" in done.stderr  # a usage error
    assert "Traceback" not in done.stderr
