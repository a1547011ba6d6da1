"""Catalog at scale: build a synthetic catalog of N videos, then time every view, an incremental load and search.

Building: the first `--seed` videos go through the real loader SQL (tubescribe.load.save_video / save_transcript /
save_summary, `--batch` videos per transaction, as `load_videos` does); the rest are cloned from them with one
INSERT ... SELECT per table (new ids, channels and publish dates), which is how 100k videos build in minutes.
Both throughputs are reported. Then, on a read-only connection, p50/p95 of `SELECT * FROM view LIMIT 100` and of
`SELECT count(*) FROM view` for every view; then 100 new videos loaded (upserts alone, and through the real
`load_videos` stage, which re-indexes the new videos for search in its transaction); then search latency.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import synthetic
from common import header, percentile, table

from tubescribe import search
from tubescribe.catalog import run_sql, transaction, writer
from tubescribe.load import load_videos
from tubescribe.sandbox import sandboxed
from tubescribe.settings import Settings
from tubescribe.store import Store

DERIVED_PREFIX = "search_"  # the search index, built from the other tables by search.refresh_index, never cloned
POSTINGS_READ = "SELECT count(*) FROM search_postings WHERE term IN (SELECT unnest(search_tokens($query)))"
QUERIES = ("memory", "borrow checker", "compiler performance", "react components", "deploy to the cloud", "type safe")


def clone(con: duckdb.DuckDBPyConnection, seed: int, total: int) -> dict[str, int]:
    """Copy the seed videos' rows in every table until `total` videos exist; return the rows inserted per table."""
    copies = math.ceil(total / seed)
    number = "(CAST(substr(video_id, 2) AS BIGINT) + $seed * c.i)"
    new_id = f"('v' || lpad(CAST({number} AS VARCHAR), 7, '0'))"
    rewrite = {
        "video_id": new_id,
        "summary_id": f"({new_id} || substr(summary_id, length(video_id) + 1))",
        "channel_id": "(channel_id || '-' || c.i)",
        "published_at": "(published_at - to_days(CAST(c.i * 11 AS INTEGER)))",
    }
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()
    inserted = {}
    with transaction(con):
        for (name,) in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'main' AND table_name = $t ORDER BY ordinal_position",
                    {"t": name},
                ).fetchall()
            ]
            if name.startswith(DERIVED_PREFIX) or not {"video_id", "channel_id"} & set(columns):
                continue
            where = f"{number} < $total" if "video_id" in columns else "TRUE"
            # Identifiers come from the catalog's own information_schema; every value is bound.
            select = ", ".join(rewrite.get(c, f'"{c}"') for c in columns)
            cols = ", ".join(f'"{c}"' for c in columns)
            params = {"copies": copies} | ({"seed": seed, "total": total} if "video_id" in columns else {})
            sql = f'INSERT INTO "{name}" ({cols}) SELECT {select} FROM "{name}", range(1, $copies) c(i) WHERE {where}'
            inserted[name] = con.execute(sql, params).fetchone()[0]
    return inserted


def stage_and_load(settings: Settings, args: argparse.Namespace, first: int, count: int) -> tuple[float, float, int]:
    """Stage `count` videos' artifacts, then run the load task on them in batches: staging s, load s, segments."""
    store, channels = Store(settings), synthetic.channels_for(args.seed)
    started = time.perf_counter()
    ids = [synthetic.stage(store, n, channels, args.segments) for n in range(first, first + count)]
    staged = time.perf_counter()
    for i in range(0, count, args.batch):
        batch = ids[i : i + args.batch]
        result = load_videos(settings, batch, synthetic.TRANSCRIPT_KEY, synthetic.SUMMARY_KEY)
        if len(result.loaded) != len(batch):
            raise SystemExit(f"load_videos landed {len(result.loaded)} of {len(batch)}: {result}")
        if count > args.batch:
            print(f"  loaded {i + len(batch)}/{count} ({time.perf_counter() - staged:.0f} s)", file=sys.stderr)
    loaded = time.perf_counter()
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        (segments,) = con.execute(
            "SELECT count(*) FROM segments WHERE video_id >= $a AND video_id < $b",
            {"a": synthetic.video_id(first), "b": synthetic.video_id(first + count)},
        ).fetchone()
    return staged - started, loaded - staged, segments


def rate(what: str, videos: int, segments: int, seconds: float) -> list[str]:
    per_s = f"{segments / seconds:.0f}" if segments else "-"
    return [
        what,
        f"{videos:,}",
        f"{segments:,}" if segments else "-",
        f"{seconds:.1f}",
        f"{videos / seconds:.1f}",
        per_s,
    ]


def build(settings: Settings, args: argparse.Namespace) -> list[list[str]]:
    """Create the catalog: the seed through the load task, the rest cloned; return throughput rows."""
    seed = min(args.seed, args.videos)
    staging_s, load_s, segments = stage_and_load(settings, args, 0, seed)
    out = [
        rate(f"staging artifacts (not loading: {synthetic.FILES_PER_VIDEO} files per video)", seed, 0, staging_s),
        rate(f"`load_videos`, {args.batch} videos per call", seed, segments, load_s),
    ]
    if args.videos > seed:
        with writer(settings) as con:
            started = time.perf_counter()
            rows = clone(con, seed, args.videos)
            clone_s = time.perf_counter() - started
            closing = time.perf_counter()
        close_s = time.perf_counter() - closing
        what = f"bulk clone (INSERT … SELECT, {sum(rows.values()):,} rows in all)"
        out.append(rate(what, args.videos - seed, rows.get("segments", 0), clone_s))
        out.append(["then close the writer (checkpoint, publish)", "-", "-", f"{close_s:.1f}", "-", "-"])
    with writer(settings) as con:
        started = time.perf_counter()
        search.refresh_index(con)  # every video: what a catalog from before the search tables gets once
        index_s = time.perf_counter() - started
        [(docs,)] = con.execute("SELECT count(*) FROM search_docs").fetchall()
    what = f"search index, full build (`refresh_index`, {docs:,} documents)"
    out.append(rate(what, args.videos, rows.get("segments", 0) if args.videos > seed else segments, index_s))
    return out


def time_query(
    con: duckdb.DuckDBPyConnection, sql: str, repeats: int, params: dict[str, str] | None = None
) -> list[float]:
    con.execute(sql, params).fetchall()  # one untimed run: the first read pays for loading blocks from disk
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        con.execute(sql, params).fetchall()
        times.append(time.perf_counter() - started)
    return times


def views(settings: Settings, repeats: int, one_video: str) -> str:
    """Every view: its first 100 rows, its row count, and (where it has video_id) one video's rows."""
    con = duckdb.connect(str(settings.catalog_path), read_only=True)
    counts = [[name, f"{count(con, name):,}"] for name in table_names(con)]
    rows = []
    for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'main' AND table_type = 'VIEW' ORDER BY table_name"
    ).fetchall():
        head = time_query(con, f'SELECT * FROM "{name}" LIMIT 100', repeats)
        full = time_query(con, f'SELECT count(*) FROM "{name}"', repeats)
        columns = {c for (c,) in con.execute(f'SELECT column_name FROM (DESCRIBE "{name}")').fetchall()}
        timings = [head, full]
        if "video_id" in columns:
            one = f'SELECT * FROM "{name}" WHERE video_id = $id'
            timings.append(time_query(con, one, repeats, {"id": one_video}))
        cells = [f"{percentile(t, p) * 1000:.1f}" for t in timings for p in (50, 95)]
        rows.append([f"`{name}`", f"{count(con, name):,}", *cells, *["-"] * (6 - len(cells))])
    con.close()
    size = settings.catalog_path.stat().st_size / 1024**2
    head = ["view", "rows", "LIMIT 100 p50", "p95", "count(*) p50", "p95", "one video p50", "p95"]
    return (
        f"Catalog: {size:.0f} MiB on disk.\n\n"
        + table(["table", "rows"], counts)
        + f"\n\nViews, {repeats} timed runs each after one untimed run (ms); one video is"
        + f" `WHERE video_id = '{one_video}'`:\n\n"
        + table(head, rows)
    )


def count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]


def incremental(settings: Settings, args: argparse.Namespace, first: int) -> list[list[str]]:
    """The load task on new videos: one pipeline batch, then 100; and the writer's fixed cost with no changes."""
    started = time.perf_counter()
    with writer(settings):
        pass
    rows = [
        [
            "open and close the writer, no changes (lock, schema, checkpoint, publish)",
            f"{time.perf_counter() - started:.2f}",
        ]
    ]
    small = Settings.load().batch_size
    for count, what in ((small, f"one pipeline batch (TUBESCRIBE_BATCH_SIZE = {small})"), (100, "100 new videos")):
        _, load_s, _ = stage_and_load(settings, argparse.Namespace(**{**vars(args), "batch": count}), first, count)
        rows.append([f"`load_videos`, search index included: {what}", f"{load_s:.2f}"])
        first += count
    with writer(settings) as con:
        [(postings, merged)] = run_sql(con, "search/postings_stats")
        started = time.perf_counter()
        run_sql(con, "search/merge", {"format": search.INDEX_FORMAT})
        what = f"merge the postings ({postings:,}; {postings - merged:,} appended since the last merge)"
        rows.append([what, f"{time.perf_counter() - started:.2f}"])
    return rows


def search_figures(settings: Settings, repeats: int) -> str:
    """Each query on one open sandboxed connection (the engine's latency, as the views are measured), and as
    `search.search`, which also opens that connection (and loads fts for its stemmer) on every call."""
    rows, engine, whole = [], [], []
    with sandboxed(settings) as con:
        for query in QUERIES:
            hits = search.search_on(con, query)  # untimed first run
            on_open = time_call(lambda q=query: search.search_on(con, q), repeats)
            fresh = time_call(lambda q=query: search.search(settings, q), repeats)
            engine += on_open
            whole += fresh
            [(postings,)] = con.execute(POSTINGS_READ, {"query": query}).fetchall()
            rows.append([f"`{query}`", len(hits), f"{postings:,}", *ms(on_open, fresh)])
    rows.append(["**all queries**", "-", "-", *ms(engine, whole)])
    head = ["query (limit 10)", "hits", "postings scored", "open conn. p50 ms", "p95", "`search.search` p50", "p95"]
    return "Search:\n\n" + table(head, rows)


def ms(*samples: list[float]) -> list[str]:
    """p50 and p95 of each sample, in milliseconds."""
    return [f"{percentile(t, p) * 1000:.0f}" for t in samples for p in (50, 95)]


def time_call(call: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=2000, help="catalog size (default 2000; try 10000, 100000)")
    parser.add_argument("--seed", type=int, default=2000, help="videos loaded through the load task; the rest cloned")
    parser.add_argument("--segments", default="10,50", help="min,max segments per video (default 10,50)")
    parser.add_argument("--batch", type=int, default=500, help="videos per load_videos call while building")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per query")
    parser.add_argument("--home", type=Path, help="build here and keep it (default: a temporary folder, removed)")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    args.segments = tuple(int(x) for x in args.segments.split(","))
    home = args.home or Path(tempfile.mkdtemp(prefix="tubescribe-catalog-bench-"))
    if home.exists() and any(home.iterdir()) and args.home:
        raise SystemExit(f"{home} is not empty; give a new folder")
    settings = Settings(home=home)
    head = header(f"Catalog at {args.videos:,} videos")
    try:
        throughput = build(settings, args)
        parts = [
            head,
            f"Build ({args.segments[0]}-{args.segments[1]} segments per video):\n\n"
            + table(["step", "videos", "segments", "wall s", "videos/s", "segments/s"], throughput),
            views(settings, args.repeats, synthetic.video_id(args.videos // 2)),
            "Incremental load:\n\n" + table(["step", "wall s"], incremental(settings, args, args.videos)),
        ]
        parts.append("Search: skipped (--skip-search)." if args.skip_search else search_figures(settings, args.repeats))
        print("\n\n".join(parts))
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
