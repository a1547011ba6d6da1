"""Asking the catalog: sandboxed SQL (see sandbox.py), rendered as a table, CSV or JSON, and `show` for one video."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from tubescribe.catalog import CatalogError, connect_read_only, run_sql
from tubescribe.sandbox import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_S, SandboxError, execute, sandboxed
from tubescribe.settings import Settings


class QueryError(RuntimeError):
    """A query was refused or failed; the message says why."""


def run_query(
    settings: Settings, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a user's SQL in the sandbox: read-only, no files or extensions, locked settings, limits."""
    try:
        with sandboxed(settings, memory_limit) as con:
            return execute(con, sql, timeout_s)
    except SandboxError as exc:
        raise QueryError(str(exc)) from None


def run_named(
    settings: Settings, name: str, params: dict[str, Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one of our own `sql/` files read-only, with bound parameters."""
    import duckdb

    try:
        con = connect_read_only(settings)
    except CatalogError as exc:
        raise QueryError(str(exc)) from None
    with con:
        try:
            rows = run_sql(con, name, params)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
        return [d[0] for d in con.description or []], rows


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def render(console: Console, columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """Print rows as a table, CSV or JSON (one object per row)."""
    if fmt == "json":
        print(
            json.dumps(
                [dict(zip(columns, map(_plain, row), strict=True)) for row in rows], ensure_ascii=False, indent=1
            )
        )
    elif fmt == "csv":
        writer = csv.writer(console.file)
        writer.writerow(columns)
        writer.writerows(
            [[json.dumps(_plain(v)) if isinstance(v, (list, dict)) else _plain(v) for v in row] for row in rows]
        )
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(_plain(v)) for v in row))
        console.print(table)


def show_video(console: Console, settings: Settings, video_id: str) -> None:
    """Print one video's metadata, newest summary, topics and transcript opening."""
    columns, rows = run_named(settings, "queries/video", {"video_id": video_id})
    if not rows:
        raise QueryError(
            f'no video {video_id!r} in the catalog; `tubescribe query "SELECT video_id, title FROM videos"` lists them'
        )
    video = dict(zip(columns, rows[0], strict=True))
    _, sections = run_named(settings, "queries/video_sections", {"video_id": video_id})
    _, transcript = run_named(settings, "queries/video_transcript", {"video_id": video_id})
    console.rule(f"[bold]{video['title']}")
    console.print(f"{video_id} · {video['channel']} · {video['published_at'] or 'date unknown'} · {video['status']}")
    if video["failed_stage"]:
        console.print(f"[red]failed at {video['failed_stage']}: {video['error_message']}[/red]")
    if video["introduction"]:
        console.print(f"\n{video['introduction']}\n")
    for _idx, title, start_s, end_s, bullets, topics in sections:
        when = f" [dim]{_clock(start_s)}–{_clock(end_s)}[/dim]" if start_s is not None else ""
        console.print(f"[bold]{title}[/bold]{when}")
        for bullet in bullets or []:
            console.print(f"  • {bullet}")
        console.print(f"  [cyan]{', '.join(topics or [])}[/cyan]")
    if video["topics"]:
        console.print(f"\n[cyan]topics:[/cyan] {', '.join(video['topics'])}")
        console.print(f"[cyan]general topics:[/cyan] {', '.join(video['general_topics'] or [])}")
    if transcript:
        text, model, seconds = transcript[0]
        console.print(f"\n[dim]transcript ({model}, {seconds:.0f} s):[/dim] {text[:400]}…")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
