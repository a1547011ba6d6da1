"""What the catalog browser's pages show, read with the named SQL of `sql/browse/` on one read-only connection.

Each function returns one page's records; nothing here renders (tubescribe.web does). Lists that grow
with the catalog come a page at a time (`Page`), so a page costs the same at 10k videos as at 100k.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.lake import is_lake
from tubescribe.catalog.query import UnknownVideo
from tubescribe.catalog.search import moment_link
from tubescribe.catalog.sql import run_sql
from tubescribe.contract import complexity_label
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

Row = dict[str, Any]
PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    """One page of a list that grows: its rows, which page it is (from 1), and how many rows there are in all."""

    rows: list[Row]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class Series:
    """A count per period (week or month) for one line of a chart."""

    name: str
    points: list[tuple[date, int]]


@dataclass(frozen=True)
class Overview:
    """The catalog page: channels, newest videos, uploads per week, topics over time, recent failures."""

    channels: list[Row]
    videos: Page
    weekly: Series
    topics: list[Series]
    failures: list[Row]


@dataclass(frozen=True)
class Moment:
    """A place in a video: the second it starts and a link that opens the video there."""

    start_s: float
    link: str


@dataclass(frozen=True)
class Section:
    idx: int
    title: str
    start: Moment | None
    end_s: float | None
    bullets: list[str]
    topics: list[str]


@dataclass(frozen=True)
class Field:
    """One of the summary's three general fields, with its complexity and that level's name on the scale."""

    name: str
    complexity: Decimal
    level: str


@dataclass(frozen=True)
class Line:
    """One transcript segment on the video page."""

    start: Moment
    text: str


@dataclass(frozen=True)
class VideoPage:
    video: Row
    link: str
    sections: list[Section]
    tags: list[tuple[str, str]]  # (as the summary wrote it, normalized: the topic page's key)
    fields: list[Field]
    transcript: list[Line]


@dataclass(frozen=True)
class TopicPage:
    topic: str
    trend: Series
    videos: Page


@dataclass(frozen=True)
class TopicsPage:
    topics: Page
    trends: dict[str, Series] = field(default_factory=dict)


@contextmanager
def reading(settings: Settings) -> Iterator[Reader]:
    """One read-only connection for one page's queries (CatalogError when there is no catalog yet).

    An embedded catalog's pages share one open database: each page reads on a cursor of it, so a page pays
    neither for attaching the file (~40-80 ms at 10k videos) nor for reading its blocks cold. The database is
    the published file as it was when it was opened; once a load publishes a new file (a new inode), the next
    page opens that one, as a fresh connection per page would. Pages already reading keep their snapshot.
    """
    con = _shared.cursor(settings) if not is_lake(settings) else None
    con = con or connect_read_only(settings)
    try:
        yield Reader(con)
    finally:
        con.close()


class _SharedCatalog:
    """The newest published catalog file, held open for the pages' cursors (one file: the last one asked for)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self, settings: Settings) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the file as published now; None when there is no file (the caller's open says why)."""
        try:
            stat = settings.catalog_path.stat()
        except OSError:
            return None
        key = (str(settings.catalog_path), stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key != self._key or self._con is None:
                # The old database is not closed here: closing it would close the cursors of pages still
                # reading it. Dropped, it closes when its last cursor does.
                self._con, self._key = connect_read_only(settings), key
            cursor = self._con.cursor()
        try:
            cursor.execute("USE catalog")
        except BaseException:
            cursor.close()
            raise
        return cursor


_shared = _SharedCatalog()


class Reader:
    """The browser's queries on one read-only connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def rows(self, name: str, **params: Any) -> list[Row]:
        found = run_sql(self.con, f"browse/{name}", params)
        columns = [d[0] for d in self.con.description or []]
        return [dict(zip(columns, row, strict=True)) for row in found]

    def count(self, name: str, **params: Any) -> int:
        [(total,)] = run_sql(self.con, f"browse/{name}", params)
        return int(total)

    def overview(self, page: int = 1, channel_id: str | None = None, weeks: int = 26, months: int = 12) -> Overview:
        videos = self.rows("newest_videos", channel_id=channel_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        weekly = Series("videos", [(r["week"], r["videos"]) for r in self.rows("weekly_videos", weeks=weeks)])
        return Overview(
            channels=self.rows("channels"),
            videos=Page(videos, page, self.count("video_count", channel_id=channel_id)),
            weekly=weekly,
            topics=_series(self.rows("topic_months", months=months, topics=5)),
            failures=self.rows("failures", limit=10),
        )

    def video(self, video_id: str) -> VideoPage:
        found = self.rows("video", video_id=video_id)
        if not found:
            raise UnknownVideo(f"no video {video_id!r} in the catalog")
        video = found[0]

        def at(seconds: float) -> Moment:
            return Moment(seconds, moment_link(video["extractor"], video_id, video["url"], seconds))

        sections = [
            Section(idx, title, at(start_s) if start_s is not None else None, end_s, bullets or [], topics or [])
            for idx, title, start_s, end_s, bullets, topics in run_sql(
                self.con, "queries/video_sections", {"video_id": video_id}
            )
        ]
        tags = [(r["tag"], r["tag_normalized"]) for r in self.rows("video_tags", video_id=video_id)]
        general = self.rows("video_general", video_id=video_id)
        fields = [Field(r["name"], r["complexity"], complexity_label(r["complexity"])) for r in general]
        lines = [Line(at(r["start_s"]), r["text"]) for r in self.rows("video_segments", video_id=video_id)]
        return VideoPage(video, at(0).link, sections, tags, fields, lines)

    def topics(self, page: int = 1) -> TopicsPage:
        rows = self.rows("topics", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        # A page's rows carry the number of topics; past the last page there are none to carry it.
        total = rows[0]["total"] if rows else self.count("topic_count")
        rows = [{k: v for k, v in r.items() if k != "total"} for r in rows]
        trends = _series(self.rows("topic_trends", topics=[r["topic"] for r in rows])) if rows else []
        return TopicsPage(Page(rows, page, total), {s.name: s for s in trends})

    def topic(self, topic: str, page: int = 1) -> TopicPage:
        rows = self.rows("topic_videos", topic=topic, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        trend = _series(self.rows("topic_trends", topics=[topic]))
        total = self.count("topic_video_count", topic=topic)
        return TopicPage(topic, trend[0] if trend else Series(topic, []), Page(rows, page, total))


def _series(rows: list[Row]) -> list[Series]:
    """Rows of (topic, month, videos), ordered by topic, as one series per topic."""
    series: dict[str, list[tuple[date, int]]] = {}
    for row in rows:
        series.setdefault(row["topic"], []).append((row["month"], int(row["videos"])))
    return [Series(name, points) for name, points in series.items()]
