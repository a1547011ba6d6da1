"""The catalog browser's routes: catalog, video, search, topics and SQL pages over a read-only catalog.

`create_app` builds one app that `tubescribe serve` runs on its own and the Airflow plugin mounts under
`/tubescribe` (with Airflow's authentication as a dependency). Every route is a GET that reads; links are
built from the mount's root path, so the same pages work under any prefix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from tubescribe.catalog import browse
from tubescribe.catalog.query import QueryError, UnknownVideo, stream_query
from tubescribe.catalog.search import SearchError, match_pattern
from tubescribe.catalog.sql import CatalogError
from tubescribe.settings import Settings
from tubescribe.text import clock, csv_value, json_value
from tubescribe.web import charts

SQL_ROWS_SHOWN = 500  # the page shows this many rows; the CSV download has them all
SEARCH_MODES = ("hybrid", "keyword", "semantic")
# No script runs on these pages, styles come from our own file, and only the Airflow UI that mounts the
# app may frame it: a title that slipped past escaping still could not run or restyle anything.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}  # ESC shows as ␛, not as nothing


def visible(value: Any) -> Any:
    """Every value a template prints: control characters shown as their Unicode pictures (␛), markup kept."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    text = value.translate({c: p for c, p in _PICTURES.items() if c not in (0x09, 0x0A)})
    return "".join(f"\\x{ord(c):02x}" if 0x80 <= ord(c) <= 0x9F else c for c in text)


def external(url: Any) -> str:
    """A link out of the catalog (a video, a moment): only http(s), so a feed's `javascript:` URL is no link."""
    text = str(url or "")
    return text if urlsplit(text).scheme.lower() in ("http", "https") else "#"


def marked(text: str, query: str) -> Markup:
    """A snippet with the query's words in <mark>; every piece of the text is escaped on its own, so it stays data."""
    pattern = match_pattern(query)
    shown = visible(text)
    if not pattern:
        return Markup.escape(shown)
    pieces, last = [], 0
    for match in pattern.finditer(shown):
        pieces += [Markup.escape(shown[last : match.start()]), Markup("<mark>%s</mark>") % match.group(0)]
        last = match.end()
    return Markup("").join([*pieces, Markup.escape(shown[last:])])


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tubescribe.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        finalize=visible,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clock=clock, external=external, json=lambda v: json_value(v), marked=marked)
    env.globals.update(bars=charts.bars, lines=charts.lines, sparkline=charts.sparkline, span=charts.span, quote=quote)
    return env


class Pages:
    """Renders templates with what every page needs: the mount's prefix for links, and the page's title."""

    def __init__(self) -> None:
        self.env = _environment()

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")

        def href(path: str, **query: Any) -> str:
            shown = {k: v for k, v in query.items() if v not in (None, "")}
            return root + path + ("?" + urlencode(shown) if shown else "")

        html = self.env.get_template(template).render(href=href, request_path=request.url.path, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def problem(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.render(request, "problem.html", status=status, title=title, message=message)


def create_app(
    settings: Callable[[], Settings] = Settings.load, *, dependencies: Sequence[Any] = (), title: str = "tubescribe"
) -> FastAPI:
    """The browser app. `settings` is called per request (settings are read when used); `dependencies` guard
    every route (the Airflow plugin passes Airflow's authentication)."""
    app = FastAPI(
        title=title, docs_url=None, redoc_url=None, openapi_url=None, dependencies=list(dependencies)
    )
    pages = Pages()
    app.mount("/static", StaticFiles(packages=[("tubescribe.web", "static")]), name="static")

    @app.exception_handler(CatalogError)
    def no_catalog(request: Request, exc: CatalogError) -> HTMLResponse:
        return pages.problem(request, 503, "The catalog cannot be read", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
        # An unknown path gets the same HTML page (and headers) as an unknown video; anything else (a 401 from
        # the guarding dependency, a 405) keeps FastAPI's own answer, which API clients expect.
        if exc.status_code == 404:
            return pages.problem(request, 404, "Not found", f"nothing at {request.url.path}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(UnknownVideo)
    def unknown_video(request: Request, exc: UnknownVideo) -> HTMLResponse:
        return pages.problem(request, 404, "No such video", str(exc))

    @app.get("/", response_class=HTMLResponse)
    def catalog(request: Request, page: int = Query(1, ge=1), channel: str | None = None) -> HTMLResponse:
        with browse.reading(settings()) as reader:
            overview = reader.overview(page, channel or None)
        return pages.render(request, "catalog.html", title="Catalog", overview=overview, channel=channel)

    @app.get("/videos/{video_id}", response_class=HTMLResponse)
    def video(request: Request, video_id: str) -> HTMLResponse:
        with browse.reading(settings()) as reader:
            shown = reader.video(video_id)
        return pages.render(request, "video.html", title=shown.video["title"], page=shown)

    @app.get("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        q: str = "",
        mode: str = Query("hybrid", pattern="^(hybrid|keyword|semantic)$"),
        channel: str = "",
        since: str = Query("", pattern=r"^(\d{4}-\d{2}-\d{2})?$"),  # the form sends "" for no date
        limit: int = Query(20, ge=1, le=200),
    ) -> HTMLResponse:
        from tubescribe.pipeline.retrieval import find

        try:
            first = date.fromisoformat(since) if since else None
        except ValueError:
            return pages.problem(request, 422, "Not a date", f"since={since!r} is not a date (YYYY-MM-DD)")
        current = settings()
        with browse.reading(current) as reader:
            channels = reader.rows("channels")
        hits, problem = [], None
        if q.strip():
            try:
                hits = find(current, q, mode=mode, channel=channel or None, since=first, limit=limit)
            except SearchError as exc:
                problem = str(exc)
        form = {"q": q, "mode": mode, "channel": channel, "since": since, "limit": limit}
        return pages.render(
            request, "search.html", status=400 if problem else 200, title="Search", hits=hits, problem=problem,
            form=form, modes=SEARCH_MODES, channels=channels,
        )  # fmt: skip

    @app.get("/topics", response_class=HTMLResponse)
    def topics(request: Request, page: int = Query(1, ge=1)) -> HTMLResponse:
        with browse.reading(settings()) as reader:
            shown = reader.topics(page)
        return pages.render(request, "topics.html", title="Topics", page=shown)

    @app.get("/topics/{topic:path}", response_class=HTMLResponse)
    def topic(request: Request, topic: str, page: int = Query(1, ge=1)) -> HTMLResponse:
        with browse.reading(settings()) as reader:
            shown = reader.topic(topic, page)
        if not shown.videos.total:
            return pages.problem(request, 404, "No such topic", f"no video in the catalog carries the topic {topic!r}")
        return pages.render(request, "topic.html", title=topic, page=shown)

    @app.get("/sql", response_class=HTMLResponse)
    def sql(request: Request, q: str = "") -> HTMLResponse:
        columns: list[str] = []
        rows: list[tuple[Any, ...]] = []
        more, problem = False, None
        current = settings()
        with browse.reading(current):  # no catalog is a 503 as on every page, not a refused question
            pass
        if q.strip():
            try:
                with stream_query(current, q) as (columns, _types, batches):
                    for batch in batches:
                        rows.extend(batch)
                        if len(rows) > SQL_ROWS_SHOWN:
                            more, rows = True, rows[:SQL_ROWS_SHOWN]
                            break
            except QueryError as exc:
                problem = str(exc)
        return pages.render(
            request, "sql.html", status=400 if problem else 200, title="SQL", q=q, columns=columns, rows=rows,
            more=more, problem=problem, shown=SQL_ROWS_SHOWN,
        )  # fmt: skip

    @app.get("/sql.csv")
    def sql_csv(request: Request, q: str) -> Response:
        # The query is opened (and checked by the sandbox) before the response starts, so a refusal is a 400
        # with its reason, not a broken download; the rows then stream, a batch at a time.
        current = settings()
        with browse.reading(current):
            pass
        stack = ExitStack()
        try:
            columns, types, batches = stack.enter_context(stream_query(current, q))
        except QueryError as exc:
            stack.close()
            return Response(f"{exc}\n", status_code=400, media_type="text/plain; charset=utf-8")

        def lines() -> Iterator[str]:
            with stack:
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(columns)
                for batch in batches:
                    writer.writerows([csv_value(v, t) for v, t in zip(row, types, strict=True)] for row in batch)
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
                yield buffer.getvalue()

        headers = {"Content-Disposition": 'attachment; filename="tubescribe-query.csv"', **SECURITY_HEADERS}
        return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)

    return app
