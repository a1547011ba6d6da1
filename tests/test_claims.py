"""Two runs sharing a home never work on the same video at once, and a crashed run's claim dies with it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tubescribe.pipeline.batch import Outcome, run_stage
from tubescribe.settings import Settings
from tubescribe.store import Store

HOLD = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def _holder(claim: Path) -> subprocess.Popen[str]:
    """Another run's process holding the video's claim (as run_stage does while it works on it)."""
    claim.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(claim)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_video_in_progress_elsewhere_is_left_alone_until_its_holder_dies(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "home")
    store = Store(settings)
    touched: list[str] = []

    def work(store: Store, video_id: str) -> Outcome:
        touched.append(video_id)
        return Outcome(detail="done")

    other = _holder(store.video_dir("busy") / ".claim")
    try:
        assert run_stage(settings, ["free", "busy"], "download", work) == ["free"]
        assert touched == ["free"]
        assert store.failure("busy") is None, "another run's video is not this run's failure"
    finally:
        other.send_signal(signal.SIGKILL)  # the other run crashes: its claim goes with it
        other.wait(10)
    deadline = time.monotonic() + 5
    while "busy" not in touched and time.monotonic() < deadline:
        run_stage(settings, ["busy"], "download", work)
    assert touched == ["free", "busy"]


def test_claims_are_released_when_the_stage_ends(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "home")
    runs: list[str] = []

    def work(store: Store, video_id: str) -> Outcome:
        runs.append(video_id)
        return Outcome(detail="done")

    for _ in range(2):
        assert run_stage(settings, ["a"], "download", work) == ["a"]
    assert runs == ["a", "a"]
