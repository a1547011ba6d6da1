"""The `tubescribe` command line.

Exit status: 0 success, 1 a runtime error (bad SQL, an unknown video, no catalog, a run that did not
land), 2 a usage error (an unknown option, a bad date, an unreadable --file). Errors go to stderr,
without tracebacks: `main` is the one place that turns our errors into a message and a status.
Everything printed goes through terminal.py, which escapes untrusted text.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from tubescribe.cli.context import DATE
from tubescribe.cli.context import err as _err
from tubescribe.cli.context import out as _out
from tubescribe.cli.context import settings as _settings
from tubescribe.cli.manage import catalog_app, channels_app
from tubescribe.errors import TubescribeError
from tubescribe.settings import OVERRIDES, SettingsError

app = typer.Typer(
    help="Turn video channels into a DuckDB catalog of transcripts, summaries and topics.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(channels_app, name="channels")
app.add_typer(catalog_app, name="catalog")


def _override(name: str) -> Any:
    """The option of one run-time settings override, built from its one declaration (settings.OVERRIDES)."""
    [override] = [o for o in OVERRIDES if o.name == name]
    choices = override.choices
    if not choices:
        return typer.Option(help=override.help)

    def parse(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, choices))}")
        return value

    return typer.Option(
        help=override.help, metavar=f"<{'|'.join(choices)}>", parser=parse, autocompletion=lambda: list(choices)
    )


Summarizer = Annotated[str | None, _override("summarizer")]
WhisperModel = Annotated[str | None, _override("whisper_model")]
Captions = Annotated[str | None, _override("captions")]
Retranscribe = Annotated[str | None, _override("retranscribe")]


class Format(StrEnum):
    """How `query` and `search` print what they found (the choices show in --help and complete in the shell)."""

    table = "table"
    csv = "csv"
    json = "json"


class SearchMode(StrEnum):
    """How `search` matches: the words (BM25), their meaning (embeddings), or both fused."""

    keyword = "keyword"
    semantic = "semantic"
    hybrid = "hybrid"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


class SubtitleFormat(StrEnum):
    srt = "srt"
    vtt = "vtt"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"tubescribe {version('tubescribe')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """Turn video channels into a DuckDB catalog of transcripts, summaries and topics."""


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


@app.command()
def ingest(
    urls: Annotated[list[str], typer.Argument(help="Channel, playlist or feed URLs")],
    since: Annotated[datetime | None, typer.Option(formats=DATE, help="First publish date, inclusive")] = None,
    until: Annotated[datetime | None, typer.Option(formats=DATE, help="Last publish date, inclusive")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many videos per URL, newest first")] = None,
    summarizer: Summarizer = None,
    whisper_model: WhisperModel = None,
    captions: Captions = None,
    retranscribe: Retranscribe = None,
) -> None:
    """Run the backfill DAG in-process for URLS and load the results into the catalog."""
    from tubescribe.cli.runner import ingest as run_ingest

    settings = _settings(
        summarizer=summarizer, whisper_model=whisper_model, captions=captions, retranscribe=retranscribe
    )
    ok = run_ingest(settings, urls, since=_day(since), until=_day(until), limit=limit, console=_out())
    raise typer.Exit(0 if ok else 1)


@app.command()
def plan(
    urls: Annotated[list[str], typer.Argument(help="Channel, playlist or feed URLs")],
    since: Annotated[datetime | None, typer.Option(formats=DATE, help="First publish date, inclusive")] = None,
    until: Annotated[datetime | None, typer.Option(formats=DATE, help="Last publish date, inclusive")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many videos per URL, newest first")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Also estimate the wall time on this many workers")] = 1,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
    summarizer: Summarizer = None,
    whisper_model: WhisperModel = None,
    captions: Captions = None,
) -> None:
    """What `ingest` of URLS would take (videos new and skipped, audio hours, time, tokens, cost, disk),
    from this catalog's history; lists the URLs only, downloads and transcribes nothing."""
    from tubescribe.cli.terminal import print_plan
    from tubescribe.pipeline.plan import plan as make_plan

    settings = _settings(summarizer=summarizer, whisper_model=whisper_model, captions=captions)
    first, last = (since.date() if since else None), (until.date() if until else None)
    print_plan(_out(), make_plan(settings, urls, first, last, limit, workers), fmt.value)


@app.command()
def resummarize(
    summarizer: Summarizer = None,
    where: Annotated[
        str | None, typer.Option(help="SQL filter over video_overview, e.g. \"channel = 'Fireship'\"")
    ] = None,
) -> None:
    """Summarize videos already in the catalog again (no download, no transcription); older summaries stay."""
    from tubescribe.catalog.sandbox import valid_filter
    from tubescribe.cli.runner import resummarize as run_resummarize

    # Checked here too, so a bad filter is refused before a DAG run starts.
    where = valid_filter(where) if where is not None else None
    ok = run_resummarize(_settings(summarizer=summarizer), where, _out())
    raise typer.Exit(0 if ok else 1)


@app.command()
def retranscribe(
    where: Annotated[
        str | None, typer.Option(help="SQL filter over video_overview, e.g. \"transcript_source = 'captions'\"")
    ] = None,
    whisper_model: WhisperModel = None,
    summarizer: Summarizer = None,
) -> None:
    """Transcribe videos already in the catalog again with Whisper (captions off); the old transcripts are kept
    in replaced_transcripts and the videos are summarized again from the new words."""
    from tubescribe.catalog.sandbox import valid_filter
    from tubescribe.cli.runner import retranscribe as run_retranscribe

    where = valid_filter(where) if where is not None else None
    settings = _settings(summarizer=summarizer, whisper_model=whisper_model, captions="off", retranscribe="outdated")
    raise typer.Exit(0 if run_retranscribe(settings, where, _out()) else 1)


@app.command()
def embed(
    where: Annotated[
        str | None, typer.Option(help="SQL filter over video_overview, e.g. \"channel = 'Fireship'\"")
    ] = None,
) -> None:
    """Embed videos already in the catalog with the current embedding model (after changing it); new
    videos are embedded as they land."""
    from tubescribe.catalog.sandbox import valid_filter
    from tubescribe.cli.runner import reembed

    where = valid_filter(where) if where is not None else None
    raise typer.Exit(0 if reembed(_settings(), where, _out()) else 1)


def _sql_text(sql: str | None, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise typer.BadParameter(f"cannot read {file}: {reason}", param_hint="--file") from None
    if sql is not None:
        return sql
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise typer.BadParameter("give SQL as an argument, with --file, or on stdin", param_hint="SQL")


@app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="SQL to run (or use --file, or pipe it on stdin)")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the SQL from a file")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="How to print the rows")] = Format.table,
    timeout: Annotated[float, typer.Option(min=0.1, help="Stop the query after this many seconds")] = 30.0,
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit for the query, e.g. 2GB")] = "1GB",
) -> None:
    """Run read-only SQL against the catalog (no writes, files, extensions or settings)."""
    from tubescribe.catalog.query import stream_query
    from tubescribe.cli.terminal import print_rows

    text = _sql_text(sql, file)
    with stream_query(_settings(), text, timeout_s=timeout, memory_limit=memory_limit) as (columns, types, batches):
        print_rows(_out(), columns, batches, fmt.value, types, err=_err())


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to find in transcripts and summaries")],
    channel: Annotated[str | None, typer.Option(help="Only this channel (id, URL, or part of its title)")] = None,
    since: Annotated[datetime | None, typer.Option(formats=DATE, help="Only videos published on or after")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many hits")] = 10,
    fmt: Annotated[Format, typer.Option("--format", help="How to print the hits")] = Format.table,
    mode: Annotated[
        SearchMode, typer.Option(help="keyword (BM25), semantic (by meaning) or hybrid (both, fused)")
    ] = SearchMode.hybrid,
) -> None:
    """Search what was said, by words and by meaning: each hit links to the second it was said."""
    from tubescribe.catalog.search import Hit
    from tubescribe.cli.terminal import print_hits, print_rows
    from tubescribe.pipeline.retrieval import find

    first = since.date() if since else None
    hits = find(_settings(), text, mode=mode.value, channel=channel, since=first, limit=limit)
    if fmt is Format.csv:
        # A hit's fields as columns, through the one CSV writer `query` uses.
        columns = [field.name for field in dataclasses.fields(Hit)]
        print_rows(_out(), columns, [[dataclasses.astuple(hit) for hit in hits]], fmt.value)
    else:
        print_hits(_out(), hits, text, fmt.value)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about what the catalog's videos say")],
    channel: Annotated[str | None, typer.Option(help="Only this channel (id, URL, or part of its title)")] = None,
    since: Annotated[datetime | None, typer.Option(formats=DATE, help="Only videos published on or after")] = None,
    offline: Annotated[bool, typer.Option(help="Only the best passages, even with an LLM configured")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table (text) or json")] = Format.table,
) -> None:
    """Answer from the catalog with an LLM (OPENAI_API_KEY or OPENAI_BASE_URL), every claim citing its moment;
    without one, the passages that answer best, with their links."""
    from tubescribe.cli.terminal import print_answer
    from tubescribe.pipeline.ask import ask as run_ask

    first = since.date() if since else None
    answer = run_ask(_settings(), question, channel=channel, since=first, offline=offline)
    print_answer(_out(), answer, fmt.value)


@app.command()
def export(
    fmt: Annotated[
        ExportFormat | None, typer.Option("--format", help="Tables as parquet (default), csv or jsonl")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to write into (created if missing)")] = Path("tubescribe-export"),
    markdown: Annotated[bool, typer.Option("--markdown", help="One Markdown page per video")] = False,
    subtitles: Annotated[SubtitleFormat | None, typer.Option(help="Subtitles per video from the segments")] = None,
    video: Annotated[list[str] | None, typer.Option(help="Only this video for --markdown/--subtitles")] = None,
) -> None:
    """Export the catalog's tables (default: parquet), per-video Markdown, or subtitles."""
    from tubescribe.catalog.export import export_pages, export_tables
    from tubescribe.cli.terminal import print_line

    settings = _settings()
    written = []
    if fmt is not None or not (markdown or subtitles):
        written += export_tables(settings, out, (fmt or ExportFormat.parquet).value)
    if markdown or subtitles:
        written += export_pages(
            settings, out, video or (), subtitles=subtitles.value if subtitles else None, markdown=markdown
        )
    print_line(_out(), f"wrote {len(written)} files under {out.expanduser().resolve()}")


@app.command()
def schema() -> None:
    """Print the summary contract as JSON Schema."""
    from tubescribe.contract import json_schema

    print(json.dumps(json_schema(), indent=2))


@app.command()
def show(video_id: str) -> None:
    """Show one video: its metadata, summary, topics and transcript opening."""
    from tubescribe.catalog.query import video_detail
    from tubescribe.cli.terminal import print_video

    print_video(_out(), video_detail(_settings(), video_id))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default: only this machine)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8765,
) -> None:
    """Browse the catalog in a web browser (read-only): channels, videos, search, topics and SQL."""
    import ipaddress
    import socket

    import uvicorn

    from tubescribe.cli.terminal import print_line
    from tubescribe.web.app import create_app

    settings = _settings()
    try:  # a clear message for a port in use, before uvicorn's own log line
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        print_line(_err(), f"error: cannot listen on {host}:{port}: {exc.strerror}; pass another --port or --host")
        raise typer.Exit(1) from None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        print_line(
            _err(),
            f"warning: the browser has no login of its own; anyone who can reach {host}:{port} can read the catalog. "
            "Put it behind a proxy that authenticates, or open it in Airflow's UI (docs/browser.md).",
        )
    shown = "localhost" if loopback and ":" not in host else host
    print_line(_out(), f"serving {settings.catalog_path if settings.catalog_url is None else 'the lake catalog'} "
               f"at http://{shown}:{port}/ (Ctrl-C stops)")  # fmt: skip
    uvicorn.run(create_app(lambda: settings), host=host, port=port, log_level="info")


@app.command()
def demo(
    summarizer: Summarizer = None,
) -> None:
    """Serve the bundled sample channel on 127.0.0.1, ingest it, and print the catalog."""
    from tubescribe.cli.runner import demo as run_demo

    ok = run_demo(_settings(summarizer=summarizer), _out())
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    """Run the command; our own errors become `error: ...` on stderr and exit 1 (2 for bad settings)."""
    from tubescribe.cli.terminal import error

    # One rule: a setting tubescribe cannot use is a usage error (2); any other error of ours is a runtime
    # error (1) whose message says what to do. Anything else is a bug and keeps its traceback.
    try:
        app()
    except SettingsError as exc:
        error(_err(), exc)
        sys.exit(2)
    except TubescribeError as exc:
        error(_err(), exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
