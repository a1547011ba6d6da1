"""Progress events from the stages: logged always, and shown live by the CLI when it listens.

`tubescribe ingest` runs the DAG in its own process, so a listener registered here sees every
event; under the scheduler no one listens and the log lines are the record. A `Tally` folds a run's
events into what a progress display shows (counts per stage, the video now, time left); the CLI
renders it, the same for a run in this process and one followed on a deployed Airflow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tubescribe.text import clean_text

log = logging.getLogger("tubescribe.pipeline.progress")

# "started": a video (or, followed remotely, a task) entered a stage; "done", "skipped" (artifact already
# there) and "failed" end it. Followed remotely: "retrying" (a task's try ended, Airflow retries it) and
# "ended" (a task finished; its videos came as their own events).
FINISHED = ("done", "skipped", "failed")
ENDS = (*FINISHED, "retrying", "ended")


@dataclass(frozen=True)
class Event:
    video_id: str
    stage: str
    status: str  # see FINISHED and ENDS above, or "started"
    detail: str = ""
    title: str = ""  # the video's title, where the stage knows it
    audio_s: float | None = None  # the video's audio length, where known


_listeners: list[Callable[[Event], None]] = []


def listen(callback: Callable[[Event], None]) -> Callable[[], None]:
    """Register a listener; returns a function that unregisters it."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback)


def listening() -> bool:
    """Whether anyone shows the events (the CLI's run in this process); under a scheduler no one does."""
    return bool(_listeners)


def emit(
    video_id: str, stage: str, status: str, detail: str = "", *, title: str = "", audio_s: float | None = None
) -> None:
    """Report one video's progress through a stage."""
    # Details carry untrusted text (HTTP reasons, titles, model errors): no control codes in logs or terminals.
    event = Event(clean_text(video_id), stage, status, clean_text(detail), clean_text(title), audio_s)
    level = logging.WARNING if status == "failed" else logging.INFO
    log.log(level, "%s %s %s%s", stage, status, event.video_id, f": {event.detail}" if event.detail else "")
    for callback in list(_listeners):
        callback(event)


@dataclass(frozen=True)
class Estimate:
    """How far the paced stage (transcription) is: work done and in all, and the seconds left if known.

    `unit` is "s" when the work is measured in audio seconds, "videos" when no duration is known.
    """

    stage: str
    done: float
    total: float
    unit: str
    left_s: float | None


class Tally:
    """What a run has done so far, folded from its events; `clock` is injectable for tests."""

    def __init__(self, stages: Sequence[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.stages = list(stages)
        # Transcription is the long part; a run without it is paced by its first stage.
        self.paced = "transcribe" if "transcribe" in self.stages else (self.stages[0] if self.stages else "")
        self.clock = clock
        self.started = clock()
        self.selected: list[str] = []  # in the order they were chosen
        self.settled: list[str] = []  # already in the catalog with these settings
        self.failed: dict[str, str] = {}  # video (or task) -> "stage: why"
        self.titles: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.status: dict[str, dict[str, str]] = {stage: {} for stage in self.stages}
        self.working: dict[tuple[str, str], float] = {}  # (stage, video or task) -> since
        self._busy_s = 0.0  # time the paced stage had work in flight, in stretches that ended
        self._busy_since: float | None = None  # when the stretch in flight began
        self._busy_at_done = 0.0  # busy time up to the paced stage's last finished video
        self._last_done: float | None = None

    def add(self, event: Event) -> None:
        """Fold one event in."""
        now = self.clock()
        if event.title:
            self.titles.setdefault(event.video_id, event.title)
        if event.audio_s:
            self.durations[event.video_id] = event.audio_s
        if event.stage in ("discover", "select"):
            if event.status == "done" and event.video_id not in self.selected:
                self.selected.append(event.video_id)
            elif event.status == "skipped" and event.video_id not in self.settled:
                self.settled.append(event.video_id)
        if event.status == "failed":
            self.failed[event.video_id] = f"{event.stage}: {event.detail}"
        if event.stage not in self.status:
            return
        key = (event.stage, event.video_id)
        if event.status == "started":
            self.working[key] = now
        elif event.status in ENDS:
            self.working.pop(key, None)
        if event.status in FINISHED:
            self.status[event.stage][event.video_id] = event.status
        self._pace(now)
        if event.stage == self.paced and event.status == "done":
            self._busy_at_done, self._last_done = self._busy(now), now

    def _pace(self, now: float) -> None:
        busy = any(stage == self.paced for stage, _ in self.working)
        if busy and self._busy_since is None:
            self._busy_since = now
        elif not busy and self._busy_since is not None:
            self._busy_s += now - self._busy_since
            self._busy_since = None

    def _busy(self, now: float) -> float:
        return self._busy_s + (now - self._busy_since if self._busy_since is not None else 0.0)

    def elapsed(self) -> float:
        return self.clock() - self.started

    def counts(self, stage: str) -> dict[str, int]:
        """done / skipped / failed of one stage, and `of`: the selected videos that can still reach it."""
        seen = self.status.get(stage, {})
        counts = {status: sum(1 for s in seen.values() if s == status) for status in FINISHED}
        lost = self._lost_before(stage)
        counts["of"] = max(len([v for v in self.selected if v not in lost]), sum(counts.values()))
        return counts

    def _lost_before(self, stage: str) -> set[str]:
        """Videos that failed at a stage before this one: they never reach it."""
        earlier = self.stages[: self.stages.index(stage)] if stage in self.stages else []
        return {v for s in earlier for v, status in self.status[s].items() if status == "failed"}

    def current(self) -> list[tuple[str, str, float]]:
        """What is being worked on now: (stage, title or id, seconds on it), longest-running first."""
        now = self.clock()
        items = sorted(self.working.items(), key=lambda item: item[1])
        return [(stage, self.titles.get(key) or key, now - since) for (stage, key), since in items]

    def estimate(self) -> Estimate | None:
        """The paced stage's progress and, once some of it is done, the time it still needs."""
        if not self.paced:
            return None
        seen = self.status[self.paced]
        lost = self._lost_before(self.paced)
        # Videos the paced stage has (or will have) work for: not skipped there, not lost before it.
        todo = [v for v in self.selected if v not in lost and seen.get(v) not in ("skipped", "failed")]
        todo += [v for v, status in seen.items() if status == "done" and v not in todo]
        known = [self.durations[v] for v in todo if v in self.durations]
        unit = "s" if known else "videos"
        typical = sum(known) / len(known) if known else 1.0

        def size(video_id: str) -> float:
            return self.durations.get(video_id, typical) if unit == "s" else 1.0

        total = sum(size(v) for v in todo)
        done = sum(size(v) for v in todo if seen.get(v) == "done")
        left = None
        if done > 0:
            # Seconds of work per unit so far, times what is left, less what the work in flight has had.
            now = self.clock()
            rate = self._busy_at_done / done
            in_flight = 0.0
            if self._busy_since is not None:
                in_flight = now - max(self._busy_since, self._last_done or self._busy_since)
            left = max(0.0, (total - done) * rate - in_flight)
        return Estimate(self.paced, done, total, unit, left)
