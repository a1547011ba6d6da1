"""The `tubescribe` command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tubescribe.settings import Settings, SettingsError

app = typer.Typer(
    help="Turn video channels into a DuckDB catalog of transcripts, summaries and topics.",
    no_args_is_help=True,
    add_completion=False,
)
channels_app = typer.Typer(
    help="The channels the nightly DAG ingests (channels.toml in the home).", no_args_is_help=True
)
app.add_typer(channels_app, name="channels")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.load(**overrides)
    except SettingsError as exc:
        _fail(str(exc))
        raise


@app.command()
def ingest(
    urls: Annotated[list[str], typer.Argument(help="Channel, playlist or feed URLs")],
    since: Annotated[str | None, typer.Option(help="First publish date, inclusive (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="Last publish date, inclusive (YYYY-MM-DD)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many videos per URL, newest first")] = None,
    summarizer: Annotated[str | None, typer.Option(help="local (offline) or openai")] = None,
    whisper_model: Annotated[str | None, typer.Option(help="faster-whisper model name or local path")] = None,
) -> None:
    """Run the backfill DAG in-process for URLS and load the results into the catalog."""
    from tubescribe.runner import ingest as run_ingest

    for value, name in ((since, "--since"), (until, "--until")):
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                _fail(f"{name} {value!r} is not a date like 2024-01-31")
    settings = _settings(summarizer=summarizer, whisper_model=whisper_model)
    ok = run_ingest(settings, urls, since=since, until=until, limit=limit, console=console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def resummarize(
    summarizer: Annotated[str | None, typer.Option(help="local (offline) or openai")] = None,
    where: Annotated[
        str | None, typer.Option(help="SQL filter over video_overview, e.g. \"channel = 'Fireship'\"")
    ] = None,
) -> None:
    """Summarize videos already in the catalog again (no download, no transcription); older summaries stay."""
    from tubescribe.runner import resummarize as run_resummarize

    ok = run_resummarize(_settings(summarizer=summarizer), where, console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="SQL to run (or use --file, or pipe it on stdin)")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the SQL from a file")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    timeout: Annotated[float, typer.Option(min=0.1, help="Stop the query after this many seconds")] = 30.0,
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit for the query, e.g. 2GB")] = "1GB",
) -> None:
    """Run read-only SQL against the catalog (no writes, files, extensions or settings)."""
    from tubescribe.query import QueryError, render, run_query

    if fmt not in ("table", "csv", "json"):
        _fail("--format must be table, csv or json")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror}")
            return
    elif sql is not None:
        text = sql
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        _fail("give SQL as an argument, with --file, or on stdin")
        return
    try:
        columns, rows = run_query(_settings(), text, timeout_s=timeout, memory_limit=memory_limit)
    except QueryError as exc:
        _fail(str(exc))
        return
    render(console, columns, rows, fmt)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to find in transcripts and summaries")],
    channel: Annotated[str | None, typer.Option(help="Only this channel (id, URL, or part of its title)")] = None,
    since: Annotated[str | None, typer.Option(help="Only videos published on or after (YYYY-MM-DD)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many hits")] = 10,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Full-text search (BM25): each hit links to the second it was said."""
    from tubescribe.search import SearchError, render_hits
    from tubescribe.search import search as run_search

    if fmt not in ("table", "json"):
        _fail("--format must be table or json")
    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        _fail(f"--since {since!r} is not a date like 2024-01-31")
        return
    try:
        hits = run_search(_settings(), text, channel=channel, since=first, limit=limit)
    except SearchError as exc:
        _fail(str(exc))
        return
    render_hits(console, hits, text, fmt)


@app.command()
def export(
    fmt: Annotated[str | None, typer.Option("--format", help="Tables as parquet, csv or jsonl")] = None,
    out: Annotated[Path, typer.Option(help="Folder to write into (created if missing)")] = Path("tubescribe-export"),
    markdown: Annotated[bool, typer.Option("--markdown", help="One Markdown page per video")] = False,
    subtitles: Annotated[str | None, typer.Option(help="Subtitles per video from the segments: srt or vtt")] = None,
    video: Annotated[list[str] | None, typer.Option(help="Only this video for --markdown/--subtitles")] = None,
) -> None:
    """Export the catalog's tables (default: parquet), per-video Markdown, or subtitles."""
    from tubescribe.export import ExportError, export_pages, export_tables

    settings = _settings()
    try:
        written = []
        if fmt is not None or not (markdown or subtitles):
            written += export_tables(settings, out, fmt or "parquet")
        if markdown or subtitles:
            written += export_pages(settings, out, video or (), subtitles=subtitles, markdown=markdown)
    except ExportError as exc:
        _fail(str(exc))
        return
    console.print(f"wrote {len(written)} files under {out.expanduser().resolve()}")


@app.command()
def schema() -> None:
    """Print the summary contract as JSON Schema."""
    from tubescribe.contract import json_schema

    print(json.dumps(json_schema(), indent=2))


@app.command()
def show(video_id: str) -> None:
    """Show one video: its metadata, summary, topics and transcript opening."""
    from tubescribe.query import QueryError, show_video

    try:
        show_video(console, _settings(), video_id)
    except QueryError as exc:
        _fail(str(exc))


@app.command()
def demo(
    summarizer: Annotated[str | None, typer.Option(help="local (offline) or openai")] = None,
) -> None:
    """Serve the bundled sample channel on 127.0.0.1, ingest it, and print the catalog."""
    from tubescribe.runner import demo as run_demo

    ok = run_demo(_settings(summarizer=summarizer), console)
    raise typer.Exit(0 if ok else 1)


@channels_app.command("add")
def channels_add(
    url: str,
    since: Annotated[str | None, typer.Option(help="Ignore videos published before this date")] = None,
    max_videos: Annotated[int | None, typer.Option(min=1, help="At most this many videos, newest first")] = None,
    include: Annotated[str | None, typer.Option(help="Only titles matching this regex")] = None,
    exclude: Annotated[str | None, typer.Option(help="Skip titles matching this regex")] = None,
    min_duration: Annotated[float | None, typer.Option(help="Skip videos shorter than this (seconds)")] = None,
    max_duration: Annotated[float | None, typer.Option(help="Skip videos longer than this (seconds)")] = None,
    skip_shorts: Annotated[bool, typer.Option(help="Skip Shorts (a minute or less)")] = False,
    skip_live: Annotated[bool, typer.Option(help="Skip live streams and premieres")] = False,
) -> None:
    """Register a channel for the nightly run, with rules for which of its videos to ingest."""
    from tubescribe.channels import Channel, add_channel
    from tubescribe.discover import DiscoverError

    channel = Channel(
        url,
        date.fromisoformat(since) if since else None,
        max_videos,
        include,
        exclude,
        min_duration,
        max_duration,
        skip_shorts,
        skip_live,
    )
    try:
        added = add_channel(_settings(), channel)
    except (DiscoverError, ValueError) as exc:
        _fail(str(exc))
        return
    console.print(f"added {url}" if added else f"{url} is already registered")


@channels_app.command("list")
def channels_list() -> None:
    """List the registered channels."""
    from tubescribe.channels import ChannelsFileError, load_channels

    try:
        channels = load_channels(_settings())
    except ChannelsFileError as exc:
        _fail(str(exc))
        return
    table = Table("url", "since", "max videos", "rules")
    for channel in channels:
        rules = ", ".join(
            f"{name}={getattr(channel, name)}"
            for name in ("include", "exclude", "min_duration_s", "max_duration_s", "skip_shorts", "skip_live")
            if getattr(channel, name) not in (None, False)
        )
        table.add_row(channel.url, str(channel.since or ""), str(channel.max_videos or ""), rules)
    console.print(table)


@channels_app.command("remove")
def channels_remove(url: str) -> None:
    """Unregister a channel (its videos stay in the catalog)."""
    from tubescribe.channels import remove_channel

    if not remove_channel(_settings(), url):
        _fail(f"{url} is not registered", code=1)
    console.print(f"removed {url}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
