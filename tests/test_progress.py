"""The progress display of a run: live on a terminal, plain lines in a pipe, the same for a remote run.

Events go through a real rich Console writing into a StringIO (as a terminal, and not), with a clock
the test moves, and the assertions are on what a user would read there.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from rich.console import Console

from tubescribe.cli.live import RunDisplay, eta_text
from tubescribe.orchestration import remote
from tubescribe.pipeline import progress
from tubescribe.pipeline.progress import Event, Tally

ESC = "\x1b"
STAGES = ("download", "transcribe", "summarize", "load")
HOSTILE = "[red]boo[/red] [link=https://evil.example/]click me[/link]"
CONTROLS = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, cursor moves and line erases: rich's own


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal(width: int = 120) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, highlight=False), out


def pipe() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, highlight=False), out


def last_frame(written: str) -> str:
    """The live display as it was last drawn, without colours or cursor moves."""
    # Each redraw starts by returning to the first column and erasing upwards.
    return CONTROLS.sub("", written.split("\r")[-1])


def two_videos(display: RunDisplay, clock: Clock) -> None:
    """Two selected videos: `a` (100 s of audio) downloaded and transcribed in 20 s, `b` (300 s) under way."""
    display.show(Event("a", "discover", "done", "A video"))
    display.show(Event("b", "discover", "done", "B video"))
    display.show(Event("a", "download", "started", title=HOSTILE, audio_s=100))
    display.show(Event("a", "download", "done", "1.0 MB in 0.2 s", audio_s=100))
    display.show(Event("b", "download", "started", title="B video", audio_s=300))
    display.show(Event("b", "download", "skipped", "already done"))
    clock.now += 10
    display.show(Event("a", "transcribe", "started", title=HOSTILE, audio_s=100))
    clock.now += 20
    display.show(Event("a", "transcribe", "done", "100 s of audio, 12 segments in 20.0 s", audio_s=100))
    display.show(Event("b", "transcribe", "started", title="B video", audio_s=300))
    clock.now += 10


def test_a_terminal_shows_counts_per_stage_the_video_now_elapsed_and_time_left() -> None:
    clock = Clock()
    console, out = terminal()
    with RunDisplay(console, Tally(STAGES, clock=clock)) as display:
        two_videos(display, clock)
        display.refresh()
        frame = last_frame(out.getvalue())
    assert re.search(r"transcribe +B video +0:10", frame), frame
    assert re.search(r"download .*2/2 +1 done · 1 skipped · 0 failed", frame), frame
    assert re.search(r"transcribe .*1/2 +1 done · 0 skipped · 0 failed", frame), frame
    assert re.search(r"summarize .*0/2 +0 done", frame), frame
    # 20 s for 100 s of audio; 300 s to go, 10 s of which are under way: 50 s left.
    assert "elapsed 0:40 · transcribe 1:40 of 6:40 audio, about 0:50 left" in frame, frame
    # Finished stages still print their line above the display.
    assert "download   a  1.0 MB in 0.2 s" in CONTROLS.sub("", out.getvalue())


def test_a_title_with_markup_is_shown_as_written_and_links_nothing() -> None:
    clock = Clock()
    console, out = terminal(width=160)
    with RunDisplay(console, Tally(STAGES, clock=clock)) as display:
        display.show(Event("a", "discover", "done", "A video"))
        display.show(Event("a", "transcribe", "started", title=HOSTILE, audio_s=100))
        frame = last_frame(out.getvalue())
    assert f"transcribe {HOSTILE}" in frame, frame
    assert f"{ESC}]8;" not in out.getvalue()  # no live hyperlink


def test_a_long_title_is_cut_to_one_line_and_the_display_keeps_its_height() -> None:
    clock = Clock()
    console, out = terminal(width=80)
    with RunDisplay(console, Tally(STAGES, clock=clock)) as display:
        display.show(Event("a", "discover", "done", "A video"))
        display.show(Event("a", "transcribe", "started", title="very long title " * 20, audio_s=100))
        frame = last_frame(out.getvalue())
    # The video now, a row per stage, the footer; nothing wider than the terminal.
    assert len(frame.splitlines()) == 1 + len(STAGES) + 1, frame
    assert "very long title very" in frame and "…" in frame.splitlines()[0], frame
    assert max(map(len, frame.splitlines())) <= 80, frame


def test_in_a_pipe_each_finished_stage_is_one_plain_line() -> None:
    clock = Clock()
    console, out = pipe()
    with RunDisplay(console, Tally(STAGES, clock=clock)) as display:
        two_videos(display, clock)
        display.show(Event("b", "transcribe", "failed", f"permanent: TranscribeError: {HOSTILE}"))
    written = out.getvalue()
    assert ESC not in written and "\r" not in written
    assert written.splitlines() == [
        "✓ discover   a  A video",
        "✓ discover   b  B video",
        "✓ download   a  1.0 MB in 0.2 s",
        "· download   b  already done",
        "✓ transcribe a  100 s of audio, 12 segments in 20.0 s",
        f"✗ transcribe b  permanent: TranscribeError: {HOSTILE}",
        "finished in 0:40: download 2/2 (1 done, 1 skipped); transcribe 2/2 (1 done, 1 failed); "
        "summarize 0/1; load 0/1",
    ]


def test_a_video_lost_at_one_stage_is_not_waited_for_at_the_next() -> None:
    tally = Tally(STAGES, clock=Clock())
    for video_id in ("a", "b", "c"):
        tally.add(Event(video_id, "discover", "done"))
    tally.add(Event("c", "download", "failed", "permanent: 404"))
    assert tally.counts("download") == {"done": 0, "skipped": 0, "failed": 1, "of": 3}
    assert tally.counts("transcribe")["of"] == 2
    assert tally.failed == {"c": "download: permanent: 404"}


def test_the_estimate_counts_audio_seconds_and_leaves_out_what_needs_no_work() -> None:
    clock = Clock()
    tally = Tally(STAGES, clock=clock)
    for video_id, seconds in (("a", 60.0), ("b", 120.0), ("c", 600.0)):
        tally.add(Event(video_id, "discover", "done"))
        tally.add(Event(video_id, "download", "started", audio_s=seconds))
        tally.add(Event(video_id, "download", "done", audio_s=seconds))
    tally.add(Event("c", "transcribe", "skipped", "already done"))  # transcribed before: no work, no time
    assert eta_text(tally.estimate()) == "transcribe 0:00 of 3:00 audio, estimating time left"
    tally.add(Event("a", "transcribe", "started"))
    clock.now += 30
    tally.add(Event("a", "transcribe", "done", audio_s=60.0))
    assert eta_text(tally.estimate()) == "transcribe 1:00 of 3:00 audio, about 1:00 left"
    tally.add(Event("b", "transcribe", "started"))
    clock.now += 45
    assert eta_text(tally.estimate()) == "transcribe 1:00 of 3:00 audio, about 0:15 left"
    clock.now += 30  # slower than the first: the estimate says no time left rather than a negative one
    assert tally.estimate().left_s == 0


def test_without_durations_the_estimate_counts_videos() -> None:
    clock = Clock()
    tally = Tally(STAGES, clock=clock)
    for video_id in ("a", "b", "c", "d"):
        tally.add(Event(video_id, "discover", "done"))
    tally.add(Event("transcribe[0]", "transcribe", "started"))
    clock.now += 40
    tally.add(Event("a", "transcribe", "done"))
    tally.add(Event("b", "transcribe", "done"))
    tally.add(Event("transcribe[0]", "transcribe", "ended"))
    assert eta_text(tally.estimate()) == "transcribe 2 of 4 videos, about 0:40 left"


def test_events_carry_title_and_length_and_no_control_codes() -> None:
    seen: list[Event] = []
    stop = progress.listen(seen.append)
    try:
        assert progress.listening()
        progress.emit("v1", "transcribe", "started", title=f"clear{ESC}[2J me", audio_s=12.5)
    finally:
        stop()
    assert not progress.listening()
    assert seen == [Event("v1", "transcribe", "started", "", "clear[2J me", 12.5)]


# -- a run followed on a deployed Airflow: a scripted API server on loopback ----------------------------
def _ti(task_id: str, state: str, map_index: int = -1) -> dict[str, Any]:
    return {"task_id": task_id, "map_index": map_index, "state": state, "try_number": 1, "hostname": "worker-1"}


FINISHED_TASKS = [
    ("discover_urls", -1),
    ("download", 0),
    ("transcribe", 0),
    ("summarize", 0),
    ("load", 0),
    ("report", -1),
]
# What the API answers at each poll: the run's state and its task instances.
POLLS = [
    ("running", [_ti("discover_urls", "running")]),
    ("running", [_ti("discover_urls", "success"), _ti("download", "running", 0)]),
    ("running", [_ti("discover_urls", "success"), _ti("download", "success", 0), _ti("transcribe", "running", 0)]),
    ("success", [_ti(task, "success", index) for task, index in FINISHED_TASKS]),
]
XCOMS = {
    "discover_urls": [["v1", "v2"]],
    "download": ["v1", "v2"],
    "transcribe": ["v1", "v2"],
    "summarize": ["v1", "v2"],
    "load": {"loaded": ["v1"], "failed": ["v2"], "pending": []},
}


class _ScriptedAirflow(BaseHTTPRequestHandler):
    polls: ClassVar[list[tuple[str, list[dict[str, Any]]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["auth", "token"]:
            return self._send({"access_token": "scripted"})
        if self.headers.get("Authorization") != "Bearer scripted":
            return self._send({"detail": "no token"}, 401)
        if parts[-1] == "return_value":
            task = parts[parts.index("taskInstances") + 1]
            return self._send({"value": XCOMS[task]}) if task in XCOMS else self._send({"detail": "none"}, 404)
        if parts[-1] == "taskInstances":
            offset = int(parse_qs(url.query).get("offset", ["0"])[0])
            rows = self.server.current[1]  # type: ignore[attr-defined]
            return self._send({"task_instances": rows[offset:], "total_entries": len(rows)})
        if parts[-2] == "dagRuns":  # the run's state: each read is the next poll
            self.server.current = self.polls.pop(0)  # type: ignore[attr-defined]
            return self._send({"state": self.server.current[0]})  # type: ignore[attr-defined]
        self._send({"detail": "not scripted"}, 404)

    def _send(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def scripted_airflow() -> Iterator[str]:
    _ScriptedAirflow.polls = list(POLLS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_run_feeds_the_same_display_from_task_states_and_their_ids() -> None:
    clock = Clock()
    console, out = pipe()
    tally = Tally(STAGES, clock=clock)
    seen: list[Event] = []
    with scripted_airflow() as url, remote.AirflowClient(url) as client:
        run = remote.RemoteRun(client, "tubescribe_backfill", "run-1", poll_s=0.0)
        with RunDisplay(console, tally) as display:
            for event in run.events():
                seen.append(event)
                display.show(event)
                if (event.video_id, event.status) == ("transcribe[0]", "started"):
                    assert [what for _, what, _ in tally.current()] == ["transcribe[0]"]
    assert run.state == "success"
    assert tally.selected == ["v1", "v2"] and tally.failed == {"v2": "load: failed: see the catalog's ingest_failures"}
    assert tally.current() == []  # every task ended
    written = out.getvalue()
    assert ESC not in written and "\r" not in written
    assert "✓ transcribe v1  on worker-1" in written.splitlines()
    assert written.splitlines()[-1] == (
        "finished in 0:00: download 2/2 (2 done); transcribe 2/2 (2 done); summarize 2/2 (2 done); "
        "load 2/2 (1 done, 1 failed)"
    )
    assert eta_text(tally.estimate()) == "transcribe 2 of 2 videos"


# -- a real ingest through the CLI -------------------------------------------------------------------
def tubescribe(home: Path, *args: str, tty: bool) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_", "OPENAI_"))}
    environment.update({"TUBESCRIBE_HOME": str(home), "COLUMNS": "200", "TUBESCRIBE_STAGE_RETRIES": "0"})
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM"):
        environment.pop(name, None)
    if tty:  # rich's own switch for "this is a terminal"
        environment.update({"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"})
    return subprocess.run(
        [sys.executable, "-m", "tubescribe.cli.app", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_an_ingest_in_a_pipe_prints_plain_lines_per_finished_stage(tmp_path: Path) -> None:
    from helpers_feed import serve
    from tubescribe.stages.discover import feed_item_id

    with serve(only=["rust", "react"]) as server:
        server.fail("react.mp4", "not_found")
        done = tubescribe(tmp_path / "home", "ingest", server.feed_url, tty=False)
    rust, react = (feed_item_id(server.feed_url, guid) for guid in ("rust", "react"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert ESC not in done.stdout and "\r" not in done.stdout
    lines = done.stdout.splitlines()
    assert f"✓ discover   {rust}  Rust in 100 Seconds" in lines
    assert any(line.startswith(f"✗ download   {react}  ") and "404" in line for line in lines), done.stdout
    for stage in ("download", "transcribe", "summarize", "embed", "load"):
        assert sum(line.startswith(f"✓ {stage:<10} {rust}  ") for line in lines) == 1, done.stdout
    # The video lost at download is not counted against the later stages.
    assert (
        "download 2/2 (1 done, 1 failed); transcribe 1/1 (1 done); summarize 1/1 (1 done); embed 1/1 (1 done); "
        "load 1/1 (1 done)"
        in done.stdout
    ), done.stdout


@pytest.mark.slow
def test_an_ingest_on_a_terminal_shows_the_live_display(tmp_path: Path) -> None:
    from helpers_feed import serve

    with serve(only=["rust"]) as server:
        done = tubescribe(tmp_path / "home", "ingest", server.feed_url, tty=True)
    assert done.returncode == 0, done.stdout + done.stderr
    frames = [CONTROLS.sub("", frame) for frame in done.stdout.split("\r")]
    # While it transcribed, the display named the video by its title.
    assert any(re.search(r"transcribe +Rust in 100 Seconds +\d+:\d\d", frame) for frame in frames), done.stdout
    # The last frame: every stage done, and the audio transcribed (the feed says 154 s; the file has ~2:33).
    final = next(frame for frame in reversed(frames) if "elapsed" in frame)
    assert re.search(r"load .*1/1 +1 done · 0 skipped · 0 failed", final), final
    assert re.search(r"transcribe 2:3\d of 2:3\d audio", final), final
