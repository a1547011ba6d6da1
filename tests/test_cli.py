"""The `tubescribe` command as a user runs it: a subprocess with its own $TUBESCRIBE_HOME."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cli_support import tubescribe as run_cli
from fake_openai import FakeOpenAI, completion
from tubescribe.contract import parse_summary
from tubescribe.sample import serve_sample_channel

EXAMPLES = json.loads((Path(__file__).resolve().parents[1] / "plugins/tubescribe/prompts/examples.json").read_text())


def tubescribe(home: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """cli_support's run of the command, with room for a whole ingest."""
    return run_cli(home, *args, env=env, stdin=stdin, timeout=600)


@pytest.mark.slow
def test_ingest_with_limit_lands_the_newest_video_and_reports_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serve_sample_channel(only=["zig", "rust", "react"]) as feed:
        done = tubescribe(home, "ingest", "--limit", "1", feed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ transcribe" in done.stdout and "react" in done.stdout
    # In a pipe the landed table is tab-separated, whole and uncoloured.
    assert "video\ttitle\tstatus\ttopics / error\n" in done.stdout and "1 landed, 0 failed" in done.stdout
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        [video_id] = con.execute("SELECT list(video_id) FROM videos").fetchone()[0]
    assert video_id.endswith("-react")  # a feed's guid, namespaced by the feed URL
    assert (home / "airflow" / "airflow.db").exists(), "Airflow's metadata should live in the home"


@pytest.mark.slow
def test_ingest_with_the_openai_backend_stores_the_models_answer_as_given(tmp_path: Path) -> None:
    answer = EXAMPLES[1]["summary"]
    with FakeOpenAI() as llm, serve_sample_channel(only=["rust"]) as feed:
        llm.script(completion(answer))
        done = tubescribe(
            tmp_path / "home",
            "ingest",
            "--summarizer",
            "openai",
            feed,
            env={"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test-cli-key-123"},
        )
        requests = llm.chat_requests()
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(requests) == 1
    response_format = requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["properties"].keys() == {
        "introduction",
        "sections",
        "topics",
        "generalTopics",
    }
    with duckdb.connect(str(tmp_path / "home" / "catalog.duckdb"), read_only=True) as con:
        stored, backend = con.execute("SELECT summary_json, backend FROM summaries").fetchone()
        complexities = con.execute("SELECT list(complexity ORDER BY idx) FROM general_topics").fetchone()[0]
    assert json.loads(stored) == answer and backend == "openai"
    assert [str(c) for c in complexities] == [str(g.complexity) for g in parse_summary(answer).generalTopics]
    leaked = [p for p in (tmp_path / "home").rglob("*") if p.is_file() and b"sk-test-cli-key-123" in p.read_bytes()]
    assert leaked == [] and "sk-test-cli-key-123" not in done.stdout + done.stderr


@pytest.mark.slow
def test_resummarize_adds_a_new_summary_without_downloading_and_views_show_the_newest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serve_sample_channel(only=["rust"]) as feed:
        assert tubescribe(home, "ingest", feed).returncode == 0
    media = {p: p.stat().st_mtime_ns for p in (home / "media").iterdir()}
    # The feed server is gone now: a download attempt would fail the run.
    with FakeOpenAI() as llm:
        llm.script(completion(EXAMPLES[0]["summary"]))
        done = tubescribe(
            home,
            "resummarize",
            "--summarizer",
            "openai",
            "--where",
            "video_id LIKE '%-rust'",
            env={"OPENAI_BASE_URL": llm.base_url},
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p: p.stat().st_mtime_ns for p in (home / "media").iterdir()} == media
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        backends = con.execute("SELECT list(backend ORDER BY created_at) FROM summaries").fetchone()[0]
        latest = con.execute("SELECT backend, introduction FROM latest_summaries").fetchall()
    assert backends == ["local", "openai"]
    assert latest == [("openai", EXAMPLES[0]["summary"]["introduction"])]


def test_resummarize_refuses_a_filter_that_smuggles_in_a_write(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    outside = tmp_path / "stolen.csv"
    done = tubescribe(tmp_path / "home", "resummarize", "--where", f"true); COPY videos TO '{outside}'; SELECT (1")
    assert done.returncode != 0
    assert not outside.exists()


def test_ingest_refuses_a_file_url_before_doing_anything(tmp_path: Path) -> None:
    done = tubescribe(tmp_path / "home", "ingest", "file:///etc/passwd")
    assert done.returncode != 0
    assert "not an http(s) URL" in done.stdout + done.stderr
    assert not (tmp_path / "home" / "catalog.duckdb").exists()


@pytest.mark.slow
def test_ingest_of_a_dead_url_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    with serve_sample_channel() as feed:
        dead = feed.replace("feed.xml", "gone.xml")
        done = tubescribe(tmp_path / "home", "ingest", dead)
    assert done.returncode != 0
    assert "404" in done.stdout + done.stderr


def test_schema_prints_the_contract(tmp_path: Path) -> None:
    done = tubescribe(tmp_path, "schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert schema["required"] == ["introduction", "sections", "topics", "generalTopics"]


def test_query_without_a_catalog_says_how_to_make_one(tmp_path: Path) -> None:
    done = tubescribe(tmp_path / "home", "query", "SELECT 1")
    assert done.returncode != 0
    assert "tubescribe ingest" in done.stderr


def _catalog_with_one_video(home: Path) -> None:
    from tubescribe.catalog.migrations import apply_schema

    home.mkdir(parents=True)
    with duckdb.connect(str(home / "catalog.duckdb")) as con:
        apply_schema(con)
        con.execute(
            "INSERT INTO videos (video_id, channel_id, title, url, duration_s, extractor, status, first_seen_at, "
            "updated_at) VALUES ('v1', 'c1', 'A video', 'http://x/v1', 60, 'generic', 'loaded', now(), now())"
        )


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_query_renders_each_format(tmp_path: Path, fmt: str) -> None:
    _catalog_with_one_video(tmp_path / "home")
    done = tubescribe(tmp_path / "home", "query", "--format", fmt, "SELECT video_id, title FROM videos")
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        assert json.loads(done.stdout) == [{"video_id": "v1", "title": "A video"}]
    elif fmt == "csv":
        assert done.stdout.splitlines()[:2] == ["video_id,title", "v1,A video"]
    else:
        assert "A video" in done.stdout


def test_query_reads_sql_from_stdin(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    done = tubescribe(tmp_path / "home", "query", "--format", "json", stdin="SELECT count(*) AS n FROM videos")
    assert json.loads(done.stdout) == [{"n": 1}]


def test_query_cannot_write_the_catalog(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    done = tubescribe(tmp_path / "home", "query", "DELETE FROM videos")
    assert done.returncode != 0
    assert "read-only" in done.stderr.lower()
    with duckdb.connect(str(tmp_path / "home" / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == 1


def test_show_an_unknown_video_says_how_to_list_them(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    done = tubescribe(tmp_path / "home", "show", "nope")
    assert done.returncode != 0
    assert "SELECT video_id, title FROM videos" in done.stderr


def test_channels_add_list_remove(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert tubescribe(home, "channels", "add", "https://example.com/feed.xml", "--max-videos", "5").returncode == 0
    listed = tubescribe(home, "channels", "list")
    assert "https://example.com/feed.xml" in listed.stdout
    assert tubescribe(home, "channels", "remove", "https://example.com/feed.xml").returncode == 0
    assert "example.com" not in tubescribe(home, "channels", "list").stdout


def test_channels_add_again_says_what_it_did(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = tubescribe(home, "channels", "add", "https://m.youtube.com/@fireship/videos/", "--max-videos", "5")
    assert added.returncode == 0 and added.stdout == "added https://www.youtube.com/@fireship\n"
    same = tubescribe(home, "channels", "add", "http://youtube.com/@fireship", "--max-videos", "5")
    assert same.stdout == "https://www.youtube.com/@fireship is already registered with these rules\n"
    updated = tubescribe(home, "channels", "add", "https://www.youtube.com/@fireship/", "--skip-shorts")
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == (
        "updated the rules of https://www.youtube.com/@fireship: max_videos 5 → none, skip_shorts false → true\n"
    )
    listed = tubescribe(home, "channels", "list").stdout
    assert listed == "url\tsince\tmax videos\trules\nhttps://www.youtube.com/@fireship\t\t\tskip_shorts=True\n"


def test_search_prints_the_same_hits_as_csv_and_json(tmp_path: Path) -> None:
    from sample_catalog import build_sample_catalog
    from tubescribe.settings import Settings

    home = tmp_path / "home"
    build_sample_catalog(Settings.load(home=home))
    as_json = tubescribe(home, "search", "--format", "json", "--limit", "3", "borrow checker")
    as_csv = tubescribe(home, "search", "--format", "csv", "--limit", "3", "borrow checker")
    assert as_json.returncode == 0 and as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    hits = json.loads(as_json.stdout)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert hits and len(rows) == len(hits) and "\r" not in as_csv.stdout
    assert list(rows[0]) == list(hits[0])  # a hit's fields, in order
    assert [(r["video_id"], r["link"], float(r["start_s"])) for r in rows] == [
        (h["video_id"], h["link"], h["start_s"]) for h in hits
    ]


# -- habits of a command-line tool (duckdb, sqlite-utils) ------------------------------------------------
ENTRY = Path(sys.executable).parent / "tubescribe"


def test_version() -> None:
    from importlib.metadata import version

    done = subprocess.run([str(ENTRY), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"tubescribe {version('tubescribe')}\n"


@pytest.mark.parametrize(
    "args, status, says",
    [
        (("query", "SELEC 1"), 1, 'syntax error at or near "SELEC"'),
        (("query", "SELECT * FROM nope"), 1, "Table with name nope does not exist"),
        (("show", "nope"), 1, "no video 'nope'"),
        (("channels", "remove", "https://example.com/x.xml"), 1, "is not registered"),
        (("query", "--format", "xml", "SELECT 1"), 2, "'xml' is not one of 'table', 'csv', 'json'"),
        (("resummarize", "--summarizer", "gpt"), 2, "'gpt' is not one of 'local', 'openai'"),
        (("channels", "add", "--since", "2024-13-01", "https://example.com/f.xml"), 2, "'2024-13-01' does not match"),
        (("search", "--since", "yesterday", "x"), 2, "'yesterday' does not match"),
        (("ingest", "--until", "2024-02-30", "https://example.com/f.xml"), 2, "'2024-02-30' does not match"),
        (("nope",), 2, "No such command 'nope'"),
    ],
)
def test_exit_status_and_errors_on_stderr(tmp_path: Path, args: tuple[str, ...], status: int, says: str) -> None:
    _catalog_with_one_video(tmp_path / "home")
    done = tubescribe(tmp_path / "home", *args)
    assert done.returncode == status, done.stderr
    assert says in done.stderr and done.stdout == ""
    assert "Traceback" not in done.stderr


def test_a_missing_catalog_is_a_runtime_error(tmp_path: Path) -> None:
    for args in (("query", "SELECT 1"), ("show", "v1"), ("search", "rust")):
        done = tubescribe(tmp_path / "home", *args)
        assert done.returncode == 1 and "no catalog at" in done.stderr and done.stdout == ""


def test_csv_rows_end_with_lf(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_", "OPENAI_"))}
    done = subprocess.run(
        [str(ENTRY), "query", "--format", "csv", "SELECT video_id, 'a,b' AS t FROM videos UNION ALL SELECT 'v2', NULL"],
        env={**environment, "TUBESCRIBE_HOME": str(tmp_path / "home")},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b'video_id,t\nv1,"a,b"\nv2,\n'


def test_a_table_off_a_terminal_is_tab_separated_whole_and_plain(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    long = "word " * 100
    done = tubescribe(tmp_path / "home", "query", f"SELECT '{long}' AS t, 1 AS n, NULL AS z, [1, 2] AS l")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"t\tn\tz\tl\n{long}\t1\t\t[1, 2]\n"
    assert "\x1b" not in done.stdout


def test_json_is_always_valid_and_one_rule(tmp_path: Path) -> None:
    _catalog_with_one_video(tmp_path / "home")
    sql = """SELECT INTERVAL 1 DAY + INTERVAL 2 HOUR AS i, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS u,
                    'ab'::BLOB AS b, 'nan'::DOUBLE AS n, '-inf'::DOUBLE AS inf, '{"a": [1, 2]}'::JSON AS j,
                    map(['k'], [1]) AS m, 1.25::DECIMAL(4, 2) AS d, DATE '2024-01-31' AS day, [1, 2] AS l,
                    {'x': 1} AS s, TIME '01:02:03' AS t"""
    done = tubescribe(tmp_path / "home", "query", "--format", "json", sql)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) == [
        {
            "i": "P1DT7200S",
            "u": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "b": {"$base64": True, "encoded": "YWI="},
            "n": None,
            "inf": None,
            "j": {"a": [1, 2]},
            "m": {"k": 1},
            "d": 1.25,
            "day": "2024-01-31",
            "l": [1, 2],
            "s": {"x": 1},
            "t": "01:02:03",
        }
    ]


def test_format_choices_are_in_the_help(tmp_path: Path) -> None:
    assert "--format <table|csv|json>" in tubescribe(tmp_path, "query", "--help").stdout
    assert "--format <table|csv|json>" in tubescribe(tmp_path, "search", "--help").stdout
    assert "<parquet|csv|jsonl>" in tubescribe(tmp_path, "export", "--help").stdout
    assert "--summarizer <local|openai>" in tubescribe(tmp_path, "ingest", "--help").stdout


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o default -F _tubescribe_completion tubescribe"),
                                           ("zsh", "compdef _tubescribe_completion tubescribe")])  # fmt: skip
def test_shell_completion_scripts_and_answers(shell: str, marker: str) -> None:
    # Typer detects the running shell; this switch (typer's own, for tests) lets the shell be named instead.
    environment = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = subprocess.run([str(ENTRY), "--show-completion", shell], env=environment, capture_output=True, text=True)
    assert script.returncode == 0 and marker in script.stdout
    # What the installed script asks the program, and what it answers: the --format choices.
    ask = {"bash": {"COMP_WORDS": "tubescribe query --format ", "COMP_CWORD": "3"},
           "zsh": {"_TYPER_COMPLETE_ARGS": "tubescribe query --format "}}[shell]  # fmt: skip
    answer = subprocess.run(
        [str(ENTRY)],
        env={**os.environ, **ask, "_TUBESCRIBE_COMPLETE": f"complete_{shell}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert all(choice in answer.stdout for choice in ("table", "csv", "json")), answer.stdout + answer.stderr
