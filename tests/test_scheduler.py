"""The real scheduler path: api-server, dag-processor and scheduler (LocalExecutor) run tubescribe's DAGs.

Everything runs in subprocesses on a temporary $TUBESCRIBE_HOME with its own sqlite metadata DB, so this
test shares nothing with the in-process Airflow the other tests configure. Every process started here
(and everything they fork: executor workers, task supervisors, task runners in their own process
groups) is killed in the fixture's teardown, also when the test fails or times out.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from airflow_support import RUN_ID, AirflowStack
from tubescribe.pipeline.platforms import blocked
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel, add_channel
from tubescribe.stages.discover import feed_item_id

pytestmark = pytest.mark.slow

NIGHTLY = "tubescribe_nightly"
BACKFILL = "tubescribe_backfill"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[AirflowStack]:
    stack = AirflowStack(tmp_path / "home")
    try:
        yield stack
    finally:
        stack.stop()


def test_scheduler_runs_nightly_for_the_sample_channel(stack: AirflowStack) -> None:
    home = stack.home
    settings = Settings.load(home=home)
    with serve_sample_channel(only=["rust"]) as feed:
        add_channel(settings, Channel(url=feed))
        stack.boot(NIGHTLY)
        stack.trigger(NIGHTLY)
        state = stack.wait_finished(NIGHTLY)
        assert state == "success", f"{NIGHTLY} run ended {state}\n{stack.diagnostics()}"

    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        row = con.execute(
            """
            SELECT v.status, t.text, s.introduction
            FROM videos v
            JOIN transcripts t USING (video_id)
            JOIN summaries s USING (video_id)
            WHERE v.video_id = ?
            """,
            [feed_item_id(feed, "rust")],
        ).fetchall()
    assert len(row) == 1, row
    status, transcript, introduction = row[0]
    assert status == "loaded"
    assert "memory" in transcript.lower()
    assert introduction.strip()
    print(json.dumps({"task_instances": [list(map(str, t)) for t in stack.task_states()]}))


class _TooManyRequests(http.server.BaseHTTPRequestHandler):
    """A platform that has had enough of us: every request gets HTTP 429, and is written down."""

    server: _CountingServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.send_response(429, "Too Many Requests")
        self.send_header("Retry-After", "3600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


class _CountingServer(http.server.ThreadingHTTPServer):
    requests: list[str]


@contextlib.contextmanager
def _feed_answering_429() -> Iterator[tuple[str, list[str]]]:
    """A loopback feed URL whose server answers 429 to everything, and the paths it was asked for."""
    server = _CountingServer(("127.0.0.1", 0), _TooManyRequests)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml", server.requests
    finally:
        server.shutdown()
        server.server_close()


def _tasks(stack: AirflowStack) -> dict[str, tuple[object, object]]:
    """The backfill run's tasks by id: (state, try number). Mapped tasks that never expanded are one instance."""
    return {str(task): (state, tries) for task, _, state, tries in stack.task_states(BACKFILL)}


def test_a_backfill_of_a_platform_answering_429_fails_and_a_retry_of_discover_keeps_it_failed(
    stack: AirflowStack,
) -> None:
    # Before: the 429 blocked the platform and was re-raised for Airflow to retry; the retry saw the block,
    # returned no batches, and the run ended "success" with nothing in it.
    settings = Settings.load(home=stack.home)
    with _feed_answering_429() as (feed, requests):
        stack.boot(BACKFILL)
        stack.trigger(BACKFILL, {"urls": [feed]})
        state = stack.wait_finished(BACKFILL)
        assert state == "failed", f"{BACKFILL} run ended {state}\n{stack.diagnostics()}"
        tasks = _tasks(stack)
        # A block is not retried now (its cooldown is long): one try, and nothing after discover ran.
        assert tasks["discover_urls"] == ("failed", 1), stack.diagnostics()
        assert tasks["report"][0] == "upstream_failed", stack.diagnostics()
        first = stack.task_log(BACKFILL, "discover_urls", 1)
        assert "HTTP Error 429" in first and "is now blocked" in first, first[-3000:]  # why, and what it did
        assert "429" in (blocked(settings, "127.0.0.1") or ""), "the 429 must block the platform"
        asked = len(requests)
        assert asked >= 1

        # Airflow's retry of discover (a clear of the failed task, as the UI's Clear does) sees the block:
        # it asks the platform nothing more and fails again, instead of ending the run green and empty.
        cleared = stack.api(
            "POST", f"/api/v2/dags/{BACKFILL}/clearTaskInstances",
            {"dry_run": False, "dag_run_id": RUN_ID, "task_ids": ["discover_urls"], "include_downstream": True},
        )  # fmt: skip
        assert cleared["total_entries"], cleared

        def retried() -> bool:
            state, tries = _tasks(stack).get("discover_urls", (None, 0))
            return state in ("success", "failed") and int(tries or 0) >= 2  # type: ignore[call-overload]

        stack.wait_for("discover's second try to finish", retried, timeout=180)
        state = stack.wait_finished(BACKFILL)
        assert state == "failed", f"the retried {BACKFILL} run ended {state}\n{stack.diagnostics()}"
        assert _tasks(stack)["discover_urls"] == ("failed", 2), stack.diagnostics()
        second = stack.task_log(BACKFILL, "discover_urls", 2)
        assert "blocked for now" in second and "429" in second, second[-3000:]
        assert len(requests) == asked, f"the retry asked a blocked platform again: {requests}"
    assert not settings.catalog_path.exists(), "nothing was listed, so nothing may be in the catalog"
