"""The catalog is an Airflow asset: a load that wrote something records an asset event for it, and a
downstream DAG scheduled on it (docs/examples/catalog_downstream.py, the README's) is queued to run.

The real backfill DAG runs in-process (dag.test(), against the loopback sample channel) on the same
metadata database as the downstream DAG; the proof is what Airflow's own scheduler reads to start
asset-triggered runs: the AssetEvent and the AssetDagRunQueue row for the downstream DAG. (The full
scheduler stack in tests/airflow_support.py would only add the scheduler turning that row into a run,
minutes of start-up for Airflow's own code path.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tubescribe.orchestration import embedded as airflow_env
from tubescribe.orchestration.assets import CATALOG
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "catalog_downstream.py"
DOWNSTREAM = "tubescribe_catalog_downstream"
DEAD = "http://127.0.0.1:1/gone/feed.xml"  # port 1: nothing listens there


@pytest.fixture
def home(airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    for name in ("TUBESCRIBE_NOTIFY_WEBHOOK_URL", "TUBESCRIBE_NOTIFY_FILE", "TUBESCRIBE_NOTIFY_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return Settings.load()


@pytest.fixture
def downstream(home: Settings, tmp_path: Path) -> Iterator[str]:
    """The README's downstream DAG, parsed and written to the metadata database as the DAG processor
    would, and unpaused (Airflow queues no run for a paused DAG)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    folder = tmp_path / "user-dags"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / EXAMPLE.name)
    bag = DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    assert DOWNSTREAM in bag.dags
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    with create_session() as session:
        model = session.get(DagModel, DOWNSTREAM)
        assert model is not None
        model.is_paused = False
        _clear_queue(session)
    yield DOWNSTREAM
    with create_session() as session:  # the metadata database is the test session's: leave it quiet
        model = session.get(DagModel, DOWNSTREAM)
        if model is not None:
            model.is_paused = True
        _clear_queue(session)


def _clear_queue(session) -> None:
    from airflow.models.asset import AssetDagRunQueue

    session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == DOWNSTREAM).delete()


def _events_and_queue(run_id_prefix: str = "") -> tuple[list[dict], list[str]]:
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        asset = session.query(AssetModel).filter(AssetModel.name == CATALOG.name).one_or_none()
        if asset is None:
            return [], []
        events = [
            {"dag_id": e.source_dag_id, "run_id": e.source_run_id, "task_id": e.source_task_id, "extra": e.extra}
            for e in session.query(AssetEvent).filter(AssetEvent.asset_id == asset.id).order_by(AssetEvent.id)
        ]
        queued = [
            q.target_dag_id for q in session.query(AssetDagRunQueue).filter(AssetDagRunQueue.asset_id == asset.id)
        ]
    return events, queued


def test_a_load_that_landed_emits_the_catalog_event_and_queues_the_downstream_dag(
    home: Settings, downstream: str
) -> None:
    before, _ = _events_and_queue()
    with serve_sample_channel(only=["rust"]) as feed:
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [feed]}) == "success"
    events, queued = _events_and_queue()
    new = events[len(before) :]
    assert [(e["dag_id"], e["task_id"]) for e in new] == [("tubescribe_backfill", "load")]
    assert new[0]["extra"] == {"loaded": 1, "failed": 0}
    assert queued == [downstream]  # the scheduler's next loop starts tubescribe_catalog_downstream


def test_a_run_that_wrote_nothing_emits_nothing(home: Settings, downstream: str) -> None:
    before, _ = _events_and_queue()
    # Nothing listed: discover fails, no batch reaches load, the catalog is untouched.
    assert airflow_env.run_dag("tubescribe_backfill", {"urls": [DEAD]}) == "failed"
    events, queued = _events_and_queue()
    assert events[len(before) :] == [] and queued == []
