"""Helpers shared by the benchmark scripts: the run header, Markdown tables, percentiles, WER, peak RSS."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


def header(title: str, notes: Sequence[str] = ()) -> str:
    """What a figure needs to be reproduced: the exact command, when, on what, under what load."""
    mem = psutil.virtual_memory().total / 1024**3
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    versions = []
    for name in ("faster_whisper", "ctranslate2", "duckdb"):
        with contextlib.suppress(ImportError):
            versions.append(f"{name} {__import__(name).__version__}")
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    return "\n".join(
        [
            f"### {title}",
            "",
            f"- command: `{command}`",
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit or 'unknown'}",
            f"- machine: {os.cpu_count()} logical cores ({psutil.cpu_count(logical=False)} physical), "
            f"{mem:.1f} GiB memory, {platform.processor() or platform.machine()}; load average at start {load}",
            f"- {', '.join(versions)}",
            *(f"- {note}" for note in notes),
            "",
        ]
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats keep what the caller formatted them to."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): with few samples p95 is simply the slowest but one or two."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def words(text: str) -> list[str]:
    """The normalisation of tests/test_e2e.py: lower case, hyphens split, punctuation dropped."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus word error rate (errors over all files / reference words over all files)."""
    import jiwer

    return float(jiwer.wer([" ".join(words(r)) for r in references], [" ".join(words(h)) for h in hypotheses]))


def run_processes(commands: Sequence[Sequence[str]], poll_s: float = 0.05) -> tuple[list[dict[str, Any]], int]:
    """Run worker processes at once; return each one's JSON result and the peak of their summed RSS (bytes).

    Each worker prints one JSON object as its last stdout line, including its own kernel-tracked peak
    (`maxrss`), which catches spikes between polls.
    """
    procs = [psutil.Popen(list(cmd), stdout=subprocess.PIPE, text=True) for cmd in commands]
    outputs: list[str] = ["" for _ in procs]

    def drain(i: int) -> None:
        assert procs[i].stdout is not None
        outputs[i] = procs[i].stdout.read()

    readers = [threading.Thread(target=drain, args=(i,), daemon=True) for i in range(len(procs))]
    for reader in readers:
        reader.start()
    peak = 0
    while any(p.poll() is None for p in procs):
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):  # it exited between poll() and memory_info()
                total += p.memory_info().rss
        peak = max(peak, total)
        time.sleep(poll_s)
    for reader in readers:
        reader.join()
    results = []
    for p, out in zip(procs, outputs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"worker {shlex.join(p.args)} exited with {p.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    # For one worker its own high-water mark is exact; for several, the polled sum is what was resident at once.
    return results, max(peak, *(r["maxrss"] for r in results))


def maxrss() -> int:
    """This process's peak RSS in bytes, as the kernel tracked it.

    Linux's VmHWM belongs to the current address space; getrusage's ru_maxrss would also count the
    parent's peak, which a child inherits across fork and exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
        if found:
            return int(found.group(1)) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def write_wav(path: Path, samples: object) -> None:
    """16 kHz mono 16-bit PCM, with the standard library only."""
    import wave

    import numpy as np

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm.tobytes())
