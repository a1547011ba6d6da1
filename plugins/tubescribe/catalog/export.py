"""Export: the catalog's tables as Parquet, CSV or JSON Lines; each video as Markdown; subtitles.

Tables are written by DuckDB's COPY from a read-only connection of their own (the query sandbox
forbids files). That connection may write inside the chosen folder only (`allowed_directories`),
never downloads an extension, and has its configuration locked, so even our own SQL cannot stray.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.extensions import no_downloads
from tubescribe.catalog.search import moment_link
from tubescribe.catalog.sql import CatalogError, run_sql
from tubescribe.errors import TubescribeError
from tubescribe.settings import Settings
from tubescribe.store import write_text
from tubescribe.text import clock

if TYPE_CHECKING:
    import duckdb

TABLE_FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}  # --format -> file extension
SUBTITLE_FORMATS = ("srt", "vtt")


class ExportError(TubescribeError):
    """An export could not be written; the message says what to do."""


@dataclass(frozen=True)
class Cue:
    """One timed line of a subtitle file."""

    start_s: float
    end_s: float
    text: str


@contextmanager
def _exporter(settings: Settings, out: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    try:
        con = connect_read_only(settings)
    except CatalogError as exc:
        raise ExportError(str(exc)) from None
    try:
        no_downloads(con)
        # A DuckLake reader already allows its data files (catalog.connect_read_only); keep them readable.
        [(allowed,)] = con.execute("SELECT current_setting('allowed_directories')").fetchall()
        con.execute("SET allowed_directories = $dirs", {"dirs": [*(allowed or []), f"{out}/"]})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    except duckdb.Error as exc:
        raise ExportError(f"export to {out} failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def _folder(out: Path) -> Path:
    out = out.expanduser().resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}; choose another folder with --out") from None
    return out


def export_tables(settings: Settings, out: Path, fmt: str) -> list[Path]:
    """Write every catalog table to `<out>/<table>.<parquet|csv|jsonl>`; return the files."""
    if fmt not in TABLE_FORMATS:
        raise ExportError(f"--format {fmt!r}: choose one of {', '.join(TABLE_FORMATS)}")
    out = _folder(out)
    written = []
    with _exporter(settings, out) as con:
        for (table,) in run_sql(con, "export/tables"):
            path = out / f"{table}.{TABLE_FORMATS[fmt]}"
            run_sql(con, f"export/table_{fmt}", {"table": table, "path": str(path)})
            written.append(path)
    return written


def export_pages(
    settings: Settings, out: Path, video_ids: Sequence[str] = (), subtitles: str | None = None, markdown: bool = False
) -> list[Path]:
    """Write `<out>/markdown/<id>.md` and/or `<out>/subtitles/<id>.<srt|vtt>` per video; return the files."""
    if subtitles is not None and subtitles not in SUBTITLE_FORMATS:
        raise ExportError(f"--subtitles {subtitles!r}: choose srt or vtt")
    out = _folder(out)
    written: list[Path] = []
    with _exporter(settings, out) as con:
        columns = None
        videos = []
        for row in run_sql(con, "export/videos"):
            columns = columns or [d[0] for d in con.description or []]
            videos.append(dict(zip(columns, row, strict=True)))
        missing = set(video_ids) - {v["video_id"] for v in videos}
        if missing:
            raise ExportError(f"not in the catalog with a transcript or summary: {', '.join(sorted(missing))}")
        for video in videos:
            if video_ids and video["video_id"] not in video_ids:
                continue
            cues = [Cue(s, e, t) for _, s, e, t in run_sql(con, "export/segments", {"video_id": video["video_id"]})]
            if markdown:
                sections = run_sql(con, "queries/video_sections", {"video_id": video["video_id"]})
                path = out / "markdown" / f"{video['video_id']}.md"
                write_text(path, markdown_page(video, sections, cues))
                written.append(path)
            if subtitles and cues:
                path = out / "subtitles" / f"{video['video_id']}.{subtitles}"
                write_text(path, srt(cues) if subtitles == "srt" else vtt(cues))
                written.append(path)
    return written


def markdown_page(video: dict[str, Any], sections: list[tuple[Any, ...]], cues: Sequence[Cue]) -> str:
    """One video as Markdown: metadata, introduction, sections with timed links, topics, transcript."""

    def at(seconds: float | None) -> str:
        seconds = seconds or 0.0
        return f"[{clock(seconds)}]({moment_link(video['extractor'], video['video_id'], video['url'], seconds)})"

    when = video["published_at"].date().isoformat() if video["published_at"] else "date unknown"
    lines = [f"# {video['title']}", "", f"- Channel: {video['channel'] or ''}", f"- Published: {when}"]
    if video["duration_s"]:
        lines.append(f"- Duration: {clock(video['duration_s'])}")
    lines.append(f"- Link: {moment_link(video['extractor'], video['video_id'], video['url'], 0)}")
    if video["topics"]:
        lines.append(f"- Topics: {', '.join(video['topics'])}")
    if video["general_topics"]:
        lines.append(f"- General topics: {', '.join(video['general_topics'])}")
    if video["summary_model"]:
        lines.append(f"- Summary: {video['summary_backend']} / {video['summary_model']}")
    if video["introduction"]:
        lines += ["", video["introduction"]]
    for _idx, title, start_s, end_s, bullets, topics in sections:
        span = f" ({at(start_s)}–{clock(end_s)})" if start_s is not None and end_s is not None else ""
        lines += ["", f"## {title}{span}", ""]
        lines += [f"- {bullet}" for bullet in bullets or []]
        if topics:
            lines += ["", f"*Topics: {', '.join(topics)}*"]
    if cues:
        lines += ["", "## Transcript", ""]
        lines += [f"{at(cue.start_s)} {cue.text}  " for cue in cues]
    return "\n".join(lines).rstrip() + "\n"


def timestamp(seconds: float, decimal: str) -> str:
    """HH:MM:SS,mmm (SRT, decimal=",") or HH:MM:SS.mmm (WebVTT, decimal=".")."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line, in both formats.
    return " ".join(text.split()).replace("-->", "→")


def srt(cues: Sequence[Cue]) -> str:
    """SubRip: numbered cues, comma decimal separator, a blank line after each."""
    return "".join(
        f"{n}\n{timestamp(c.start_s, ',')} --> {timestamp(c.end_s, ',')}\n{_cue_text(c.text)}\n\n"
        for n, c in enumerate(cues, start=1)
    )


def vtt(cues: Sequence[Cue]) -> str:
    """WebVTT: a WEBVTT header, dot decimal separator, a blank line after each cue."""
    return "WEBVTT\n\n" + "".join(
        f"{timestamp(c.start_s, '.')} --> {timestamp(c.end_s, '.')}\n{_cue_text(c.text)}\n\n" for c in cues
    )
