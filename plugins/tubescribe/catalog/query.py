"""Asking the catalog: sandboxed SQL (see sandbox.py), streamed or collected, and one video's details for `show`.

Nothing here prints: terminal.py renders what these functions return.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.sandbox import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIMEOUT_S,
    SandboxError,
    execute,
    sandboxed,
    streaming,
)
from tubescribe.catalog.sql import CatalogError, run_sql
from tubescribe.errors import TubescribeError
from tubescribe.settings import Settings


class QueryError(TubescribeError):
    """A query was refused or failed; the message says why."""


class UnknownVideo(QueryError):
    """`show` was asked for a video the catalog does not have."""


def run_query(
    settings: Settings, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a user's SQL in the sandbox: read-only, no files or extensions, locked settings, limits."""
    try:
        with sandboxed(settings, memory_limit) as con:
            return execute(con, sql, timeout_s)
    except SandboxError as exc:
        raise QueryError(str(exc)) from None


@contextmanager
def stream_query(
    settings: Settings, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> Iterator[tuple[list[str], list[str], Iterator[Sequence[tuple[Any, ...]]]]]:
    """`run_query` that yields (columns, type names, batches of rows) read as they are consumed.

    A result of any size costs a batch of memory; the time limit covers the reading.
    """
    try:
        with sandboxed(settings, memory_limit) as con, streaming(con, sql, timeout_s) as result:
            yield result
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


@dataclass(frozen=True)
class VideoDetail:
    """What `tubescribe show` prints: the overview row, the newest summary's sections, the transcript."""

    video: dict[str, Any]
    sections: list[tuple[Any, ...]]  # idx, title, start_s, end_s, bullets, topics
    transcript: tuple[str, str, float] | None  # text, model, seconds


def video_detail(settings: Settings, video_id: str) -> VideoDetail:
    """One video's metadata, newest summary's sections and transcript; UnknownVideo if it is not there."""
    columns, rows = run_named(settings, "queries/video", {"video_id": video_id})
    if not rows:
        raise UnknownVideo(
            f'no video {video_id!r} in the catalog; `tubescribe query "SELECT video_id, title FROM videos"` lists them'
        )
    _, sections = run_named(settings, "queries/video_sections", {"video_id": video_id})
    _, transcript = run_named(settings, "queries/video_transcript", {"video_id": video_id})
    text = (transcript[0][0], transcript[0][1], transcript[0][2]) if transcript else None
    return VideoDetail(dict(zip(columns, rows[0], strict=True)), sections, text)
