"""Processes named by pid and start time, for the loopback cluster's launcher (scripts/cluster.py).

A pid alone can be reused once its process is gone; with the start time from /proc it names one
process, so the launcher stops exactly what it started and never a stranger. Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks (with the pid, it names one process even if pids are reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited
        return None
    return int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """The root and every process below it, by pid, with start times."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        start = start_time(pid)
        if start is not None and pid not in found:
            found[pid] = start
            todo.extend(children.get(pid, []))
    return found


def write_pid(path: Path, pid: int) -> None:
    path.write_text(f"{pid} {start_time(pid)}\n")


def read_pid(path: Path) -> tuple[int, int] | None:
    try:
        pid, start = path.read_text().split()
        return int(pid), int(start)
    except (OSError, ValueError):
        return None


def wait_gone(procs: dict[int, int], timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(start_time(p) == s for p, s in procs.items()):
        time.sleep(0.2)


def kill_tree(root: int) -> list[int]:
    """SIGKILL a process and everything below it at once (what a machine losing power does); the pids killed."""
    family = descendants(root)
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_gone(family, 10)
    return list(family)
