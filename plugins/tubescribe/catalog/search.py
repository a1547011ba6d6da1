"""Full-text search over transcripts and summaries: keeping the BM25 index current, and asking it.

`search_docs` holds one row per transcript segment and per part of each video's newest summary, and
`search_postings` is a BM25 inverted index over them in plain tables (sql/schema/004_search_docs.sql
says why not DuckDB's fts index). The loader calls `refresh_index` for the videos it wrote, inside its
transaction, so search never lags the catalog and a load costs what its own videos cost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import quote

from tubescribe.catalog.sandbox import DEFAULT_TIMEOUT_S, SandboxError, execute_named, sandboxed
from tubescribe.catalog.sql import run_sql
from tubescribe.errors import TubescribeError
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

SNIPPET_CHARS = 160
INDEX_FORMAT = 2  # 1 was DuckDB's fts index, rebuilt whole on every load
# Loads append postings in runs sorted by term; once they have grown the postings by this share since
# the last merge, the whole table is rewritten in one term order again (and without replaced
# documents). Queries scan the unsorted tail whole, so it is kept small; merges cost a full rewrite,
# so they come at most once per tenth of growth.
MERGE_AFTER_GROWTH = 0.1


class SearchError(TubescribeError):
    """A search could not run; the message says what to do."""


@dataclass(frozen=True)
class Hit:
    """One place a search matched: a video, the second to open it at, and the words around the match."""

    video_id: str
    title: str
    channel: str | None
    kind: str  # segment, introduction, section or topics
    start_s: float
    snippet: str
    link: str
    score: float


def refresh_index(con: duckdb.DuckDBPyConnection, video_ids: Sequence[str] | None = None) -> None:
    """Re-index `video_ids` (every video when None, or when the index is missing or of an older format).

    Writer only, on a connection with the schema applied; runs in the caller's transaction if any.
    """
    [(ready,)] = run_sql(con, "search/index_ready", {"format": INDEX_FORMAT})
    every = video_ids is None or not ready
    if not every and not video_ids:
        return
    run_sql(con, "search/refresh", {"all": every, "video_ids": [] if every else list(video_ids or ())})
    [(rows, merged_rows)] = run_sql(con, "search/postings_stats")
    if every or rows - (merged_rows or 0) > MERGE_AFTER_GROWTH * (merged_rows or 0):
        run_sql(con, "search/merge", {"format": INDEX_FORMAT})


def search(
    settings: Settings,
    text: str,
    *,
    channel: str | None = None,
    since: date | None = None,
    limit: int = 10,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[Hit]:
    """The best `limit` hits for `text`, best first, on a fresh sandboxed read-only connection."""
    if not text.strip():
        raise SearchError('give some words to search for, e.g. `tubescribe search "borrow checker"`')
    try:
        with sandboxed(settings) as con:
            return search_on(con, text, channel=channel, since=since, limit=limit, timeout_s=timeout_s)
    except SandboxError as exc:
        raise SearchError(str(exc)) from None


def search_on(
    con: duckdb.DuckDBPyConnection,
    text: str,
    *,
    channel: str | None = None,
    since: date | None = None,
    limit: int = 10,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[Hit]:
    """`search` on an open sandboxed connection (one per many searches, e.g. in a server)."""
    params = {"query": text, "channel": channel, "since": since, "limit": limit}
    _, rows = execute_named(con, "search/hits", params, timeout_s)
    # Without an index there are no hits; only then is it worth a second statement to say why (on
    # DuckLake every statement costs a round of metadata queries per table it reads).
    if not rows:
        _, [(ready,)] = execute_named(con, "search/index_ready", {"format": INDEX_FORMAT}, timeout_s)
        if not ready:
            raise SearchError("the catalog has no search index yet; every load builds it: run `tubescribe ingest`")
    return [
        Hit(
            video_id=video_id,
            title=title,
            channel=channel_title,
            kind=kind,
            start_s=start_s,
            snippet=snippet(doc, text),
            link=moment_link(extractor, video_id, url, start_s),
            score=round(score, 4),
        )
        for video_id, title, channel_title, kind, start_s, doc, url, extractor, score in rows
    ]


def moment_link(extractor: str, video_id: str, url: str, seconds: float) -> str:
    """A link that opens the video at `seconds`: YouTube's `&t=123s`, else a media fragment `#t=123`."""
    at = max(0, int(seconds))
    if extractor.lower().startswith("youtube"):
        return f"https://www.youtube.com/watch?v={quote(video_id)}&t={at}s"
    return f"{url.split('#', 1)[0]}#t={at}"


def match_pattern(query: str) -> re.Pattern[str] | None:
    # fts matches Porter stems; a word's first five letters is a close, dependency-free stand-in for
    # finding where in the text the match is ("allocators" finds "allocate" and "allocation").
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) >= 3]
    if not words:
        return None
    prefixes = sorted({w[:5] for w in words}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE)


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around the first word that matches the query."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    pattern = match_pattern(query)
    found = pattern.search(text) if pattern else None
    middle = found.start() if found else 0
    start = max(0, min(middle - width // 3, len(text) - width))
    end = start + width
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
