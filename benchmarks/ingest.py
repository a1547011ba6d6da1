"""The whole ingest against faster-whisper alone, side by side: the figure behind "ingest in ≤ 0.6 × faster-whisper".

Each repeat runs, in alternating order:
- `tubescribe ingest FEED` (the real backfill DAG, in-process as the CLI does it) over the loopback sample channel
  into a fresh catalog, media and work folder (the Airflow metadata database is initialised once beforehand,
  untimed, and kept: first use is a one-off);
- faster-whisper alone: one process that loads the model and transcribes the same five files sequentially with
  beam 5 and VAD (the pipeline's defaults, called directly);
- the ceiling: two single-threaded worker processes running faster-whisper's batched pipeline (batch 8, beam 5,
  VAD), the files split between them, timed from the first transcription's start to the last one's end (model
  loads not counted): the throughput the ingest is held to (≥ 0.7 ×).
Both are timed as whole processes. The ingest uses the environment's TUBESCRIBE_* settings, so a candidate
default can be tried without code changes, e.g. `TUBESCRIBE_WHISPER_BEAM_SIZE=1 python benchmarks/ingest.py`.
WER of each against the source texts (normalised as tests/test_e2e.py does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import duckdb
from common import REPO, header, median, table, wer
from transcription import Config, reference, run_config, sample_files

from tubescribe.sample import serve_sample_channel

BIN = Path(sys.executable).parent


def ingest_once(home: Path, feed: str) -> tuple[float, dict[str, str], float]:
    """One ingest into `home` (keeping its Airflow database); return wall s, transcripts, transcription s."""
    for child in home.iterdir():
        if child.is_dir() and child.name != "airflow":
            shutil.rmtree(child)
        elif child.is_file():
            child.unlink()
    env = os.environ | {"TUBESCRIBE_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "tubescribe"), "ingest", feed], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tubescribe ingest failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        texts = dict(con.execute("SELECT video_id, text FROM transcripts").fetchall())
        (transcribing,) = con.execute("SELECT sum(elapsed_s) FROM transcripts").fetchone()
    return wall, texts, transcribing


def whisper_once(files: list[str]) -> tuple[float, dict[str, str], float]:
    """faster-whisper alone in a fresh process; return wall s (with model load), transcripts, transcription s."""
    command = [sys.executable, str(Path(__file__).with_name("transcription.py"))]
    command += ["--worker", json.dumps(asdict(Config())), "--files", ",".join(files)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, result["texts"], result["end"] - result["start"]


def initialise_airflow(home: Path) -> float:
    code = (
        "from tubescribe import airflow_env; from tubescribe.settings import Settings; "
        "s = Settings.load(); airflow_env.configure(s); airflow_env.initialise(s)"
    )
    started = time.perf_counter()
    env = os.environ | {"TUBESCRIBE_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--files", help="comma-separated sample video ids (default: all five)")
    args = parser.parse_args()
    files = list(sample_files(args.files.split(",") if args.files else None))
    settings = {k: v for k, v in sorted(os.environ.items()) if k.startswith("TUBESCRIBE_") and k != "TUBESCRIBE_HOME"}
    notes = [f"ingest settings from the environment: {settings or 'none (defaults)'}"]
    head = header("Whole ingest vs faster-whisper alone", notes)
    home = Path(tempfile.mkdtemp(prefix="tubescribe-ingest-bench-"))
    runs: dict[str, list[tuple[float, dict[str, str], float]]] = {"ingest": [], "whisper": [], "ceiling": []}
    paths = sample_files(args.files.split(",") if args.files else None)
    try:
        init_s = initialise_airflow(home)
        with serve_sample_channel(only=args.files.split(",") if args.files else None) as feed:
            for r in range(args.repeats):
                order = ["ingest", "whisper", "ceiling"] if r % 2 == 0 else ["ceiling", "whisper", "ingest"]
                for name in order:
                    if name == "ceiling":
                        result = run_config(Config.parse("workers2+batch8"), paths, r + 1)
                        run = (result["wall"], result["texts"], result["wall"])
                    else:
                        run = ingest_once(home, feed) if name == "ingest" else whisper_once(files)
                    runs[name].append(run)
                    print(f"  repeat {r + 1}/{args.repeats} {name}: {run[0]:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    refs = [reference(v) for v in files]
    rows = []
    labels = (
        ("ingest", "`tubescribe ingest` (whole DAG)"),
        ("whisper", "faster-whisper alone"),
        ("ceiling", "ceiling: 2 workers × 1 thread, batched (8)"),
    )
    for name, label in labels:
        walls = [w for w, _, _ in runs[name]]
        errors = [wer(refs, [texts[v] for v in files]) for _, texts, _ in runs[name]]
        rows.append(
            [label, f"{median(walls):.1f}", f"{median([t for _, _, t in runs[name]]):.1f}", f"{median(errors):.3f}"]
        )
    ratio = median([i[0] / w[0] for i, w in zip(runs["ingest"], runs["whisper"], strict=True)])
    # Same audio on both sides, so the throughput ratio is the inverse ratio of wall times.
    throughput = median([c[0] / i[0] for i, c in zip(runs["ingest"], runs["ceiling"], strict=True)])
    print(
        head
        + f"{len(files)} file(s); median of {args.repeats} run(s); Airflow set up first ({init_s:.0f} s).\n\n"
        + table(["run", "wall s (process)", "of which transcribing s", "WER (median)"], rows)
        + f"\n\ningest / faster-whisper alone: **{ratio:.2f}** (median of per-run ratios; goal ≤ 0.6, "
        + "WER within 0.02)"
        + f"\n\ningest throughput / ceiling: **{throughput:.2f}** (median of per-run ratios; goal ≥ 0.7)"
    )


if __name__ == "__main__":
    main()
