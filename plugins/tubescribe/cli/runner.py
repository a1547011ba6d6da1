"""The commands that run a DAG (ingest, resummarize, retranscribe, embed, demo), here or on Airflow, with progress."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from tubescribe.cli import live, terminal
from tubescribe.pipeline import progress
from tubescribe.settings import Settings


def ingest(
    settings: Settings,
    urls: list[str],
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    console: Console,
) -> bool:
    """Ingest URLs through the backfill DAG; print progress and what landed; True if every video landed."""
    from tubescribe.stages.discover import DiscoverError, check_channel_url

    try:
        urls = [check_channel_url(url) for url in urls]
    except DiscoverError as exc:
        terminal.error(console, exc)
        return False
    console.print(f"ingesting {escape(', '.join(urls))} into {escape(_destination(settings))}")
    conf = {"urls": urls, "since": since, "until": until, "limit": limit}
    return run(
        settings,
        "tubescribe_backfill",
        conf,
        console,
        nothing="no videos matched (check the URL, --since/--until and --limit)",
    )


def _destination(settings: Settings) -> str:
    """Where a run's results land, as the user configured it (the catalog URL holds no password)."""
    where = settings.catalog_url or str(settings.catalog_path)
    return f"{where} via Airflow at {settings.airflow_api_url}" if settings.airflow_api_url else where


def resummarize(settings: Settings, where: str | None, console: Console) -> bool:
    """Summarize catalogued videos again through the resummarize DAG; True if every one landed."""
    console.print(f"re-summarizing with {settings.summarizer} in {escape(_destination(settings))}")
    return run(settings, "tubescribe_resummarize", {"where": where}, console, nothing="no loaded video matched --where")


def retranscribe(settings: Settings, where: str | None, console: Console) -> bool:
    """Transcribe catalogued videos again with Whisper through the retranscribe DAG; True if every one landed."""
    console.print(f"re-transcribing with Whisper {escape(settings.whisper_model)} in {escape(_destination(settings))}")
    return run(
        settings, "tubescribe_retranscribe", {"where": where}, console, nothing="no loaded video matched --where"
    )


def reembed(settings: Settings, where: str | None, console: Console) -> bool:
    """Embed catalogued videos again with the current embedding model through the embed DAG."""
    console.print(f"embedding with {settings.embeddings} in {escape(_destination(settings))}")
    return run(settings, "tubescribe_embed", {"where": where}, console, nothing="no loaded video matched --where")


# The stages whose progress a DAG's run shows, in the order a video goes through them.
STAGES = {
    "tubescribe_backfill": ("download", "transcribe", "summarize", "embed", "load"),
    "tubescribe_resummarize": ("summarize", "embed", "load"),
    "tubescribe_retranscribe": ("download", "transcribe", "summarize", "embed", "load"),
    "tubescribe_embed": ("embed", "load"),
}


def run(settings: Settings, dag_id: str, conf: dict[str, Any], console: Console, *, nothing: str) -> bool:
    """Run a DAG with live progress, then print what landed; True if all of it landed.

    In this process by default; on the deployed Airflow at TUBESCRIBE_AIRFLOW_API_URL when that is set.
    """
    conf = {**conf, **settings.run_overrides()}
    tally = progress.Tally(STAGES[dag_id])
    display = live.RunDisplay(console, tally)
    if settings.airflow_api_url:
        state, logs = _run_remote(settings.airflow_api_url, dag_id, conf, display, console)
    else:
        state, logs = _run_here(settings, dag_id, conf, display, console)
    selected, settled, failed = tally.selected, tally.settled, tally.failed
    if selected:
        print_landed(console, settings, selected)
    elif settled and not failed:
        console.print(f"nothing new: {len(settled)} video(s) already in the catalog with these settings")
    elif not failed:
        console.print(Text(nothing, style="yellow"))
    ok = state == "success" and not failed
    if not ok:
        console.print(f"[red]{len(failed) or 'some'} video(s) did not land[/red]; {logs}")
    return ok


def _run_here(
    settings: Settings, dag_id: str, conf: dict[str, Any], display: live.RunDisplay, console: Console
) -> tuple[str, str]:
    """`dag.test()` in this process; the stages' own events are the progress. Returns (state, where the log is)."""
    from tubescribe.orchestration import embedded as airflow_env

    airflow_env.configure(settings)
    with console.status("preparing Airflow (first run only takes a few seconds)"):
        airflow_env.initialise(settings)
    stop = progress.listen(display.show)
    try:
        with display, _quiet_airflow(settings):
            state = airflow_env.run_dag(dag_id, conf)
    finally:
        stop()
    return state, f"Airflow's log: {_run_log(settings)}"


def _run_remote(
    api_url: str, dag_id: str, conf: dict[str, Any], display: live.RunDisplay, console: Console
) -> tuple[str, str]:
    """Trigger the DAG on the deployed Airflow and follow it to the end, in the same display as a run here.

    Returns (state, where the logs are)."""
    from tubescribe.orchestration import remote

    try:
        with remote.AirflowClient(api_url) as client:
            run = remote.start(api_url, dag_id, conf, client=client)
            console.print(f"triggered {dag_id} run {escape(run.run_id)} on {escape(api_url)}")
            try:
                with display:
                    for event in run.events():
                        display.show(event)
            except KeyboardInterrupt:
                # The run belongs to the deployment now: stopping the CLI does not stop it.
                console.print(f"\nstopped following; run {escape(run.run_id)} goes on in Airflow at {escape(api_url)}")
                raise
    except remote.RemoteError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return "failed", f"Airflow: {escape(api_url)}"
    return run.state or "failed", f"the task logs are in the Airflow UI at {escape(api_url)} (run {escape(run.run_id)})"


@functools.cache
def _run_log(settings: Settings) -> Path:
    """This run's own log file: two runs sharing a home never write into each other's."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = settings.airflow_home / "logs" / "runs" / f"ingest-{stamp}-{os.getpid()}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _quiet_airflow(settings: Settings):
    """Send Airflow's own log lines to a file so the terminal shows tubescribe's progress only."""
    path = _run_log(settings)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    root = logging.getLogger()
    previous = list(root.handlers)
    for h in previous:
        root.removeHandler(h)
    root.addHandler(handler)
    try:
        with (
            open(path, "a", encoding="utf-8") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for h in previous:
            root.addHandler(h)


def print_landed(console: Console, settings: Settings, video_ids: list[str]) -> None:
    """A table of the given videos as the catalog has them now."""
    from tubescribe.catalog.query import QueryError, run_named

    try:
        _, rows = run_named(settings, "queries/landed", {"video_ids": video_ids})
    except QueryError as exc:
        terminal.error(console, exc)
        return
    terminal.landed_table(console, rows)
    landed = sum(1 for row in rows if row[2] == "loaded")
    failed = sum(1 for row in rows if row[2] == "failed")
    waiting = len(rows) - landed - failed
    line = f"{landed} landed, {failed} failed"
    if waiting:
        line += f", {waiting} pending (deferred, blocked or unfinished)"
    if failed or waiting:
        line += ' — see ingest_failures: tubescribe query "SELECT * FROM ingest_failures"'
    console.print(line)


def demo(settings: Settings, console: Console) -> bool:
    """Serve the sample channel on loopback, ingest it, and print the catalog."""
    from tubescribe.catalog.query import run_named
    from tubescribe.sample import serve_sample_channel

    # Two of its videos link to a page with creator captions: they land without their media downloaded.
    with serve_sample_channel(captions=True) as feed:
        console.print(f"serving the sample channel at {feed}")
        ok = ingest(settings, [feed], console=console)
    _, rows = run_named(settings, "queries/demo_videos")
    for _video_id, title, introduction, topics, general, source, kind, model, note in rows:
        console.rule(terminal.safe(title, "bold"))
        heard = f"{kind} captions" if source == "captions" else f"Whisper ({model})"
        terminal.print_line(console, Text("transcript: ", style="cyan"), heard, f" — {note}" if note else "")
        terminal.print_line(console, introduction)
        terminal.print_line(console, Text("topics: ", style="cyan"), ", ".join(topics or []))
        terminal.print_line(console, Text("general topics: ", style="cyan"), ", ".join(general or []))
    console.rule(Text("one query a user would run", style="bold"))
    console.print("tubescribe query --file sql/queries/general_topic_mix.sql\n")
    columns, table = run_named(settings, "queries/general_topic_mix")
    terminal.print_rows(console, columns, [table], "table")
    if rows:
        terminal.print_line(
            console,
            f"\nThe catalog is {_destination(settings)}; try `tubescribe show {rows[0][0]}`, "
            "or browse it with `tubescribe serve`.",
        )
    return ok
