"""A run's progress on screen: live on a terminal, one plain line per finished video-stage elsewhere.

The counting and the estimate are the pipeline's (pipeline/progress.py, no rich there); this draws them.
Untrusted text (titles, error messages) goes through terminal.safe like every other output.
"""

from __future__ import annotations

import threading

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from tubescribe.cli.terminal import print_line, safe
from tubescribe.pipeline.progress import FINISHED, Estimate, Event, Tally
from tubescribe.text import clock

MARKS = {"done": ("✓", "green"), "skipped": ("·", "dim"), "failed": ("✗", "red"), "retrying": ("↻", "yellow")}


class RunDisplay:
    """A run's progress: live on a terminal (counts per stage, the video now, elapsed, time left), above it
    one line per finished video-stage; off a terminal (a pipe, CI) those lines only, plain.

    Use as a context manager and feed it events with `show`; the `tally` holds what the run did.
    """

    def __init__(self, out: Console, tally: Tally) -> None:
        self.live = out.is_terminal and not out.is_dumb_terminal
        # Bound to the terminal now: while a DAG runs in this process, sys.stdout goes to Airflow's log file.
        self.out = Console(
            file=out.file,
            force_terminal=out.is_terminal,
            color_system=out.color_system or None,  # type: ignore[arg-type]  # the name it detected
            no_color=out.no_color,
            width=out.width,
            soft_wrap=not self.live,  # a plain line is one line, however long
            highlight=False,
        )
        self.tally = tally
        self._lock = threading.Lock()  # the refresh thread renders the tally while events change it
        self._live: Live | None = None

    def __enter__(self) -> RunDisplay:
        if self.live:
            # The display is the renderable: drawn from the tally each time, so a line printed above it
            # never leaves it a refresh behind.
            self._live = Live(
                self,
                console=self.out,
                refresh_per_second=4,
                redirect_stdout=False,  # the in-process run redirects them itself, to its log file
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        else:
            print_line(self.out, self.summary())

    def refresh(self) -> None:
        """Draw the live display now (it redraws itself four times a second too)."""
        if self._live is not None:
            self._live.refresh()

    def show(self, event: Event) -> None:
        """Take one event in; print its line if it ends a video's stage."""
        with self._lock:
            self.tally.add(event)
        # Printed outside the lock: on a terminal, printing redraws the live display, which takes it.
        if event.status in (*FINISHED, "retrying"):
            mark, colour = MARKS[event.status]
            detail = safe(event.detail, "" if event.status == "failed" else "dim")
            print_line(self.out, Text(mark, colour), f" {event.stage:<10} {event.video_id}  ", detail)
        else:
            self.refresh()  # a video started: show it now, not at the next tick

    def summary(self) -> Text:
        """One line: what each stage did, and how long the run took."""
        parts = []
        for stage in self.tally.stages:
            counts = self.tally.counts(stage)
            said = ", ".join(f"{counts[s]} {s}" for s in FINISHED if counts[s])
            parts.append(f"{stage} {sum(counts[s] for s in FINISHED)}/{counts['of']}" + (f" ({said})" if said else ""))
        return Text(f"finished in {clock(self.tally.elapsed())}: " + "; ".join(parts))

    def __rich__(self) -> RenderableType:
        with self._lock:
            tally = self.tally
            rows = Table.grid(padding=(0, 1))
            for stage in tally.stages:
                counts = tally.counts(stage)
                finished = sum(counts[s] for s in FINISHED)
                line = Text(f"{finished}/{counts['of']}  ")
                line.append(f"{counts['done']} done", "green")
                line.append(f" · {counts['skipped']} skipped", "dim")
                line.append(f" · {counts['failed']} failed", "red" if counts["failed"] else "dim")
                bar = ProgressBar(total=max(counts["of"], 1), completed=finished, width=24)
                rows.add_row(Text(f"{stage:<10}"), bar, line)
            now = Table.grid(padding=(0, 1))
            for stage, what, seconds in tally.current()[:3]:
                title = safe(what, "bold")
                title.no_wrap, title.overflow = True, "ellipsis"  # a long title must not grow the display
                now.add_row(Spinner("dots", style="cyan"), Text(f"{stage:<10}"), title, Text(clock(seconds), "dim"))
            footer = Text(f"elapsed {clock(tally.elapsed())}", "dim")
            estimate = tally.estimate()
            if estimate is not None and estimate.total:
                footer.append(" · " + eta_text(estimate), "dim")
            return Group(*([now] if now.row_count else []), rows, footer)


def eta_text(estimate: Estimate) -> str:
    """`transcribe 2:03 of 5:10 audio, about 3:00 left`: the paced stage's progress and time left."""
    if estimate.unit == "s":
        said = f"{estimate.stage} {clock(estimate.done)} of {clock(estimate.total)} audio"
    else:
        said = f"{estimate.stage} {estimate.done:.0f} of {estimate.total:.0f} videos"
    if estimate.done >= estimate.total:
        return said
    left = "estimating time left" if estimate.left_s is None else f"about {clock(estimate.left_s)} left"
    return f"{said}, {left}"
