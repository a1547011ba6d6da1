"""Building a synthetic catalog of N videos for catalog_scale.py: the seed through the real load task, the rest
cloned table by table (and, with `--index clone`, the seed's search index copied), and a throwaway Postgres for
a DuckLake catalog. Measuring it is catalog_scale.py's part.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import synthetic

from tubescribe.catalog import search
from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.sql import transaction
from tubescribe.settings import Settings
from tubescribe.store import Store

DERIVED_PREFIX = "search_"  # the search index, built from the other tables by search.refresh_index, never cloned
# This session's tables, not the attached in-memory database's (a DuckLake writer also sees its metadata's).
HERE = "table_catalog = current_database() AND table_schema = 'main'"
PG_BIN = next((p for v in ("17", "16", "15") if (p := Path(f"/usr/lib/postgresql/{v}/bin")).is_dir()), None)


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
        f"SELECT table_name FROM information_schema.tables WHERE {HERE} AND table_type = 'BASE TABLE'"
    ).fetchall()
    inserted = {}
    with transaction(con):
        for (name,) in tables:
            columns = [
                c
                for (c,) in con.execute(
                    f"SELECT column_name FROM information_schema.columns WHERE {HERE}"
                    " AND table_name = $t ORDER BY ordinal_position",
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


def clone_index(con: duckdb.DuckDBPyConnection, seed: int, total: int, parts: int = 64) -> int:
    """The search index of the cloned videos, copied from the seed's instead of built: a clone's documents
    are its seed's texts, so its postings are the seed's under new doc ids. Postings go in `parts`
    term ranges, each sorted, so the table ends in term order as a merge leaves it; returns documents."""
    copies = math.ceil(total / seed)
    number = "(CAST(substr(video_id, 2) AS BIGINT) + $seed * c.i)"
    [(top,)] = con.execute("SELECT max(doc_id) FROM search_docs").fetchall()
    params = {"seed": seed, "total": total, "copies": copies, "top": top}
    with transaction(con):
        con.execute(
            f"INSERT INTO search_docs SELECT doc_id + $top * c.i, 'v' || lpad(CAST({number} AS VARCHAR), 7, '0'),"
            f" kind, part, start_s, text, terms FROM search_docs, range(1, $copies) c(i) WHERE {number} < $total"
            " ORDER BY c.i, doc_id",
            params,
        )
        # Which copies of each seed document exist (the last copy may be partial).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE copies AS SELECT doc_id, c.i FROM search_docs, range(1, $copies) c(i)"
            f" WHERE doc_id <= $top AND {number} < $total",
            params,
        )
        # Term ranges of about equal postings: cut the seed's terms, in order, by running count.
        terms = con.execute("SELECT term, count(*) FROM search_postings GROUP BY term ORDER BY term").fetchall()
        step, running, bounds = sum(n for _, n in terms) / parts, 0, []
        for term, n in terms:
            if running >= step * (len(bounds) + 1):
                bounds.append(term)
            running += n
        for low, high in itertools.pairwise([None, *bounds, None]):
            con.execute(
                "INSERT INTO search_postings SELECT p.term, p.doc_id + $top * c.i, p.tf, p.len"
                " FROM search_postings p JOIN copies c USING (doc_id)"
                " WHERE ($low IS NULL OR p.term >= $low) AND ($high IS NULL OR p.term < $high)"
                " ORDER BY p.term, p.doc_id + $top * c.i",
                {"top": top, "low": low, "high": high},
            )
            print(f"  postings up to {high or 'the last term'}", file=sys.stderr, flush=True)
        con.execute("DROP TABLE copies")
        con.execute(
            "UPDATE search_index_state SET merged_rows = (SELECT count(*) FROM search_postings),"
            " docs = (SELECT count(*) FROM search_docs), terms = (SELECT sum(terms) FROM search_docs)"
        )
        [(docs,)] = con.execute("SELECT docs FROM search_index_state").fetchall()
    return int(docs)


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
    with contextlib.closing(connect_read_only(settings)) as con:
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
        if args.index == "clone" and args.videos > seed:
            docs = clone_index(con, seed, args.videos)
            what = f"search index, the seed's copied (`--index clone`, {docs:,} documents)"
        else:
            search.refresh_index(con)  # every video: what a catalog from before the search tables gets once
            [(docs,)] = con.execute("SELECT count(*) FROM search_docs").fetchall()
            what = f"search index, full build (`refresh_index`, {docs:,} documents)"
        index_s = time.perf_counter() - started
    out.append(rate(what, args.videos, rows.get("segments", 0) if args.videos > seed else segments, index_s))
    return out


@contextlib.contextmanager
def loopback_postgres() -> Iterator[str]:
    """A throwaway Postgres on 127.0.0.1 (as the `postgres` user when run as root); yields a DuckLake catalog URL.

    Its own temporary folder (the `postgres` user must reach it); stopped by its data folder, never by name.
    """
    if PG_BIN is None:
        raise SystemExit("Postgres is not installed: `apt-get install -y postgresql` (needed by --backend lake)")
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    user = "postgres" if run_as else os.environ.get("USER", "postgres")
    root = Path(tempfile.mkdtemp(prefix="tubescribe-bench-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if run_as:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8"]
    subprocess.run([*run_as, *initdb], check=True, capture_output=True)
    # The durability settings of a production server: the figure is about the lake, not a tuned-down database.
    options = f"-k {sockets} -h 127.0.0.1 -p {port}"
    start = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "-t", "60"]
    try:
        subprocess.run([*run_as, *start, "start"], check=True, capture_output=True)
        create = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres", "-q",
                  "-c", "CREATE DATABASE tubescribe"]  # fmt: skip
        subprocess.run([*run_as, *create], check=True, capture_output=True)
        yield f"postgres:host=127.0.0.1 port={port} dbname=tubescribe user={user}"
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
