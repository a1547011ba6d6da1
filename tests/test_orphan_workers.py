"""A SIGKILLed ingest takes its transcription workers with it (issue 11, item 10).

A killed parent never runs the pool's shutdown; before the fix its spawned workers lived on as
orphans (parent 1) holding their model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tubescribe.sample import SAMPLE_DIR

# Starts two workers on two sample files, prints their pids once both are busy, then waits for the work.
PARENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tubescribe.stages.transcribe import whisper as transcribe
    from tubescribe.settings import Settings

    settings = Settings.load(whisper_workers=2, whisper_cpu_threads=1)
    jobs = [("rust", Path(sys.argv[1])), ("zig", Path(sys.argv[2]))]
    with transcribe.parallel(settings, jobs) as futures:
        import multiprocessing
        while len(multiprocessing.active_children()) < 2:
            time.sleep(0.1)
        workers = [p.pid for p in multiprocessing.active_children() if p.name.startswith("SpawnProcess")]
        print(" ".join(map(str, workers)), flush=True)
        for future in futures.values():
            future.result()
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has already exited


def _transcribing(pid: int) -> bool:
    """The worker is mid-transcription: past 300 MB resident (the model is loaded; imports stay near 110 MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) > 300_000
    return False


def test_workers_die_within_seconds_of_their_parent_being_sigkilled(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUBESCRIBE_")}
    env["TUBESCRIBE_HOME"] = str(tmp_path / "home")
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(SAMPLE_DIR / "rust.webm"), str(SAMPLE_DIR / "zig.m4a")],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2, "the parent did not report two workers"
        deadline = time.monotonic() + 120
        while not all(_transcribing(pid) for pid in workers):
            assert time.monotonic() < deadline, "the workers never started transcribing"
            assert parent.poll() is None, "the parent finished before it could be killed"
            time.sleep(0.2)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        if parent.poll() is None:
            parent.kill()
    for pid in survivors:  # only the workers this test started, by pid
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], f"transcription workers {survivors} outlived their SIGKILLed parent"
