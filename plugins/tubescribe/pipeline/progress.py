"""Progress events from the stages: logged always, and shown live by the CLI when it listens.

`tubescribe ingest` runs the DAG in its own process, so a listener registered here sees every
event; under the scheduler no one listens and the log lines are the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tubescribe.text import clean_text

log = logging.getLogger("tubescribe.pipeline.progress")


@dataclass(frozen=True)
class Event:
    video_id: str
    stage: str
    status: str  # "done", "skipped" (artifact already there) or "failed"
    detail: str = ""


_listeners: list[Callable[[Event], None]] = []


def listen(callback: Callable[[Event], None]) -> Callable[[], None]:
    """Register a listener; returns a function that unregisters it."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback)


def emit(video_id: str, stage: str, status: str, detail: str = "") -> None:
    """Report one video's progress through a stage."""
    # Details carry untrusted text (HTTP reasons, titles, model errors): no control codes in logs or terminals.
    event = Event(clean_text(video_id), stage, status, clean_text(detail))
    level = logging.WARNING if status == "failed" else logging.INFO
    log.log(level, "%s %s %s%s", stage, status, event.video_id, f": {event.detail}" if event.detail else "")
    for callback in list(_listeners):
        callback(event)
