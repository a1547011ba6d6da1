"""The cluster layer: one loopback cluster (`scripts/cluster.py up`) for the whole session, in a folder of its own.

Every test here talks to it as a user would: `tubescribe` commands in a shell that sourced the cluster's
env file, and Airflow's REST API. The cluster is stopped (`down`) at the end, also when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tubescribe.orchestration.remote import AirflowClient, TaskInstance

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "cluster.py"
DAG_ID = "tubescribe_backfill"


def _read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


class LoopbackCluster:
    """A started cluster: its folder, the env a client shell gets, and the ways tests act on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = _read_env(root / "env")
        self.api_url = self.env["TUBESCRIBE_AIRFLOW_API_URL"]
        self.tubescribe_bin = str(Path(sys.executable).parent / "tubescribe")

    def shell_env(self) -> dict[str, str]:
        """The test session's environment with the cluster's on top (as after `source .cluster/env`)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_"))}
        return {**base, **self.env}

    def launcher(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [sys.executable, str(LAUNCHER), "--dir", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"cluster.py {' '.join(args)}: {done.stdout}{done.stderr}{self.logs()}"
        return done.stdout

    def tubescribe(self, *args: str, timeout: float = 420) -> subprocess.CompletedProcess[str]:
        """Run one `tubescribe` command to its end; past `timeout`, fail with what it printed and the logs."""
        try:
            return subprocess.run(
                [self.tubescribe_bin, *args],
                env=self.shell_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            printed = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
            pytest.fail(f"`tubescribe {args[0]}` ran past {timeout:.0f} s:\n{printed or ''}{self.logs()}")

    def start_tubescribe(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.tubescribe_bin, *args],
            env=self.shell_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @contextlib.contextmanager
    def api(self) -> Iterator[AirflowClient]:
        """A REST client logged in with the cluster's credentials (read from the environment at login)."""
        saved = {k: os.environ.get(k) for k in ("TUBESCRIBE_AIRFLOW_USERNAME", "TUBESCRIBE_AIRFLOW_PASSWORD")}
        os.environ.update({k: self.env[k] for k in saved})
        try:
            client = AirflowClient(self.api_url)
            client.login()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with client:
            yield client

    def task_instances(self, run_id: str) -> list[TaskInstance]:
        with self.api() as client:
            return client.task_instances(DAG_ID, run_id)

    def wait_for_task(self, task_id: str, state: str, timeout: float = 240) -> tuple[str, TaskInstance]:
        """The running backfill run's first instance of `task_id` once it is in `state` (polled every 0.5 s)."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while time.monotonic() < deadline:
                # One run at a time (max_active_runs=1): the running one is this test's.
                runs = client.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"state": "running"})
                if runs["dag_runs"]:
                    run_id = runs["dag_runs"][0]["dag_run_id"]
                    for ti in client.task_instances(DAG_ID, run_id):
                        if ti.task_id == task_id and ti.state == state and ti.hostname:
                            return run_id, ti
                time.sleep(0.5)
        pytest.fail(f"{task_id} never got to {state}\n{self.logs()}")

    def end_unfinished_runs(self) -> list[str]:
        """Mark every backfill run still queued or running failed (a test that timed out leaves one behind,
        and with max_active_runs=1 the next test's run would wait behind it); returns their ids."""
        ended = []
        with self.api() as client:
            for state in ("running", "queued"):
                runs = client.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"state": state})
                for run in runs["dag_runs"]:
                    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}"
                    client.request("PATCH", path, json={"state": "failed"})
                    ended.append(run["dag_run_id"])
        return ended

    def query(self, sql: str) -> list[dict[str, object]]:
        """Rows of read-only SQL over the shared catalog, through `tubescribe query` like a user."""
        import json

        done = self.tubescribe("query", sql, "--format", "json", timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return list(json.loads(done.stdout))

    def logs(self, lines: int = 40) -> str:
        parts = []
        for path in sorted((self.root / "logs").glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"----- {path.name} -----\n" + "\n".join(text))
        # The newest task logs, from each worker's own disk.
        tasks = sorted((self.root / "workers").glob("*/airflow/logs/**/*.log"), key=lambda p: p.stat().st_mtime)
        for path in tasks[-4:]:
            text = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"----- task log {path.relative_to(self.root)} -----\n" + "\n".join(text))
        return "\n" + "\n".join(parts)


@pytest.fixture(scope="session")
def cluster() -> Iterator[LoopbackCluster]:
    # Not pytest's tmp_path: its parents are 0700 and Postgres runs as the unprivileged postgres user.
    root = Path(tempfile.mkdtemp(prefix="tubescribe-cluster-"))
    root.chmod(0o755)
    up = subprocess.run(
        [sys.executable, str(LAUNCHER), "--dir", str(root), "up"], capture_output=True, text=True, check=False
    )
    try:
        assert up.returncode == 0, f"cluster up failed:\n{up.stdout}{up.stderr}"
        yield LoopbackCluster(root)
    finally:
        subprocess.run([sys.executable, str(LAUNCHER), "--dir", str(root), "down"], check=False, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_run_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the cluster, no backfill run of it is still going."""
    yield
    if "cluster" in request.fixturenames:
        request.getfixturevalue("cluster").end_unfinished_runs()
