"""How close `tubescribe plan` comes to the run it predicts (issue 17): wall time, per-stage time, tokens, disk.

Round 1: a fresh TUBESCRIBE_HOME, so the plan has no history and uses its documented defaults
(pipeline/plan.py); then the real `tubescribe ingest` of the same URL (the backfill DAG in-process, as a
user runs it), timed from outside. Round 2: a fresh home holding only round 1's catalog and media (the
history), the same channel under a second feed URL (so five new ids), planned and ingested the same way.

Both use the loopback sample channel with its captioned pages (two of the five videos land from captions,
which a flat listing cannot tell: round 1 costs every video as Whisper, an upper bound; round 2 takes the
channel's share of captioned videos from round 1's history), default settings, the bundled tiny.en and the
local summarizer (no LLM, so no tokens to compare). "actual" per stage is the sum
of the run's `stage_runs` seconds (transcription: the workers' own time, shared out by the plan);
the wall time is the `tubescribe ingest` process, Airflow's first set-up in the home included.
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
from pathlib import Path
from typing import Any

import duckdb
from common import header, table

from tubescribe.pipeline.plan import RUN_OVERHEAD_S
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.store import Store

BIN = Path(sys.executable).parent


def tubescribe(home: Path, *args: str) -> tuple[float, str]:
    """Run the command on `home`; return its wall seconds and stdout (exit on failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUBESCRIBE_", "OPENAI_"))}
    env["TUBESCRIBE_HOME"] = str(home)
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "tubescribe"), *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"tubescribe {args[0]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return wall, done.stdout


def actual(home: Path, ids: list[str]) -> dict[str, Any]:
    """What the run cost for these videos: seconds per stage, sources, tokens, media bytes."""
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        stages = dict(
            con.execute(
                "SELECT stage, sum(seconds) FROM stage_runs WHERE list_contains(?, video_id) GROUP BY stage", [ids]
            ).fetchall()
        )
        sources = dict(
            con.execute(
                "SELECT coalesce(source, 'asr'), count(*) FROM transcripts WHERE list_contains(?, video_id) GROUP BY 1",
                [ids],
            ).fetchall()
        )
        tokens = con.execute(
            "SELECT sum(tokens_in), sum(tokens_out) FROM summaries WHERE list_contains(?, video_id)", [ids]
        ).fetchone()
    store = Store(Settings.load(home=home))
    media = sum(path.stat().st_size for video_id in ids if (path := store.media(video_id)))
    return {"stages": stages, "sources": sources, "tokens": tokens, "media": media}


def one_round(home: Path, feed: str) -> dict[str, Any]:
    plan_s, out = tubescribe(home, "plan", feed, "--format", "json")
    planned = json.loads(out)
    print(f"planned {planned['new']} new videos in {plan_s:.1f} s; ingesting", file=sys.stderr)
    wall, _ = tubescribe(home, "ingest", feed)
    ids = [v["video_id"] for v in planned["videos"] if v["action"] == "new"]
    return {"plan": planned, "plan_s": plan_s, "wall": wall, "actual": actual(home, ids)}


def pct(predicted: float, real: float) -> str:
    return f"{(predicted - real) / real * 100:+.0f} %" if real else "-"


def rows(name: str, result: dict[str, Any]) -> list[list[Any]]:
    planned, real = result["plan"], result["actual"]
    workers = planned["transcription_workers"]
    out: list[list[Any]] = []
    for stage in planned["stages"]:
        got = real["stages"].get(stage["stage"], 0.0)
        predicted = stage["seconds"]
        note = f"{stage['basis']}; {stage['seconds_per_audio_s']:.4f} s/audio s"
        if stage["stage"] == "transcribe":
            note += f"; over {workers} workers: {predicted / workers:.1f} s"
        out.append([name, f"{stage['stage']} s (work)", f"{predicted:.1f}", f"{got:.1f}", pct(predicted, got), note])
    out.append(
        [
            name,
            "wall s",
            f"{planned['wall_s']:.1f}",
            f"{result['wall']:.1f}",
            pct(planned["wall_s"], result["wall"]),
            f"`tubescribe ingest` process; the plan adds {RUN_OVERHEAD_S:.0f} s fixed",
        ]
    )
    whisper = real["sources"].get("asr", 0)
    out.append(
        [
            name,
            "transcripts",
            f"unknown {planned['transcripts']['unknown']}; Whisper for "
            f"{planned['whisper_audio_s'] / planned['audio_s'] * 100 if planned['audio_s'] else 0:.0f} % of the audio",
            f"whisper {whisper}, captions {real['sources'].get('captions', 0)}",
            "-",
            planned["captions_basis"],
        ]
    )
    tin, tout = real["tokens"]
    out.append(
        [
            name,
            "LLM tokens in/out",
            f"{planned['tokens_in']}/{planned['tokens_out']}",
            f"{tin}/{tout}",
            "-",
            "local summarizer: no LLM, no tokens",
        ]
    )
    out.append(
        [
            name,
            "media MB",
            f"{planned['media_bytes'] / 1e6:.2f}",
            f"{real['media'] / 1e6:.2f}",
            pct(planned["media_bytes"], real["media"]),
            planned["media_basis"],
        ]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    head = header("`tubescribe plan` against the real run", ["default settings, sample channel with captions"])
    first = Path(tempfile.mkdtemp(prefix="tubescribe-plan-bench-"))
    second = Path(tempfile.mkdtemp(prefix="tubescribe-plan-bench-"))
    try:
        with serve_sample_channel(captions=True) as feed:
            round1 = one_round(first, feed)
            # History only: the catalog and the media, none of the first home's Airflow state or work files.
            shutil.copy2(first / "catalog.duckdb", second / "catalog.duckdb")
            shutil.copytree(first / "media", second / "media")
            round2 = one_round(second, feed + "?round=2")
    finally:
        shutil.rmtree(first, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)
    print(head)
    print(
        table(
            ["round", "figure", "planned", "actual", "error", "basis"],
            rows("1 (no history)", round1) + rows("2 (round 1's history)", round2),
        )
    )
    print()
    print(f"planning took {round1['plan_s']:.1f} s and {round2['plan_s']:.1f} s (a process each).")


if __name__ == "__main__":
    main()
