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
) -> None:
    """Run read-only SQL against the catalog."""
    from tubescribe.query import QueryError, render, run_query

    if fmt not in ("table", "csv", "json"):
        _fail("--format must be table, csv or json")
    if file is not None:
        text = file.read_text(encoding="utf-8")
    elif sql is not None:
        text = sql
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        _fail("give SQL as an argument, with --file, or on stdin")
        return
    try:
        columns, rows = run_query(_settings(), text)
    except QueryError as exc:
        _fail(str(exc))
        return
    render(console, columns, rows, fmt)


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
) -> None:
    """Register a channel for the nightly run."""
    from tubescribe.channels import Channel, add_channel
    from tubescribe.discover import DiscoverError

    try:
        added = add_channel(_settings(), Channel(url, date.fromisoformat(since) if since else None, max_videos))
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
    table = Table("url", "since", "max videos")
    for channel in channels:
        table.add_row(channel.url, str(channel.since or ""), str(channel.max_videos or ""))
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
