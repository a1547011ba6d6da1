"""The backfill DAG on real Celery workers that share nothing but the broker, the API, the store and the catalog.

Each test ingests videos no other test touches (the sample channel under new ids), so the order of the
tests does not matter; a killed worker is started again before its test ends.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tubescribe.records import VIDEO_ID_RE
from tubescribe.sample import FEED_TEMPLATE, SAMPLE_DIR, sample_ids, serve_sample_channel

pytestmark = pytest.mark.cluster

WORKERS = ("transcribe-1", "transcribe-2")
INGEST_TIMEOUT_S = 420


def _renamed_channel(tmp_path: Path, prefix: str, keep: list[str]) -> tuple[Path, list[str]]:
    """A copy of the sample channel whose items have new guids (so they are new work for the catalog)."""
    folder = tmp_path / prefix
    shutil.copytree(SAMPLE_DIR, folder)
    feed = folder / FEED_TEMPLATE
    text = feed.read_text(encoding="utf-8")
    for video_id in sample_ids():
        text = text.replace(f">{video_id}</guid>", f">{prefix}{video_id}</guid>")
    feed.write_text(text, encoding="utf-8")
    return folder, [f"{prefix}{video_id}" for video_id in keep]


def _sql_list(ids: list[str]) -> str:
    """Video ids as a SQL list for `tubescribe query` (which takes text only): safe ids, checked first."""
    assert all(VIDEO_ID_RE.fullmatch(video_id) for video_id in ids), ids
    return ", ".join(f"'{video_id}'" for video_id in ids)


def _landed(cluster, ids: list[str]) -> dict[str, tuple[str, int, int]]:
    """Per video: its catalog status, how many video rows and how many transcript rows it has."""
    listed = _sql_list(ids)
    rows = cluster.query(
        "SELECT v.video_id, any_value(v.status) AS status, count(*) AS n, "
        f"(SELECT count(*) FROM transcripts t WHERE t.video_id = v.video_id) AS transcripts "
        f"FROM videos v WHERE v.video_id IN ({listed}) GROUP BY v.video_id ORDER BY v.video_id"
    )
    return {str(r["video_id"]): (str(r["status"]), int(r["n"]), int(r["transcripts"])) for r in rows}  # type: ignore[call-overload]


def _finish(proc: subprocess.Popen[str], cluster) -> str:
    try:
        out, _ = proc.communicate(timeout=INGEST_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"ingest did not finish in {INGEST_TIMEOUT_S} s:\n{out}{cluster.logs()}")
    assert proc.returncode == 0, f"ingest exited {proc.returncode}:\n{out}{cluster.logs()}"
    return out


def _discovered(cluster, run_id: str, guids: list[str]) -> list[str]:
    """The video ids the run's discover task chose, one per feed item (ids may be namespaced by the feed)."""
    with cluster.api() as client:
        batches = client.return_value("tubescribe_backfill", run_id, "discover_urls", -1)
    ids = sorted(str(video_id) for batch in batches for video_id in batch)
    for guid in guids:
        assert len([i for i in ids if i == guid or i.endswith(f"-{guid}")]) == 1, (guid, ids)
    assert len(ids) == len(guids), ids
    return ids


def _ensure_workers(cluster) -> None:
    """Start again whichever worker a test killed, so the next test has two."""
    running = {line.split()[0] for line in cluster.launcher("status").splitlines() if line.strip()}
    for name in WORKERS:
        if name not in running:
            cluster.launcher("worker", name)


def _run_id(output: str) -> str:
    match = re.search(r"run (tubescribe-cli__\S+)", output)
    assert match, output
    return match.group(1)


def test_sample_channel_lands_through_the_cluster_on_both_workers(cluster):
    with serve_sample_channel() as feed:
        done = cluster.tubescribe("ingest", feed, timeout=INGEST_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr + cluster.logs()
    assert "5 landed, 0 failed" in done.stdout, done.stdout

    run_id = _run_id(done.stdout)
    instances = cluster.task_instances(run_id)
    assert {ti.state for ti in instances} == {"success"}, instances
    # Two workers with one slot each take turns at the queue: the run used both machines.
    assert {ti.hostname for ti in instances} == set(WORKERS), instances
    # Every video exactly once in the shared catalog, whichever worker wrote it.
    ids = _discovered(cluster, run_id, sample_ids())
    assert _landed(cluster, ids) == {video_id: ("loaded", 1, 1) for video_id in ids}


@dataclass(frozen=True)
class Ingest:
    """A running `tubescribe ingest` caught while one worker transcribes: which worker, and the other."""

    proc: subprocess.Popen[str]
    guids: list[str]
    run_id: str
    worker: str
    other: str


@contextlib.contextmanager
def _ingest_until_transcribing(cluster, tmp_path: Path, prefix: str, keep: list[str]) -> Iterator[Ingest]:
    """Ingest renamed sample videos and hand over once a worker runs transcribe; stop what is left afterwards.

    The ingest is killed if the test left it running, and every worker the test killed is started again.
    """
    folder, guids = _renamed_channel(tmp_path, prefix, keep)
    with serve_sample_channel(only=guids, directory=folder) as feed:
        proc = cluster.start_tubescribe("ingest", feed)
        try:
            run_id, running = cluster.wait_for_task("transcribe", "running")
            worker = str(running.hostname)
            (other,) = set(WORKERS) - {worker}
            yield Ingest(proc, guids, run_id, worker, other)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            _ensure_workers(cluster)


def _transcribe_attempts(cluster, run_id: str) -> list[tuple[object, ...]]:
    """The run's transcribe instances as (state, try number, the worker that ran the last try)."""
    instances = [ti for ti in cluster.task_instances(run_id) if ti.task_id == "transcribe"]
    return [(ti.state, ti.try_number, ti.hostname) for ti in instances]


def test_a_worker_killed_mid_transcription_is_replaced_by_the_other(cluster, tmp_path: Path):
    with _ingest_until_transcribing(cluster, tmp_path, "kill-", ["zig", "react"]) as ingest:
        time.sleep(2)  # into the transcription itself, past the task's start-up
        cluster.launcher("kill", ingest.worker)
        out = _finish(ingest.proc, cluster)
    assert _run_id(out) == ingest.run_id
    ids = _discovered(cluster, ingest.run_id, ingest.guids)
    # The lost attempt was noticed by its missing heartbeat and tried again, on the machine still up.
    assert _transcribe_attempts(cluster, ingest.run_id) == [("success", 2, ingest.other)]
    assert _landed(cluster, ids) == {video_id: ("loaded", 1, 1) for video_id in ids}


def test_a_worker_restarted_with_an_empty_disk_resumes_from_the_store(cluster, tmp_path: Path):
    with _ingest_until_transcribing(cluster, tmp_path, "resume-", ["rust", "typescript_fireship"]) as ingest:
        # Only the restarted machine may take the retry: the other goes first (it is idle), then this one.
        cluster.launcher("kill", ingest.other)
        cluster.launcher("kill", ingest.worker)
        cluster.launcher("worker", ingest.worker, "--fresh")
        scratch = cluster.root / "workers" / ingest.worker / "scratch"
        assert not any(scratch.iterdir()), "the restarted worker's scratch folder is not empty"
        out = _finish(ingest.proc, cluster)
    assert _run_id(out) == ingest.run_id
    assert _transcribe_attempts(cluster, ingest.run_id) == [("success", 2, ingest.worker)]
    ids = _discovered(cluster, ingest.run_id, ingest.guids)
    # The audio came from the store: each video was downloaded once, by the first attempt's run of download.
    listed = _sql_list(ids)
    runs = cluster.query(
        f"SELECT video_id, stage, count(*) AS n FROM stage_runs WHERE video_id IN ({listed}) AND status = 'done' "
        "GROUP BY ALL ORDER BY ALL"
    )
    counts = {(str(r["video_id"]), str(r["stage"])): int(r["n"]) for r in runs}  # type: ignore[call-overload]
    for video_id in ids:
        assert counts.get((video_id, "download")) == 1, counts
        assert counts.get((video_id, "transcribe")) == 1, counts
    assert _landed(cluster, ids) == {video_id: ("loaded", 1, 1) for video_id in ids}


def test_a_wrong_password_is_refused_and_no_secret_reaches_output_or_logs(cluster):
    import json

    env = cluster.shell_env()
    env["TUBESCRIBE_AIRFLOW_PASSWORD"] = "not-the-password"
    done = subprocess.run(
        [cluster.tubescribe_bin, "ingest", "http://127.0.0.1:9/feed.xml"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "refused the login" in done.stdout and "TUBESCRIBE_AIRFLOW_PASSWORD" in done.stdout, done.stdout
    assert "not-the-password" not in done.stdout + done.stderr

    # The cluster's generated secrets, proven to be in use (the earlier logins worked), appear in no log.
    config = json.loads((cluster.root / "cluster.json").read_text())
    secrets = {k: config[k] for k in ("admin_password", "jwt_secret", "api_secret", "airflow_db_password",
                                      "catalog_db_password", "aws_secret")}  # fmt: skip
    with cluster.api() as client:
        assert client.request("GET", "/api/v2/dags/tubescribe_backfill")["dag_id"] == "tubescribe_backfill"
    logs = [*(cluster.root / "logs").rglob("*.log"), *(cluster.root / "workers").rglob("*.log")]
    assert logs
    for path in logs:
        text = path.read_text(errors="replace")
        leaked = [name for name, value in secrets.items() if value in text]
        assert not leaked, f"{path} holds {leaked}"
