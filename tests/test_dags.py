"""DAG integrity and structure: the files import cleanly, wire the stages, and do no I/O at parse time."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tubescribe.orchestration import embedded as airflow_env
from tubescribe.settings import OVERRIDES

DAG_FILES = sorted(airflow_env.dags_folder().glob("*.py"))
OVERRIDDEN = {override.name for override in OVERRIDES}
STAGES = ["discover", "download", "transcribe", "summarize", "embed", "load", "report"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(airflow_env.dags_folder()))


def test_dag_files_import_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {
        "tubescribe_backfill",
        "tubescribe_nightly",
        "tubescribe_resummarize",
        "tubescribe_retranscribe",
        "tubescribe_embed",
        "tubescribe_maintenance",
    }


@pytest.mark.parametrize("dag_id", ["tubescribe_backfill", "tubescribe_nightly", "tubescribe_retranscribe"])
def test_stages_are_chained_in_order(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    # Re-transcribing selects from the catalog instead of listing channels.
    stages = ["select", *STAGES[1:]] if dag_id == "tubescribe_retranscribe" else STAGES
    by_stage = {stage: next(t for t in dag.tasks if t.task_id.startswith(stage)) for stage in stages}
    for upstream, downstream in itertools.pairwise(stages):
        assert by_stage[upstream].task_id in by_stage[downstream].upstream_task_ids


@pytest.mark.parametrize("dag_id", ["tubescribe_backfill", "tubescribe_nightly", "tubescribe_retranscribe"])
def test_per_video_stages_are_mapped_over_batches(dagbag, dag_id: str) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag.dags[dag_id]
    for task_id in ("download", "transcribe", "summarize", "load"):
        assert isinstance(dag.get_task(task_id), MappedOperator), task_id


@pytest.mark.parametrize(
    "dag_id", ["tubescribe_backfill", "tubescribe_nightly", "tubescribe_resummarize", "tubescribe_retranscribe"]
)
def test_only_load_writes_and_it_runs_in_the_one_slot_pool(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    pools = {t.task_id: t.pool for t in dag.tasks}
    assert pools["load"] == airflow_env.CATALOG_POOL
    assert [t for t, p in pools.items() if p == airflow_env.CATALOG_POOL] == ["load"]


@pytest.mark.parametrize("dag_id", ["tubescribe_backfill", "tubescribe_nightly"])
def test_work_survives_a_lost_worker_and_the_verdict_is_not_retried(dagbag, dag_id: str) -> None:
    # Airflow's retries own what kills a task as a whole (a lost worker, a time limit); per-video errors are
    # the batch runner's. The report's failure is the run's verdict: retrying it would only repeat it.
    dag = dagbag.dags[dag_id]
    for task in dag.tasks:
        if task.task_id == "report":
            assert task.retries == 0
        else:
            assert task.retries >= 2, task.task_id
        assert task.execution_timeout is not None, task.task_id


def test_nightly_is_scheduled_and_backfill_is_manual(dagbag) -> None:
    assert dagbag.dags["tubescribe_nightly"].schedule == "0 2 * * *"
    assert dagbag.dags["tubescribe_backfill"].schedule is None


def test_backfill_params_cover_the_cli_options(dagbag) -> None:
    params = dagbag.dags["tubescribe_backfill"].params
    assert {"urls", "since", "until", "limit", *OVERRIDDEN} <= set(params.keys())


@pytest.mark.parametrize("dag_id", ["tubescribe_nightly", "tubescribe_resummarize"])
def test_every_run_takes_the_settings_overrides(dagbag, dag_id: str) -> None:
    assert set(dagbag.dags[dag_id].params.keys()) >= OVERRIDDEN


# Run in a fresh interpreter: once this test process has imported the package (and with it yt-dlp or duckdb),
# a DAG file would find them loaded already and the check could not fail.
PARSE_CHECK = """
import json, socket, sys, importlib.util
class NoNetwork(socket.socket):
    def __init__(self, *args, **kwargs):
        raise AssertionError("a DAG file opened a socket at parse time")
socket.socket = NoNetwork
spec = importlib.util.spec_from_file_location("parse_check", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""
HEAVY = {"yt_dlp", "faster_whisper", "duckdb", "openai", "ctranslate2", "av", "s3fs", "botocore"}


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_parsing_a_dag_file_does_no_io(path: Path, tmp_path: Path) -> None:
    """No network, no catalog, no home folder, and no heavy libraries are touched at parse time."""
    home = tmp_path / "never-created"
    env = {**os.environ, "TUBESCRIBE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", PARSE_CHECK, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "airflow" in loaded  # the check ran the file for real
    assert not home.exists()
    assert not loaded & HEAVY


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_files_stay_wiring(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 100


def test_resummarize_never_downloads_or_transcribes(dagbag) -> None:
    task_ids = {t.task_id for t in dagbag.dags["tubescribe_resummarize"].tasks}
    assert task_ids == {"select_loaded", "summarize", "embed", "load", "report"}


def test_a_backfill_cannot_starve_the_nightly_run(dagbag) -> None:
    backfill, nightly = dagbag.dags["tubescribe_backfill"], dagbag.dags["tubescribe_nightly"]
    assert backfill.max_active_tasks == 1
    assert all(b.priority_weight < n.priority_weight for b, n in zip(backfill.tasks, nightly.tasks, strict=False))
