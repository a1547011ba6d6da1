"""The sandbox holds its bounds: questions only (no CALL, PRAGMA, CHECKPOINT, logging), one-expression
`--where` filters, and results streamed so memory stays bounded whatever the query returns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cli_support import CLI, cli_environment, tubescribe
from sample_catalog import sample  # noqa: F401  (pytest fixture, used by name)
from tubescribe.catalog.query import QueryError, run_query
from tubescribe.catalog.sandbox import NO_ACTIONS, SandboxError, check_filter, valid_filter
from tubescribe.settings import Settings

REPO = Path(__file__).resolve().parents[1]


# -- statements that act rather than ask ------------------------------------------------------------------
ACTING = {
    "call-logging": "CALL enable_logging(storage='file', storage_path='leak'); SELECT 1",
    "select-logging": "SELECT * FROM enable_logging(storage='file', storage_path='leak'); SELECT 1",
    "quoted-logging": """SELECT * FROM "Enable_Logging"(storage='file', storage_path='leak'); SELECT 1""",
    "nested-logging": "SELECT 1 WHERE 1 IN (SELECT 1 FROM (FROM enable_logging(storage='file', storage_path='leak')))",
    "checkpoint": "CHECKPOINT",
    "checkpoint-function": "SELECT * FROM checkpoint()",
    "pragma-profiling": "PRAGMA enable_profiling",
    "profiling-function": "FROM enable_profiling()",
    "explain-analyze-create": "EXPLAIN ANALYZE CREATE TEMP TABLE x AS SELECT 1",
    "explain-create": "EXPLAIN CREATE TEMP TABLE x AS SELECT 1",
    "create-temp": "CREATE TEMP TABLE x AS SELECT 1",
    "query-string": "SELECT * FROM query('CALL enable_logging(storage=''file'', storage_path=''leak'')')",
    "call-version": "CALL pragma_version()",
}


@pytest.mark.parametrize("name", ACTING)
def test_statements_that_act_are_refused(sample: Settings, name: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        run_query(sample, ACTING[name])


def test_questions_in_every_form_still_work(sample: Settings) -> None:
    assert run_query(sample, "EXPLAIN ANALYZE SELECT count(*) FROM videos")[1]
    assert run_query(sample, "explain (format json) select 1")[1]
    assert ("videos",) in run_query(sample, "PRAGMA show_tables")[1]
    assert run_query(sample, "SELECT name FROM pragma_table_info('videos') LIMIT 1")[1] == [("video_id",)]
    assert run_query(sample, "SELECT 'checkpoint()' AS t, 'query' AS query")[1] == [("checkpoint()", "query")]


def test_enable_logging_through_the_cli_is_an_error_not_an_abort(sample: Settings, tmp_path: Path) -> None:
    done = tubescribe(sample.home, "query", ACTING["call-logging"], cwd=tmp_path)
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "CALL refused" in done.stderr and NO_ACTIONS.split(":")[0] in done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []
    done = tubescribe(sample.home, "query", ACTING["select-logging"], cwd=tmp_path)
    assert done.returncode == 1 and "enable_logging() refused" in done.stderr


# -- --where filters ---------------------------------------------------------------------------------------
INJECTIONS = [
    "video_id='x'); SELECT 'zzz' AS video_id --",
    "1=0) UNION SELECT 'zzz' --",
    "1=0) UNION SELECT 'zzz' AS video_id FROM (SELECT 1",
    "video_id = 'x', 1",
    "",
    "true); CALL enable_logging(storage='file', storage_path='leak'); SELECT (1",
    "video_id IN (SELECT * FROM enable_logging(storage='file', storage_path='leak'))",
]


@pytest.mark.parametrize("where", INJECTIONS)
def test_a_filter_that_is_not_one_expression_is_refused(where: str) -> None:
    with duckdb.connect() as con, pytest.raises(SandboxError, match=r"--where|refused"):
        check_filter(con, where)


def test_injections_that_parse_are_defused() -> None:
    # A trailing comment is legal SQL; DuckDB's rendering drops it, so the query's ORDER BY survives.
    assert valid_filter("true --") == "CAST('t' AS BOOLEAN)"
    assert valid_filter("video_id = 'a' /* ORDER BY */") == "(video_id = 'a')"


def test_plain_filters_pass_and_select_what_they_say(sample: Settings) -> None:
    where = "channel = 'Fireship' AND list_contains(topics, 'TypeScript') OR video_id LIKE 'r%'"
    sql = "SELECT video_id FROM video_overview WHERE status = 'loaded' AND ({}) ORDER BY video_id"
    chosen = run_query(sample, sql.format(valid_filter(where)))[1]
    assert chosen == run_query(sample, sql.format(where))[1] == [("react",), ("rust",), ("zQnBQ4tB3ZA",)]
    assert valid_filter("video_id IN (SELECT video_id FROM videos)")


def test_resummarize_refuses_an_injection_before_starting_a_run(sample: Settings) -> None:
    for where in INJECTIONS[:2]:
        done = tubescribe(sample.home, "resummarize", "--where", where)
        assert done.returncode == 1, done.stderr
        assert "--where must be one SQL expression" in done.stderr and "Traceback" not in done.stderr
        assert "re-summarizing" not in done.stdout


@pytest.mark.parametrize("where", INJECTIONS[:2])
def test_the_resummarize_dag_selects_through_the_same_filter_rule(sample: Settings, where: str) -> None:
    # The DAG's own select task, not only the CLI in front of it: an API-triggered run gets the same rule.
    from tubescribe.pipeline import steps as pipeline

    with pytest.raises(SandboxError, match="--where"):
        pipeline.select_loaded(sample, where)
    assert pipeline.select_loaded(sample, "video_id = 'rust'") == [["rust"]]


# -- memory: rows are streamed, not collected -----------------------------------------------------------
# 250,000 rows of ~1 KB: collected as Python tuples they cost ~300 MB on top of the ~100 MB the process
# needs (measured: 480 MB for CSV, 1.2 GB for JSON before streaming); streamed, ~170 MB.
WIDE = "SELECT range AS a, repeat('x', 1000) || range AS b FROM range(250000)"
RSS_BOUND_MB = 300


def max_rss_mb(home: Path, *args: str) -> tuple[int, str]:
    """Run the CLI under a small parent that reports the child's peak RSS (MB) and its stderr."""
    parent = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
        "assert done.returncode == 0, done.stderr\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
        "print(done.stderr, end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", parent, *CLI, *args],
        env=cli_environment(home),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=True,
    )
    peak, _, stderr = done.stdout.partition("\n")
    return int(peak), stderr


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_large_result_streams_in_bounded_memory(sample: Settings, fmt: str) -> None:
    peak, _ = max_rss_mb(sample.home, "query", "--format", fmt, WIDE)
    assert peak < RSS_BOUND_MB, f"{fmt}: {peak} MB"


def test_the_table_form_stops_at_a_cap_and_says_so(sample: Settings) -> None:
    peak, stderr = max_rss_mb(sample.home, "query", WIDE)
    assert peak < RSS_BOUND_MB
    assert "showing the first 10,000 rows; use --format csv or json" in stderr


def test_streamed_csv_and_json_are_complete(sample: Settings, tmp_path: Path) -> None:
    import json

    sql = "SELECT range AS n FROM range(5000)"
    done = tubescribe(sample.home, "query", "--format", "csv", sql)
    assert done.stdout.split("\n") == ["n", *map(str, range(5000)), ""]
    rows = json.loads(tubescribe(sample.home, "query", "--format", "json", sql).stdout)
    assert rows == [{"n": i} for i in range(5000)]
    assert json.loads(tubescribe(sample.home, "query", "--format", "json", "SELECT 1 AS x WHERE false").stdout) == []
