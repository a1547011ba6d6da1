"""`tubescribe export`: tables round-trip through Parquet, CSV and JSONL; Markdown pages; SRT/VTT subtitles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cli_support import tubescribe
from sample_catalog import YOUTUBE_ID, build_sample_catalog
from tubescribe.catalog.connection import writer
from tubescribe.catalog.export import Cue, ExportError, export_pages, export_tables, srt, timestamp, vtt
from tubescribe.catalog.sql import run_sql
from tubescribe.records import Transcript
from tubescribe.settings import Settings

REPO = Path(__file__).resolve().parents[1]
EXPORT_SQL = sorted(p.stem for p in (REPO / "sql" / "export").glob("*.sql"))
TABLES = [
    "channels",
    "embeddings",
    "general_topics",
    "replaced_transcripts",
    "section_bullets",
    "section_topics",
    "segments",
    "stage_runs",
    "summaries",
    "summary_sections",
    "topic_tags",
    "transcripts",
    "videos",
]
EMPTY_IN_SAMPLE = {"replaced_transcripts"}  # no transcript of the sample catalog was ever replaced
SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n([^\n]+)\n")
VTT_CUE = re.compile(r"(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\n([^\n]+)\n")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Transcript]]:
    settings = Settings.load(home=tmp_path_factory.mktemp("export") / "home")
    return settings, build_sample_catalog(settings)


@pytest.fixture(scope="module")
def settings_(sample: tuple[Settings, dict[str, Transcript]]) -> Settings:
    return sample[0]


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    """Rows in a stable order, JSON columns parsed (JSONL writes them minified)."""
    types = [t for _, t, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    fetched = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    return [
        tuple(json.loads(v) if t == "JSON" and v is not None else v for v, t in zip(row, types, strict=True))
        for row in fetched
    ]


# -- tables --------------------------------------------------------------------------------------
READ_BACK = {
    "parquet": "(FORMAT parquet)",
    "csv": "(FORMAT csv, HEADER true, allow_quoted_nulls false)",
    "jsonl": "(FORMAT json)",
}


@pytest.mark.parametrize("fmt", sorted(READ_BACK))
def test_tables_round_trip(settings_: Settings, tmp_path: Path, fmt: str) -> None:
    written = export_tables(settings_, tmp_path, fmt)
    assert sorted(p.name for p in written) == [f"{t}.{fmt}" for t in TABLES]
    with duckdb.connect(str(settings_.catalog_path), read_only=True) as con:
        for table in TABLES:
            # Read back into an empty copy of the table, so the file's values meet the catalog's types.
            con.execute(f"CREATE TEMP TABLE back_{table} AS SELECT * FROM main.{table} LIMIT 0")
            con.execute(f"COPY back_{table} FROM '{tmp_path / f'{table}.{fmt}'}' {READ_BACK[fmt]}")
            original = table_rows(con, f"main.{table}")
            assert original or table in EMPTY_IN_SAMPLE, table
            assert table_rows(con, f"back_{table}") == original, table


def test_parquet_keeps_the_column_types(settings_: Settings, tmp_path: Path) -> None:
    export_tables(settings_, tmp_path, "parquet")
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM '{tmp_path / 'general_topics.parquet'}'").fetchall()
    assert ("complexity", "DECIMAL(3,2)") in [(name, kind) for name, kind, *_ in described]


def test_export_twice_replaces_the_files(settings_: Settings, tmp_path: Path) -> None:
    export_tables(settings_, tmp_path, "csv")
    first = (tmp_path / "videos.csv").read_text(encoding="utf-8")
    export_tables(settings_, tmp_path, "csv")
    assert (tmp_path / "videos.csv").read_text(encoding="utf-8") == first


def test_an_empty_catalog_exports_empty_tables(settings: Settings, tmp_path: Path) -> None:
    with writer(settings):
        pass
    export_tables(settings, tmp_path, "parquet")
    with duckdb.connect() as con:
        assert con.execute(f"SELECT count(*) FROM '{tmp_path / 'videos.parquet'}'").fetchall() == [(0,)]


def test_unknown_format_says_what_to_choose(settings_: Settings, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="parquet, csv, jsonl"):
        export_tables(settings_, tmp_path, "xlsx")


def test_export_needs_a_catalog(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no catalog"):
        export_tables(settings, tmp_path, "parquet")


@pytest.mark.parametrize("name", EXPORT_SQL)
def test_export_sql_runs_on_an_empty_catalog(settings: Settings, tmp_path: Path, name: str) -> None:
    with writer(settings):
        pass
    params = {"table": "videos", "path": str(tmp_path / "videos.out"), "video_id": "v1"}
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        result = run_sql(con, f"export/{name}", params)
    expected = [(t,) for t in TABLES] if name == "tables" else [(0,)] if name.startswith("table_") else []
    assert result == expected  # a COPY answers with the number of rows it wrote


# -- subtitles -----------------------------------------------------------------------------------
def test_timestamps() -> None:
    assert timestamp(0, ",") == "00:00:00,000"
    assert timestamp(3661.5, ",") == "01:01:01,500"
    assert timestamp(59.9996, ".") == "00:01:00.000"
    assert timestamp(-0.2, ".") == "00:00:00.000"


def test_srt_cues_are_well_formed_and_match_the_segments(
    sample: tuple[Settings, dict[str, Transcript]], tmp_path: Path
) -> None:
    settings, transcripts = sample
    [path] = export_pages(settings, tmp_path, ["rust"], subtitles="srt")
    text = path.read_text(encoding="utf-8")
    cues = SRT_CUE.findall(text)
    segments = transcripts["rust"].segments
    assert "".join(f"{n}\n{a} --> {b}\n{t}\n\n" for n, a, b, t in cues) == text  # nothing but cues
    assert [int(n) for n, *_ in cues] == list(range(1, len(segments) + 1))
    for (_, start, end, words), segment in zip(cues, segments, strict=True):
        assert abs(seconds(start) - segment.start_s) < 0.0005 and abs(seconds(end) - segment.end_s) < 0.0005
        assert words == segment.text


def test_vtt_cues_are_well_formed_and_match_the_segments(
    sample: tuple[Settings, dict[str, Transcript]], tmp_path: Path
) -> None:
    settings, transcripts = sample
    [path] = export_pages(settings, tmp_path, [YOUTUBE_ID], subtitles="vtt")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    cues = VTT_CUE.findall(text)
    assert "WEBVTT\n\n" + "".join(f"{a} --> {b}\n{t}\n\n" for a, b, t in cues) == text
    segments = transcripts[YOUTUBE_ID].segments
    assert [(round(seconds(a), 3), round(seconds(b), 3)) for a, b, _ in cues] == [
        (round(s.start_s, 3), round(s.end_s, 3)) for s in segments
    ]


def test_cue_text_cannot_break_the_format() -> None:
    cue = Cue(1.0, 2.0, "first line\n\nsecond --> third")
    assert srt([cue]) == "1\n00:00:01,000 --> 00:00:02,000\nfirst line second → third\n\n"
    assert vtt([cue]) == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst line second → third\n\n"


def test_unknown_subtitle_format(settings_: Settings, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="srt or vtt"):
        export_pages(settings_, tmp_path, subtitles="ass")


# -- markdown ------------------------------------------------------------------------------------
def test_markdown_page_per_video(sample: tuple[Settings, dict[str, Transcript]], tmp_path: Path) -> None:
    settings, transcripts = sample
    written = export_pages(settings, tmp_path, markdown=True)
    assert sorted(p.stem for p in written) == sorted(transcripts)  # the failed video has nothing to show
    page = (tmp_path / "markdown" / "rust.md").read_text(encoding="utf-8")
    assert page.startswith("# Rust in 100 Seconds\n")
    assert "- Published: 2024-05-14" in page and "- Topics: " in page
    assert len(re.findall(r"^## Section \d", page, flags=re.M)) == 5
    assert "## Section 1: " in page and "(http://127.0.0.1:8000/rust.webm#t=0)" in page
    transcript_lines = re.findall(r"^\[\d+:\d\d\]\(http://127\.0\.0\.1:8000/rust\.webm#t=\d+\) .+$", page, flags=re.M)
    assert len(transcript_lines) == len(transcripts["rust"].segments)


def test_markdown_youtube_links(settings_: Settings, tmp_path: Path) -> None:
    [path] = export_pages(settings_, tmp_path, [YOUTUBE_ID], markdown=True)
    assert f"https://www.youtube.com/watch?v={YOUTUBE_ID}&t=0s" in path.read_text(encoding="utf-8")


def test_unknown_video_is_named(settings_: Settings, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="nope"):
        export_pages(settings_, tmp_path, ["nope"], markdown=True)


# -- the command ---------------------------------------------------------------------------------
def test_cli_export(settings_: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = tubescribe(
        settings_.home,
        "export",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--subtitles",
        "srt",
        "--markdown",
        "--video",
        "zig",
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(TABLES) + 2} files" in done.stdout  # the tables, one subtitle file, one Markdown file
    assert (out / "videos.jsonl").exists() and (out / "subtitles" / "zig.srt").exists()
    assert (out / "markdown" / "zig.md").exists() and not (out / "markdown" / "rust.md").exists()
