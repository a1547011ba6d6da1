"""The loopback cluster against the in-process ingest on the same cores: audio seconds per wall second of each.

One run does, in this order:
- in-process: `tubescribe ingest FEED` over the loopback sample channel with a plain environment (a fresh
  TUBESCRIBE_HOME, no cluster variables), twice: cold (the first run also creates the Airflow database) and
  warm (the catalog, media and work folders emptied, the Airflow database kept: what a second ingest costs);
- the cluster: `scripts/cluster.py up --dir TMP` (Postgres, Redis, moto S3, the Airflow servers, two Celery
  workers), timed on its own, then a wait until the API lists the backfill DAG (also start-up, timed on its
  own); then, with the variables of TMP/env, `tubescribe ingest FEED`, which triggers the backfill DAG through
  the REST API and follows it to the end (timed); then `scripts/cluster.py down --dir TMP`.
Each ingest's audio seconds come from its catalog (`tubescribe query`: sum of transcripts.audio_duration_s),
so a run that loaded fewer videos shows it. Only the CLI and scripts/cluster.py are used, as subprocesses.
When the cluster path fails, the tail of its logs is printed instead of its figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

from common import REPO, header, table

from tubescribe.sample import serve_sample_channel

BIN = Path(sys.executable).parent
DAG_ID = "tubescribe_backfill"


def plain_env(home: Path) -> dict[str, str]:
    """The caller's environment without any tubescribe or Airflow variable: the in-process defaults."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TUBESCRIBE_", "AIRFLOW"))}
    return base | {"TUBESCRIBE_HOME": str(home)}


def cluster_env(env_file: Path, home: Path) -> dict[str, str]:
    """What `source TMP/env` gives (parsed, not run through a shell), over the plain environment."""
    env = plain_env(home)
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def ingest(feed: str, env: dict[str, str], timeout: float) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "tubescribe"), "ingest", feed], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)  # fmt: skip
    return time.perf_counter() - started, done


def loaded(env: dict[str, str]) -> tuple[int, float]:
    """Videos transcribed and their audio seconds, read from the catalog the environment points at."""
    sql = "SELECT count(*) AS n, coalesce(sum(audio_duration_s), 0) AS s FROM transcripts"
    done = subprocess.run([str(BIN / "tubescribe"), "query", "--format", "json", sql], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"tubescribe query exited {done.returncode}: {done.stderr[-2000:]}")
    rows = json.loads(done.stdout)
    return int(rows[0]["n"]), float(rows[0]["s"])


def api_token(env: dict[str, str]) -> str:
    api = env["TUBESCRIBE_AIRFLOW_API_URL"]
    body = json.dumps({"username": env["TUBESCRIBE_AIRFLOW_USERNAME"],
                       "password": env["TUBESCRIBE_AIRFLOW_PASSWORD"]}).encode()  # fmt: skip
    login = urllib.request.Request(f"{api}/auth/token", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(login, timeout=30) as resp:
        return str(json.loads(resp.read())["access_token"])


def api_get(env: dict[str, str], token: str, path: str) -> dict:
    request = urllib.request.Request(f"{env['TUBESCRIBE_AIRFLOW_API_URL']}/api/v2/{path}",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def when(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def task_profile(env: dict[str, str]) -> str:
    """Where the cluster run's wall time went, from Airflow's own task instance records (REST API):
    per task, how many ran, their summed and median run time, and the median wait from queued to
    running; then the run's span against the busy time of its two workers."""
    token = api_token(env)
    [run] = api_get(env, token, f"dags/{DAG_ID}/dagRuns?order_by=-start_date&limit=1")["dag_runs"]
    run_id = urllib.parse.quote(run["dag_run_id"], safe="")
    instances = api_get(env, token, f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]
    by_task: dict[str, list[dict]] = {}
    for ti in instances:
        by_task.setdefault(ti["task_id"], []).append(ti)
    rows = []
    for task_id, tis in sorted(by_task.items(), key=lambda kv: min(when(t["start_date"]) or 0 for t in kv[1])):
        runs = [t["duration"] or 0.0 for t in tis]
        waits = [s - q for t in tis if (s := when(t["start_date"])) and (q := when(t["queued_when"]))]
        hosts = sorted({t["hostname"] or "?" for t in tis})
        rows.append([f"`{task_id}`", f"{len(tis)}", f"{sum(runs):.1f}", f"{statistics.median(runs):.1f}",
                     f"{statistics.median(waits):.1f}" if waits else "-", ", ".join(hosts)])  # fmt: skip
    starts = [s for t in instances if (s := when(t["start_date"]))]
    ends = [e for t in instances if (e := when(t["end_date"]))]
    busy = sum(t["duration"] or 0.0 for t in instances)
    span = max(ends) - min(starts)
    run_span = (when(run["end_date"]) or max(ends)) - (when(run["start_date"]) or min(starts))
    head = ["task", "instances", "run s (sum)", "run s (median)", "queued → running s (median)", "workers"]
    return (
        "Where the cluster run's time went (task instances from the REST API):\n\n"
        + table(head, rows)
        + f"\n\n- the DAG run: {run_span:.1f} s from its start to its end; first task start to last task end "
        f"{span:.1f} s; task run time summed over both workers {busy:.1f} s ({busy / span:.2f} workers busy on average)"
    )


def wait_for_dag(env: dict[str, str], timeout: float) -> None:
    """Until the API lists the backfill DAG: the DAG processor's first parse is start-up, not ingest."""
    api = env["TUBESCRIBE_AIRFLOW_API_URL"]
    token = api_token(env)
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(f"{api}/api/v2/dags/{DAG_ID}", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(1.0)


def log_tail(logs: Path, lines: int = 40) -> str:
    parts = []
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"==> {path.name} <==\n" + "\n".join(text))
    return "\n".join(parts)


def cluster_script(*args: str, timeout: float) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "cluster.py"), *args], capture_output=True,
                          text=True, timeout=timeout, env=plain_env(Path(tempfile.gettempdir())))  # fmt: skip
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for each ingest")
    parser.add_argument("--skip-in-process", action="store_true", help="only the cluster path")
    args = parser.parse_args()
    head = header("Cluster (2 Celery workers) vs in-process ingest, same cores", ["one run each (no repeats)"])
    rows: list[list[str]] = []
    notes: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="tubescribe-cluster-bench-"))
    root.chmod(0o755)  # the cluster's Postgres runs as the `postgres` user and must reach its folder below
    speeds: dict[str, float] = {}
    profile = ""
    try:
        with serve_sample_channel() as feed:
            if not args.skip_in_process:
                home = root / "in-process"
                home.mkdir()
                env = plain_env(home)
                for label in ("cold", "warm"):
                    if label == "warm":
                        for child in home.iterdir():
                            if child.is_dir() and child.name != "airflow":
                                shutil.rmtree(child)
                            elif child.is_file():
                                child.unlink()
                    load = os.getloadavg()[0]
                    wall, done = ingest(feed, env, args.timeout)
                    if done.returncode:
                        raise SystemExit(f"in-process ingest failed ({done.returncode}):\n{done.stderr[-3000:]}")
                    videos, audio = loaded(env)
                    speeds[label] = audio / wall
                    rows.append([f"in-process, {label}", f"{videos}", f"{audio:.0f}", f"{wall:.1f}",
                                 f"{audio / wall:.1f}", f"{load:.2f}"])  # fmt: skip
                    print(f"  in-process {label}: {wall:.1f} s, {videos} videos", file=sys.stderr, flush=True)
            folder = root / "cluster"
            load = os.getloadavg()[0]
            up_s, done = cluster_script("--dir", str(folder), "up", timeout=600)
            try:
                if done.returncode:
                    notes.append(f"`cluster.py up` failed ({done.returncode}): {done.stderr.strip()[-500:]}")
                    print(log_tail(folder / "logs"), file=sys.stderr)
                else:
                    env = cluster_env(folder / "env", folder / "client")
                    started = time.perf_counter()
                    wait_for_dag(env, 300)
                    parse_s = time.perf_counter() - started
                    notes.append(f"start-up, not in the timed part: `cluster.py up` {up_s:.1f} s (load {load:.2f}), "
                                 f"then {parse_s:.1f} s until the API listed `{DAG_ID}`")  # fmt: skip
                    print(f"  cluster up {up_s:.1f} s + DAG parsed {parse_s:.1f} s", file=sys.stderr, flush=True)
                    load = os.getloadavg()[0]
                    wall, done = ingest(feed, env, args.timeout)
                    if done.returncode:
                        notes.append(f"cluster ingest failed ({done.returncode}) after {wall:.1f} s")
                        print(done.stdout[-3000:], done.stderr[-3000:], log_tail(folder / "logs"), file=sys.stderr)
                    videos, audio = loaded(env)
                    speeds["cluster"] = audio / wall
                    try:
                        profile = task_profile(env)
                    except (OSError, KeyError, ValueError) as exc:  # the figure stands without its profile
                        profile = f"(no task profile: {exc})"
                    rows.append(["cluster: CLI → REST → 2 Celery workers", f"{videos}", f"{audio:.0f}",
                                 f"{wall:.1f}", f"{audio / wall:.1f}", f"{load:.2f}"])  # fmt: skip
                    print(f"  cluster: {wall:.1f} s, {videos} videos", file=sys.stderr, flush=True)
            finally:
                down_s, done = cluster_script("--dir", str(folder), "down", timeout=300)
                notes.append(f"`cluster.py down` {down_s:.1f} s (exit {done.returncode})")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(head)
    print(table(["path", "videos", "audio s", "wall s", "audio s / wall s", "load (1 min) at start"], rows))
    print()
    for note in notes:
        print(f"- {note}")
    if profile:
        print(f"\n{profile}")
    if "cluster" in speeds and "warm" in speeds:
        print(f"\ncluster / in-process (warm): **{speeds['cluster'] / speeds['warm']:.2f}** "
              f"(cold: {speeds['cluster'] / speeds['cold']:.2f}); goal ≥ 0.8")  # fmt: skip


if __name__ == "__main__":
    main()
