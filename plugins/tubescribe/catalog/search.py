"""Full-text search over transcripts and summaries: keeping the BM25 index current, and asking it.

`search_docs` holds one row per transcript segment and per part of each video's newest summary, and
`search_postings` is a BM25 inverted index over them in plain tables (sql/schema/004_search_docs.sql
says why not DuckDB's fts index). The loader calls `refresh_index` for the videos it wrote, inside its
transaction, so search never lags the catalog and a load costs what its own videos cost.
"""

from __future__ import annotations

import dataclasses
import json
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


MODES = ("keyword", "semantic", "hybrid")
# Reciprocal rank fusion's constant (Cormack et al.): a hit's share is 1 / (RRF_K + rank).
RRF_K = 60
# Each list brings this many times the hits asked for into the fusion, so a hit ranked low in one list
# but high in the other can still come out on top.
FUSION_DEPTH = 3
# A keyword hit and a semantic passage of the same video this close in time are the same moment.
SAME_MOMENT_S = 30.0


@dataclass(frozen=True)
class Question:
    """What to search for: the words, and (for semantic and hybrid) the words' vector under `model`."""

    text: str
    mode: str = "keyword"
    vector: Sequence[float] | None = None
    model: str | None = None


def search(
    settings: Settings,
    text: str | Question,
    *,
    channel: str | None = None,
    since: date | None = None,
    limit: int = 10,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[Hit]:
    """The best `limit` hits for `text`, best first, on a fresh sandboxed read-only connection."""
    question = text if isinstance(text, Question) else Question(text)
    if not question.text.strip():
        raise SearchError('give some words to search for, e.g. `tubescribe search "borrow checker"`')
    try:
        with sandboxed(settings) as con:
            return search_on(con, question, channel=channel, since=since, limit=limit, timeout_s=timeout_s)
    except SandboxError as exc:
        raise SearchError(str(exc)) from None


def search_on(
    con: duckdb.DuckDBPyConnection,
    text: str | Question,
    *,
    channel: str | None = None,
    since: date | None = None,
    limit: int = 10,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[Hit]:
    """`search` on an open sandboxed connection (one per many searches, e.g. in a server)."""
    question = text if isinstance(text, Question) else Question(text)
    if question.mode not in MODES:
        raise SearchError(f"search mode {question.mode!r}: choose one of {', '.join(MODES)}")
    if question.mode == "keyword":
        return _keyword(con, question.text, channel=channel, since=since, limit=limit, timeout_s=timeout_s)
    if question.vector is None or question.model is None:
        raise SearchError(f"a {question.mode} search needs the question's embedding")
    if question.mode == "semantic":
        return _semantic(con, question, channel=channel, since=since, limit=limit, timeout_s=timeout_s)
    depth = limit * FUSION_DEPTH
    params = {"query": question.text, "channel": channel, "since": since, "limit": depth}
    _, rows = execute_named(con, "search/hits", params, timeout_s)
    words_first = any(holds_every_word(row[5], question.text) for row in rows)
    meanings = _semantic(con, question, channel=channel, since=since, limit=depth, timeout_s=timeout_s, strict=False)
    return fuse(_hits(rows, question.text), meanings, limit, words_first)


def _keyword(
    con: duckdb.DuckDBPyConnection, text: str, *, channel: str | None, since: date | None, limit: int, timeout_s: float
) -> list[Hit]:
    params = {"query": text, "channel": channel, "since": since, "limit": limit}
    _, rows = execute_named(con, "search/hits", params, timeout_s)
    # Without an index there are no hits; only then is it worth a second statement to say why (on
    # DuckLake every statement costs a round of metadata queries per table it reads).
    if not rows:
        _, [(ready,)] = execute_named(con, "search/index_ready", {"format": INDEX_FORMAT}, timeout_s)
        if not ready:
            raise SearchError("the catalog has no search index yet; every load builds it: run `tubescribe ingest`")
    return _hits(rows, text)


def _semantic(
    con: duckdb.DuckDBPyConnection,
    question: Question,
    *,
    channel: str | None,
    since: date | None,
    limit: int,
    timeout_s: float,
    strict: bool = True,
) -> list[Hit]:
    params = {
        # As JSON text: DuckDB converts a bound list of 384 floats in about 40 ms, its text in under 1 ms.
        "vector": json.dumps([float(x) for x in question.vector or ()]),
        "model": question.model,
        "channel": channel,
        "since": since,
        "limit": limit,
    }
    _, rows = execute_named(con, "search/semantic", params, timeout_s)
    if not rows and strict:
        _, [(embedded,)] = execute_named(con, "search/embedded", {"model": question.model}, timeout_s)
        if not embedded:
            raise SearchError(
                f"the catalog holds no embeddings of {question.model} yet: run `tubescribe embed` "
                "(new videos are embedded as they land)"
            )
    return _hits(rows, question.text)


def _hits(rows: list[tuple], text: str) -> list[Hit]:
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


def fuse(words: list[Hit], meanings: list[Hit], limit: int, words_first: bool = False) -> list[Hit]:
    """Keyword and semantic hits ranked together, best first, by reciprocal rank fusion.

    A semantic passage at the same moment as a keyword hit (same video, within SAME_MOMENT_S) adds its
    share to the nearest such hit instead of being shown twice: the keyword hit keeps its exact second
    and the words it matched. With `words_first` (the words typed are there), the keyword hits keep
    BM25's order ahead of the passages found by meaning alone, so such a search finds what keyword
    search finds, first.
    """
    scores = {i: 1 / (RRF_K + rank) for i, rank in enumerate(range(1, len(words) + 1))}
    alone: list[tuple[float, int, Hit]] = []
    for rank, hit in enumerate(meanings, start=1):
        share = 1 / (RRF_K + rank)
        near = [
            (abs(w.start_s - hit.start_s), i)
            for i, w in enumerate(words)
            if w.video_id == hit.video_id and abs(w.start_s - hit.start_s) < SAME_MOMENT_S
        ]
        if near:
            scores[min(near)[1]] += share
        else:
            alone.append((share, len(words) + rank, hit))
    matched = [(score, i, words[i]) for i, score in scores.items()]
    if words_first:
        ranked = matched + sorted(alone, key=lambda item: (-item[0], item[1]))
    else:
        ranked = sorted(matched + alone, key=lambda item: (-item[0], item[1]))
    return [dataclasses.replace(hit, score=round(score, 6)) for score, _, hit in ranked[:limit]]


def holds_every_word(text: str, query: str) -> bool:
    """Whether `text` holds each word of `query` (three letters or more, matched as match_pattern does)."""
    words = {w[:5] for w in re.findall(r"\w+", query.lower()) if len(w) >= 3}
    found = {m.group(1).lower()[:5] for m in re.finditer(r"\b(\w+)", text)}
    return bool(words) and all(any(f.startswith(w) for f in found) for w in words)


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
