"""Catalog at scale: build a synthetic catalog of N videos, then time every view, an incremental load and search.

Building: the first `--seed` videos go through the real loader SQL (tubescribe.load.save_video / save_transcript /
save_summary, `--batch` videos per transaction, as `load_videos` does); the rest are cloned from them with one
INSERT ... SELECT per table (new ids, channels and publish dates), which is how 100k videos build in minutes.
Both throughputs are reported. Then, on a read-only connection, p50/p95 of `SELECT * FROM view LIMIT 100` and of
`SELECT count(*) FROM view` for every view; then 100 new videos loaded (upserts alone, and through the real
`load_videos` stage, which re-indexes the new videos for search in its transaction); then search latency.

`--backend lake` does the same on DuckLake: metadata in a throwaway Postgres on 127.0.0.1 (initdb in a temporary
folder, stopped by its data folder afterwards), data files in a local folder; `--backend both` builds the embedded
file and then the lake at the same size in one run and ends with the two side by side. Building the catalog
is catalog_build.py's part; this module measures it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import synthetic
from catalog_build import HERE, build, loopback_postgres, stage_and_load
from common import header, percentile, table

from tubescribe.catalog import search
from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.catalog.lake import is_lake
from tubescribe.catalog.sandbox import sandboxed
from tubescribe.catalog.sql import run_sql
from tubescribe.settings import Settings

POSTINGS_READ = "SELECT count(*) FROM search_postings WHERE term IN (SELECT unnest(search_tokens($query)))"
QUERIES = ("memory", "borrow checker", "compiler performance", "react components", "deploy to the cloud", "type safe")


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
    con = connect_read_only(settings)
    counts = [[name, f"{count(con, name):,}"] for name in table_names(con)]
    rows = []
    for (name,) in con.execute(
        f"SELECT table_name FROM information_schema.tables WHERE {HERE} AND table_type = 'VIEW' ORDER BY table_name"
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
    size = on_disk(settings) / 1024**2
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
            f"SELECT table_name FROM information_schema.tables WHERE {HERE} AND table_type = 'BASE TABLE'"
            " ORDER BY table_name"
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
    if args.skip_merge:
        return rows
    with writer(settings) as con:
        [(postings, merged)] = run_sql(con, "search/postings_stats")
        started = time.perf_counter()
        run_sql(con, "search/merge", {"format": search.INDEX_FORMAT})
        what = f"merge the postings ({postings:,}; {postings - merged:,} appended since the last merge)"
        rows.append([what, f"{time.perf_counter() - started:.2f}"])
    return rows


def search_figures(settings: Settings, repeats: int) -> tuple[str, list[float], list[float]]:
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
    return "Search:\n\n" + table(head, rows), engine, whole


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


def on_disk(settings: Settings) -> int:
    """Bytes of the catalog's files: the embedded file, or the lake's data folder (not its Postgres metadata)."""
    if not is_lake(settings):
        return settings.catalog_path.stat().st_size
    return sum(f.stat().st_size for f in Path(settings.lake_data_url or "").rglob("*") if f.is_file())


def run_backend(settings: Settings, args: argparse.Namespace, label: str) -> tuple[str, dict[str, float]]:
    """Every figure on one catalog; returns its Markdown and the headline figures for the side-by-side table."""
    started = time.perf_counter()
    if args.skip_build:
        build_s, parts = 0.0, [f"#### {label}", "Build: skipped (--skip-build), an existing catalog measured."]
    else:
        throughput = build(settings, args)
        build_s = time.perf_counter() - started
        parts = [
            f"#### {label}",
            f"Build ({args.segments[0]}-{args.segments[1]} segments per video), {build_s:.0f} s in all:\n\n"
            + table(["step", "videos", "segments", "wall s", "videos/s", "segments/s"], throughput),
        ]
    if args.skip_views:
        parts.append(f"Views: skipped (--skip-views). Catalog: {on_disk(settings) / 1024**2:.0f} MiB on disk.")
    else:
        parts.append(views(settings, args.repeats, synthetic.video_id(args.videos // 2)))
    first = args.videos
    if args.skip_build:  # new ids after every video of the kept catalog, earlier runs' included
        with contextlib.closing(connect_read_only(settings)) as con:
            [(first,)] = con.execute("SELECT count(*) FROM videos").fetchall()
    steps = incremental(settings, args, first)
    parts.append("Incremental load:\n\n" + table(["step", "wall s"], steps))
    figures = {"build_s": build_s, "writer_s": float(steps[0][1]), "batch_s": float(steps[1][1]),
               "load100_s": float(steps[2][1])}  # fmt: skip
    if not args.skip_merge:
        figures["merge_s"] = float(steps[3][1])
    if args.skip_search:
        parts.append("Search: skipped (--skip-search).")
    else:
        text, engine, whole = search_figures(settings, args.repeats)
        parts.append(text)
        figures |= {"engine_p95": percentile(engine, 95) * 1000, "search_p95": percentile(whole, 95) * 1000}
    return "\n\n".join(parts), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=2000, help="catalog size (default 2000; try 10000, 100000)")
    parser.add_argument("--seed", type=int, default=2000, help="videos loaded through the load task; the rest cloned")
    parser.add_argument("--segments", default="10,50", help="min,max segments per video (default 10,50)")
    parser.add_argument("--batch", type=int, default=500, help="videos per load_videos call while building")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per query")
    backend_help = "the embedded DuckDB file (default), DuckLake (loopback Postgres, local data), or both"
    parser.add_argument("--backend", choices=("embedded", "lake", "both"), default="embedded", help=backend_help)
    parser.add_argument("--home", type=Path, help="build here and keep it (default: a temporary folder, removed)")
    parser.add_argument("--skip-views", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-merge", action="store_true", help="do not time a full merge of the postings")
    index_help = "build: the full index build (default); clone: the seed's index copied, for 1M-video catalogs"
    parser.add_argument("--index", choices=("build", "clone"), default="build", help=index_help)
    parser.add_argument("--lake-url", help="an existing DuckLake metadata URL (e.g. postgres:host=... dbname=...)"
                        " to use instead of a throwaway Postgres; with --lake-data and --home, it is kept")  # fmt: skip
    parser.add_argument("--lake-data", type=Path, help="the data folder of --lake-url")
    parser.add_argument("--skip-build", action="store_true", help="measure the catalog already in --home/--lake-url")
    args = parser.parse_args()
    args.segments = tuple(int(x) for x in args.segments.split(","))
    if args.home and args.backend != "embedded" and not args.lake_url:
        raise SystemExit("--home keeps only an embedded catalog, or a lake given by --lake-url and --lake-data")
    if bool(args.lake_url) != bool(args.lake_data) or (args.lake_url and args.backend != "lake"):
        raise SystemExit("--lake-url and --lake-data go together, with --backend lake")
    if args.skip_build and not args.home:
        raise SystemExit("--skip-build measures a kept catalog: give its --home")
    home = args.home or Path(tempfile.mkdtemp(prefix="tubescribe-catalog-bench-"))
    if home.exists() and any(home.iterdir()) and args.home and not args.skip_build:
        raise SystemExit(f"{home} is not empty; give a new folder")
    backends = ("embedded", "lake") if args.backend == "both" else (args.backend,)
    names = {"embedded": "embedded DuckDB file", "lake": "DuckLake: metadata in loopback Postgres, data in a folder"}
    head = header(f"Catalog at {args.videos:,} videos ({', '.join(names[b] for b in backends)})")
    parts, figures = [head], {}
    try:
        for backend in backends:
            folder = home / backend
            folder.mkdir(parents=True, exist_ok=args.skip_build)
            print(f"{backend}: building {args.videos:,} videos", file=sys.stderr, flush=True)
            load = os.getloadavg()
            if backend == "embedded":
                text, figures[backend] = run_backend(Settings(home=folder), args, names[backend])
            elif args.lake_url:
                lake = replace(Settings(home=folder), catalog_url=args.lake_url, lake_data_url=str(args.lake_data))
                text, figures[backend] = run_backend(lake, args, names[backend])
            else:
                with loopback_postgres() as url:
                    lake = replace(Settings(home=folder), catalog_url=url, lake_data_url=str(folder / "lake"))
                    text, figures[backend] = run_backend(lake, args, names[backend])
            figures[backend]["load"] = load[0]
            parts.append(text)
        if len(backends) > 1:
            parts.append(side_by_side(figures, names))
        print("\n\n".join(parts))
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


def side_by_side(figures: dict[str, dict[str, float]], names: dict[str, str]) -> str:
    keys = (("load", "load average (1 min) when its build started", "{:.2f}"),
            ("build_s", "build, whole (s)", "{:.0f}"),
            ("writer_s", "open and close the writer, no changes (s)", "{:.2f}"),
            ("batch_s", "`load_videos`, one pipeline batch (s)", "{:.2f}"),
            ("load100_s", "`load_videos`, 100 new videos, search index included (s)", "{:.2f}"),
            ("merge_s", "merge the postings (s)", "{:.2f}"),
            ("engine_p95", "search p95, open connection (ms)", "{:.0f}"),
            ("search_p95", "search p95, `search.search` (ms)", "{:.0f}"))  # fmt: skip
    rows = [[label, *(fmt.format(f[key]) if key in f else "-" for f in figures.values())] for key, label, fmt in keys]
    return "Side by side:\n\n" + table(["", *(names[b] for b in figures)], rows)


if __name__ == "__main__":
    main()
