"""Airflow's own processes on a temporary home, for the tests that run a real Airflow: `AirflowStack` starts
`airflow` subcommands in subprocesses with a sqlite metadata DB of their own and kills every process they
started (and everything those forked) in `stop()`. Nothing is shared with the session's in-process Airflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from ports import free_port
from tubescribe.orchestration.pools import CATALOG_POOL, NETWORK_POOL

REPO = Path(__file__).resolve().parents[1]
RUN_ID = "scheduler-test"
BUDGET_S = 300.0  # the whole test, start-up included
CLI_TIMEOUT_S = 120.0
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


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
        self.port = free_port()
        self.env = airflow_env(home, self.port, free_port())
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
