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
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psutil
import pytest

from tubescribe.orchestration.pools import CATALOG_POOL, NETWORK_POOL
from tubescribe.pipeline.platforms import blocked
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel, add_channel
from tubescribe.stages.discover import feed_item_id

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NIGHTLY = "tubescribe_nightly"
BACKFILL = "tubescribe_backfill"
RUN_ID = "scheduler-test"
BUDGET_S = 300.0  # the whole test, start-up included
CLI_TIMEOUT_S = 120.0
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, port: int, log_port: int) -> dict[str, str]:
    """The environment of every Airflow process: nothing inherited from the test session's own Airflow."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__", "TUBESCRIBE_"))}
    airflow_home = home / "airflow"
    env.update(
        {
            "TUBESCRIBE_HOME": str(home),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Airflow 3 accepts LocalExecutor on sqlite (`airflow standalone` runs exactly this pairing);
            # the 2.x "cannot use SQLite with the LocalExecutor" check is gone.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # LocalExecutor forks `parallelism` workers up front (the default is 32): two for two cores.
            "AIRFLOW__CORE__PARALLELISM": "2",
            # Task supervisors report to the execution API; its default is http://localhost:8080/execution/.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            # The scheduler signs task tokens and the API server checks them: one shared secret, 64+ bytes
            # (HS512; PyJWT warns about shorter keys).
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            # The scheduler serves task logs on 8793 by default; a free port keeps parallel stacks apart.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Unpausing the nightly DAG must not also queue its cron run (catchup=False still creates the
            # latest interval's run); only the run this test triggers should execute.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # Find and parse the dags folder within seconds; one parser process is plenty for three files.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # A loaded 2-core machine can be slow to import the DAG files; don't time their parsing out.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    return env


class AirflowStack:
    """Airflow subprocesses on one temporary home; `stop()` kills every process any of them started."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.env = airflow_env(home, self.port, _free_port())
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.seen: dict[int, psutil.Process] = {}
        self.deadline = time.monotonic() + BUDGET_S

    @property
    def airflow_home(self) -> Path:
        return Path(self.env["AIRFLOW_HOME"])

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cli(self, *args: str) -> str:
        """Run one `airflow` command to completion; fail with its output if it fails."""
        timeout = max(5.0, min(CLI_TIMEOUT_S, self.remaining()))
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[f"cli-{len(self.procs)}"] = proc
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill_group(proc)
            out, _ = proc.communicate()
            pytest.fail(f"`airflow {' '.join(args)}` took over {timeout:.0f}s:\n{out.decode(errors='replace')[-4000:]}")
        text = out.decode(errors="replace")
        assert proc.returncode == 0, f"`airflow {' '.join(args)}` exited {proc.returncode}:\n{text[-4000:]}"
        return text

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def check_running(self) -> None:
        """Remember every descendant (for teardown) and fail if a long-running component has exited."""
        for name, proc in self.procs.items():
            self._remember(proc.pid)
            if not name.startswith("cli-") and proc.poll() is not None:
                pytest.fail(f"airflow {name} exited with {proc.returncode}\n{self.diagnostics()}")

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        end = time.monotonic() + min(timeout, self.remaining())
        while time.monotonic() < end:
            self.check_running()
            if ready():
                return
            time.sleep(1.0)
        pytest.fail(f"timed out waiting for {what}\n{self.diagnostics()}")

    def api_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Read Airflow's metadata DB directly (cheaper than an `airflow` CLI call on two cores)."""
        db = self.airflow_home / "airflow.db"
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
                return con.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # locked by a writer or not created yet: ask again next poll
            return []

    def boot(self, dag_id: str) -> None:
        """Migrate the metadata DB, make the pools, start the three services; return once `dag_id` is parsed."""
        self.cli("db", "migrate")
        self.cli("pools", "set", CATALOG_POOL, "1", "single writer of the tubescribe catalog")
        self.cli("pools", "set", NETWORK_POOL, "2", "concurrent requests to video platforms")
        self.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        self.start("dag-processor", "dag-processor")
        self.start("scheduler", "scheduler")
        self.wait_for("the API server", self.api_healthy, timeout=120)
        self.wait_for(f"{dag_id} to be parsed", lambda: self.dag_parsed(dag_id), timeout=120)
        self.cli("dags", "unpause", dag_id)

    def trigger(self, dag_id: str, conf: dict[str, object] | None = None) -> None:
        """Trigger run RUN_ID of `dag_id` (with `conf` as its params) as a user does, through the CLI."""
        triggered = self.cli("dags", "trigger", dag_id, "--run-id", RUN_ID, "--conf", json.dumps(conf or {}),
                             "--output", "json")  # fmt: skip
        assert RUN_ID in triggered, triggered

    def wait_finished(self, dag_id: str, timeout: float = 240) -> str | None:
        """The run's state once it is success or failed."""
        done = ("success", "failed")
        self.wait_for(f"run {RUN_ID} to finish", lambda: self.run_state(dag_id) in done, timeout=timeout)
        return self.run_state(dag_id)

    def api(self, method: str, path: str, body: dict[str, object]) -> dict[str, object]:
        """One REST call (SimpleAuthManager's all-admins mode signs every request)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as resp:
            return dict(json.loads(resp.read()))

    def dag_parsed(self, dag_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM serialized_dag WHERE dag_id = ?", dag_id))

    def run_state(self, dag_id: str) -> str | None:
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, RUN_ID)
        return str(rows[0][0]) if rows else None

    def task_states(self, dag_id: str | None = None) -> list[tuple[object, ...]]:
        """(task_id, map_index, state, try_number) of run RUN_ID's task instances (of every DAG when None)."""
        return self.query(
            "SELECT task_id, map_index, state, try_number FROM task_instance WHERE coalesce(?, dag_id) = dag_id "
            "AND run_id = ? ORDER BY task_id, map_index",
            dag_id,
            RUN_ID,
        )

    def task_log(self, dag_id: str, task_id: str, attempt: int) -> str:
        """What one attempt of a task wrote to its log file on this machine."""
        folder = self.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={RUN_ID}" / f"task_id={task_id}"
        paths = sorted(folder.rglob(f"attempt={attempt}.log"))
        assert paths, f"no log of {task_id} attempt {attempt}\n{self.diagnostics()}"
        return "\n".join(path.read_text(errors="replace") for path in paths)

    def diagnostics(self) -> str:
        parts = [f"task instances: {self.task_states()}"]
        for path in sorted(self.logs.glob("*.log")):
            parts.append(f"----- {path.name} (tail) -----\n{_tail(path, 60)}")
        for path in sorted((self.airflow_home / "logs").rglob("*.log")):
            parts.append(f"----- task log {path.relative_to(self.airflow_home)} (tail) -----\n{_tail(path, 40)}")
        return "\n".join(parts)

    def _remember(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                self.seen.setdefault(proc.pid, proc)
        except psutil.Error:
            pass

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM every group, give them a few seconds, then SIGKILL whatever is left, descendants included."""
        for proc in self.procs.values():
            self._remember(proc.pid)
        for proc in self.procs.values():
            if proc.poll() is None:
                self._kill_group(proc, signal.SIGTERM)
        end = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, end - time.monotonic()))
        for proc in self.procs.values():
            self._kill_group(proc)
            proc.wait()
        # Task supervisors put task runners in process groups of their own: kill those by pid.
        # psutil.Process checks the create time, so a reused pid is never hit.
        leftovers = [p for p in self.seen.values() if p.is_running()]
        for proc in leftovers:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(leftovers, timeout=5)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"({exc})"


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
