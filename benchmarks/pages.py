"""The catalog browser's pages at scale (issue 15): every page's latency over real HTTP, and where it goes.

Builds (or, with `--home` on a folder this script built before, reuses) an embedded catalog of N videos as
semantic_search.py does: catalog_build.py's builder, then 15 passages per video into the real `embeddings`
table. Then serves it with uvicorn in a subprocess on a free 127.0.0.1 port (page_server.py: `create_app`, as
`tubescribe serve` runs it) and requests every page with one keep-alive httpx client: two untimed requests each
(the first reported apart: it pays for imports, and hybrid's first also loads the embedding model), then
`--repeats` rounds, pages interleaved within each round so load drift hits all alike; a page whose warm
requests take under CHEAP_MS gets three requests a round. Semantic search is known slow (BENCHMARKS.md 8)
and gets `--semantic-repeats`.

Where the time goes, measured in this process while the server idles: each page's data alone (the route's
calls into catalog.browse / retrieval.find / stream_query, with their connection), every SQL statement a
page runs on one open connection, opening a read-only connection, and embedding a query with the local
model (what hybrid adds before it searches). HTTP minus data is routing, rendering and transport.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from catalog_build import build
from common import header, percentile, table
from page_server import LoadWatch, get, server

from tubescribe.catalog import browse
from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.query import stream_query
from tubescribe.catalog.sql import run_sql
from tubescribe.settings import Settings

MARKER = "pages-bench.json"  # what this script built in a --home, so a later run can reuse it
CHEAP_MS = 50.0
SEARCH_WORDS = ("memory", "borrow checker", "compiler performance", "react components", "deploy to the cloud",
                "type safe")  # fmt: skip
SQL_QUERY = "SELECT video_id, title, published_at FROM videos ORDER BY published_at DESC LIMIT 100"


# --- the catalog ---------------------------------------------------------------------------------------------


def ensure_catalog(home: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Build the catalog in `home`, or reuse the one this script built there; returns what the build recorded."""
    marker = home / MARKER
    if marker.exists():
        built = json.loads(marker.read_text())
        if built["videos"] != args.videos:
            raise SystemExit(f"{home} holds a catalog of {built['videos']:,} videos, not {args.videos:,}")
        print(f"reusing the catalog in {home} (built {built['date']})", file=sys.stderr, flush=True)
        return built | {"reused": True}
    if home.exists() and any(home.iterdir()):
        raise SystemExit(f"{home} is not empty and holds no catalog of this script; give a new folder")
    from semantic_search import base_passages, fill_embeddings

    from tubescribe.stages.embed import model_name
    from tubescribe.stages.embed.local import LocalEmbedder

    settings = Settings(home=home)
    print(f"building {args.videos:,} videos in {home}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    build(settings, argparse.Namespace(videos=args.videos, seed=args.seed, segments=(10, 50), batch=500,
                                       index="build"))  # fmt: skip
    texts = base_passages()
    print(f"embedding {len(texts)} passages, then 15 per video", file=sys.stderr, flush=True)
    fill_embeddings(settings, model_name(LocalEmbedder()), texts, LocalEmbedder().passages(texts))
    built = {"videos": args.videos, "seed": args.seed, "build_s": round(time.perf_counter() - started, 1),
             "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}  # fmt: skip
    marker.write_text(json.dumps(built))
    return built | {"reused": False}


def choose(settings: Settings) -> dict[str, Any]:
    """Real ids: the video with the longest transcript, the most frequent topic, the biggest channel."""
    with contextlib.closing(connect_read_only(settings)) as con:

        def one(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        video = one(
            "SELECT video_id FROM segments WHERE video_id IN (SELECT video_id FROM summaries)"
            " GROUP BY video_id ORDER BY count(*) DESC, video_id LIMIT 1"
        )
        return {
            "video": video,
            "segments": one(f"SELECT count(*) FROM segments WHERE video_id = '{video}'"),
            "topic": one(
                "SELECT tag_normalized FROM video_tags GROUP BY 1 ORDER BY count(DISTINCT video_id) DESC, 1 LIMIT 1"
            ),
            "channel": one("SELECT channel_id FROM videos GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"),
            "videos": one("SELECT count(*) FROM videos"),
            "topics": one("SELECT count(DISTINCT tag_normalized) FROM video_tags"),
            "passages": one("SELECT count(*) FROM embeddings"),
            "postings": one("SELECT count(*) FROM search_postings"),
        }


# --- the pages -------------------------------------------------------------------------------------------------


class Page:
    """One page: its URL(s) (rotated per request), what the route computes in-process, and how many requests."""

    def __init__(self, label: str, urls: list[str], data: Callable[[int], object], queries: list[tuple]) -> None:
        self.label, self.urls, self.data, self.queries = label, urls, data, queries
        self.first: float = 0.0
        self.times: list[float] = []
        self.data_times: list[float] = []
        self.per_round = 1
        self.limit: int | None = None


def pages(settings: Settings, picked: dict[str, Any], args: argparse.Namespace) -> list[Page]:
    from tubescribe.pipeline.retrieval import find

    size = browse.PAGE_SIZE
    last = -(-picked["videos"] // size)
    topic, video, channel = picked["topic"], picked["video"], picked["channel"]

    def overview(page: int, channel_id: str | None = None) -> Callable[[int], object]:
        def call(_: int) -> object:
            with browse.reading(settings) as reader:
                return reader.overview(page, channel_id)

        return call

    def overview_queries(page: int, channel_id: str | None = None) -> list[tuple]:
        return [("newest_videos", {"channel_id": channel_id, "limit": size, "offset": (page - 1) * size}),
                ("weekly_videos", {"weeks": 26}), ("channels", {}), ("video_count", {"channel_id": channel_id}),
                ("topic_months", {"months": 12, "topics": 5}), ("failures", {"limit": 10})]  # fmt: skip

    def reader(method: str, *a: Any) -> Callable[[int], object]:
        def call(_: int) -> object:
            with browse.reading(settings) as r:
                return getattr(r, method)(*a)

        return call

    def search(mode: str) -> Callable[[int], object]:
        def call(i: int) -> object:
            with browse.reading(settings) as r:
                r.rows("channels")
            return find(settings, SEARCH_WORDS[i % len(SEARCH_WORDS)], mode=mode, limit=20)

        return call

    def sql(_: int) -> object:
        with stream_query(settings, SQL_QUERY) as (_columns, _types, batches):
            return [row for batch in batches for row in batch]

    def search_urls(mode: str) -> list[str]:
        return ["/search?" + urlencode({"q": q, "mode": mode}) for q in SEARCH_WORDS]

    one_video = [(f"browse/{n}", {"video_id": video}) for n in ("video", "video_tags", "video_general",
                                                                 "video_segments")]  # fmt: skip
    one_video.append(("queries/video_sections", {"video_id": video}))
    topic_videos = [("topic_videos", {"topic": topic, "limit": size, "offset": 0}),
                    ("topic_trends", {"topics": [topic]})]  # fmt: skip
    out = [
        Page("`/` (catalog, page 1)", ["/"], overview(1), overview_queries(1)),
        Page("`/?page=2`", ["/?page=2"], overview(2), overview_queries(2)[:1]),
        Page("`/?page=200`", ["/?page=200"], overview(200), overview_queries(200)[:1]),
        Page(f"`/?page={last}` (the last)", [f"/?page={last}"], overview(last), overview_queries(last)[:1]),
        Page(
            "`/?channel=…` (the biggest channel)",
            ["/?" + urlencode({"channel": channel})],
            overview(1, channel),
            [*overview_queries(1, channel)[:1], ("video_count", {"channel_id": channel})],
        ),
        Page(
            f"`/videos/{{id}}` ({picked['segments']} segments)", [f"/videos/{video}"], reader("video", video), one_video
        ),
        Page(
            "`/topics` (page 1)",
            ["/topics"],
            reader("topics", 1),
            [("topics", {"limit": size, "offset": 0}), ("topic_count", {}), ("topic_trends", {"topics": "page"})],
        ),
        Page("`/topics?page=2`", ["/topics?page=2"], reader("topics", 2), []),
        Page(
            "`/topics/{topic}` (the most frequent)",
            [f"/topics/{quote(topic)}"],
            reader("topic", topic, 1),
            topic_videos,
        ),
        Page("`/topics/{topic}?page=2`", [f"/topics/{quote(topic)}?page=2"], reader("topic", topic, 2), []),
        Page("`/search` keyword (6 queries, rotated)", search_urls("keyword"), search("keyword"), []),
        Page("`/search` hybrid (6 queries, rotated)", search_urls("hybrid"), search("hybrid"), []),
        Page("`/search` semantic (6 queries, rotated)", search_urls("semantic"), search("semantic"), []),
        Page("`/sql?q=…` (newest 100 videos)", ["/sql?" + urlencode({"q": SQL_QUERY})], sql, []),
    ]
    out[-2].limit = args.semantic_repeats
    if args.keyword_only:  # a catalog without passages: semantic is refused, hybrid would time keyword twice
        out = [p for p in out if "hybrid" not in p.label and "semantic" not in p.label]
    return out


def request_all(base: str, shown: list[Page], repeats: int) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        for page in shown:
            print(f"  warming {page.label}", file=sys.stderr, flush=True)
            page.first = get(client, page.urls[0])
            warm = get(client, page.urls[-1])
            page.per_round = 3 if warm * 1000 < CHEAP_MS else 1
        for r in range(repeats):
            for page in shown:
                for k in range(page.per_round):
                    if page.limit is not None and len(page.times) >= page.limit:
                        break
                    page.times.append(get(client, page.urls[(r * page.per_round + k) % len(page.urls)]))
            if r % 10 == 9:
                print(f"  round {r + 1}/{repeats}", file=sys.stderr, flush=True)


def data_all(shown: list[Page], repeats: int) -> None:
    for page in shown:
        page.data(0)  # untimed
    for r in range(repeats):
        for page in shown:
            if page.limit is not None and len(page.data_times) >= page.limit:
                continue
            started = time.perf_counter()
            page.data(r)
            page.data_times.append(time.perf_counter() - started)


def time_queries(settings: Settings, shown: list[Page], repeats: int) -> list[list[str]]:
    """Every statement a page runs, on one open read-only connection (one untimed run first)."""
    rows = []
    with contextlib.closing(connect_read_only(settings)) as con:
        topics_page = [r[0] for r in run_sql(con, "browse/topics", {"limit": browse.PAGE_SIZE, "offset": 0})]
        for page in shown:
            for name, params in page.queries:
                full = name if "/" in name else f"browse/{name}"
                if params.get("topics") == "page":
                    params = {"topics": topics_page}
                run_sql(con, full, params)
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    run_sql(con, full, params)
                    times.append(time.perf_counter() - started)
                shown_params = ", ".join(f"{k}={v}" for k, v in params.items() if k != "topics" and v is not None)
                rows.append([page.label, f"`{full}`", shown_params or "-", *ms(times)])
    from tubescribe.catalog.sandbox import sandboxed

    def sandbox() -> None:
        with sandboxed(settings):
            pass

    opening = {
        "a fresh read-only connection (`connect_read_only`; `browse.reading` shares one since 99ef470)": lambda: (
            connect_read_only(settings).close()
        ),
        "a sandboxed connection (`sandboxed`: search and SQL pages open one per request)": sandbox,
    }
    for what, call in opening.items():
        call()
        opens = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            opens.append(time.perf_counter() - started)
        rows.append(["-", f"open and close {what}", "-", *ms(opens)])
    return rows


def embedding_cost(repeats: int) -> list[float]:
    from tubescribe.stages.embed.local import LocalEmbedder

    embedder = LocalEmbedder()
    embedder.query("warm up")
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        embedder.query(SEARCH_WORDS[i % len(SEARCH_WORDS)])
        times.append(time.perf_counter() - started)
    return times


def ms(times: list[float]) -> list[str]:
    return [f"{percentile(times, p) * 1000:.1f}" for p in (50, 95)] + [f"{max(times) * 1000:.1f}"]


# --- main ------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, home: Path) -> str:
    built = ensure_catalog(home, args)
    settings = Settings(home=home)
    picked = choose(settings)
    shown = pages(settings, picked, args)
    goal = 200 if args.videos <= 10_000 else 500
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("timing the pages over HTTP", file=sys.stderr, flush=True)
    with LoadWatch() as http_load, server(home) as base:
        request_all(base, shown, args.repeats)
    print("timing the pages' data in-process, then each statement", file=sys.stderr, flush=True)
    with LoadWatch() as data_load:
        data_all(shown, max(10, args.repeats // 2))
        queries = time_queries(settings, shown, max(10, args.repeats // 2))
        embed = embedding_cost(max(10, args.repeats // 2))
    size = settings.catalog_path.stat().st_size / 1024**2
    how = "reused" if built["reused"] else "built"
    notes = [
        f"catalog {how}: {picked['videos']:,} videos ({built['seed']:,} through `load_videos`, the rest cloned),"
        f" {picked['passages']:,} passages, {picked['postings']:,} postings, {picked['topics']:,} topics,"
        f" {size:,.0f} MiB; the build took {built['build_s']:.0f} s on {built['date']}",
        f"video `{picked['video']}` ({picked['segments']} segments); topic `{picked['topic']}`; channel"
        f" `{picked['channel']}`; search words {', '.join(repr(w) for w in SEARCH_WORDS)}",
        f"load average before timing {load_before}; during the HTTP requests {http_load}; during the in-process"
        f" part {data_load}",
        f"goal: p95 < {goal} ms per page",
    ]
    head = ["page", "requests", "first ms", "p50 ms", "p95 ms", "max ms", "goal", "data alone p50", "p95"]
    body = []
    for p in shown:
        verdict = "met" if percentile(p.times, 95) * 1000 < goal else "**missed**"
        data = ms(p.data_times)[:2]
        body.append([p.label, len(p.times), f"{p.first * 1000:.0f}", *ms(p.times), verdict, *data])
    q_head = ["page", "statement", "parameters", "p50 ms", "p95 ms", "max ms"]
    return (
        "\n".join(f"- {n}" for n in notes)
        + f"\n\nOver HTTP (uvicorn subprocess, one keep-alive httpx client), {args.repeats} rounds, pages interleaved;"
        f" 'data alone' is the route's catalog work in-process ({max(10, args.repeats // 2)} calls):\n\n"
        + table(head, body)
        + "\n\nEach statement on one open connection (one untimed run first):\n\n"
        + table(q_head, queries)
        + f"\n\nEmbedding one query with the local model (hybrid and semantic do it before searching),"
        f" {len(embed)} calls after a warm-up: p50 {ms(embed)[0]} ms, p95 {ms(embed)[1]} ms, max {ms(embed)[2]} ms.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=10000, help="catalog size (default 10000; try 100000)")
    parser.add_argument("--seed", type=int, default=2000, help="videos loaded through the load task; the rest cloned")
    parser.add_argument("--repeats", type=int, default=30, help="rounds of requests (cheap pages get 3 a round)")
    parser.add_argument("--semantic-repeats", type=int, default=10, help="timed semantic searches (slow)")
    parser.add_argument("--keyword-only", action="store_true", help="leave out hybrid and semantic search")
    parser.add_argument("--home", type=Path, help="build here and keep it, or reuse what this script built there")
    parser.add_argument("--build-only", action="store_true", help="build the catalog in --home, time nothing")
    args = parser.parse_args()
    if args.build_only:
        if not args.home:
            raise SystemExit("--build-only keeps the catalog: give its --home")
        ensure_catalog(args.home, args)
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="tubescribe-pages-bench-"))
    try:
        text = run(args, home)
        print(header(f"Catalog browser pages at {args.videos:,} videos") + "\n" + text)
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
