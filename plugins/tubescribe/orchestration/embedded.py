"""Embedded Airflow: point Airflow at $TUBESCRIBE_HOME, initialise it on first use, run a DAG in-process.

`tubescribe ingest` runs the real backfill DAG with `dag.test()` (what `airflow dags test` does), so
the CLI and the scheduler share one pipeline definition. Airflow reads its configuration when it is
first imported, so `configure()` must run before anything imports airflow.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from tubescribe.errors import TubescribeError, disk_full_as
from tubescribe.orchestration.pools import CATALOG_POOL, NETWORK_POOL
from tubescribe.settings import Settings

log = logging.getLogger(__name__)


class AirflowSetupError(TubescribeError):
    """Airflow could not be configured or initialised."""


def dags_folder() -> Path:
    """The repository's `dags/` folder (override with TUBESCRIBE_DAGS_FOLDER)."""
    override = os.environ.get("TUBESCRIBE_DAGS_FOLDER")
    return Path(override) if override else Path(str(resources.files("tubescribe.orchestration") / "dags"))


def configure(settings: Settings) -> dict[str, str]:
    """Set the environment so an embedded Airflow keeps everything under the home; return what was set."""
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(settings.airflow_home):
        raise AirflowSetupError("Airflow was imported before tubescribe configured it; import tubescribe first")
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{settings.airflow_home / 'airflow.db'}",
        # Airflow's own chatter goes to its log files; tubescribe prints progress itself.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "TUBESCRIBE_HOME": str(settings.home),
    }
    os.environ.update(env)
    return env


def initialise(settings: Settings) -> None:
    """Create or upgrade Airflow's metadata database and tubescribe's pools (idempotent, quick when done).

    Two first ingests on a fresh home may start together: the lock makes the second wait for the
    first's migration instead of migrating the same database at the same time.
    """
    import airflow
    from airflow.utils.db import upgradedb

    marker = settings.airflow_home / f".initialised-{airflow.__version__}"
    with (
        disk_full_as(settings.airflow_home, "Airflow's metadata database"),
        _exclusive(settings.airflow_home / ".initialise.lock"),
    ):
        if not marker.exists():
            log.info("initialising Airflow %s metadata in %s", airflow.__version__, settings.airflow_home)
            upgradedb()
            marker.touch()
        # Every time, so a changed TUBESCRIBE_PLATFORM_CONCURRENCY reaches the pool.
        ensure_pools(settings)


def ensure_pools(settings: Settings) -> None:
    """Create or update tubescribe's pools; another process creating one at the same moment is fine."""
    from airflow.models.pool import Pool
    from sqlalchemy.exc import IntegrityError

    wanted = (
        (CATALOG_POOL, 1, "single writer of the tubescribe catalog"),
        (NETWORK_POOL, settings.platform_concurrency, "listing and downloading, across all runs"),
    )
    for name, slots, description in wanted:
        for attempt in range(2):
            try:
                Pool.create_or_update_pool(name, slots=slots, description=description, include_deferred=False)
                break
            except IntegrityError:
                # A shared metadata database (no file lock there): someone inserted it first; now it updates.
                if attempt:
                    raise


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_dag(dag_id: str, conf: dict[str, Any]) -> str:
    """Run one DAG run in this process and return its final state ("success" or "failed")."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder()))
    if bag.import_errors:
        raise AirflowSetupError("DAG import errors: " + "; ".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise AirflowSetupError(f"no DAG {dag_id!r} in {dags_folder()}")
    with disk_full_as(os.environ.get("AIRFLOW_HOME", "AIRFLOW_HOME"), "Airflow's metadata database"):
        run = dag.test(run_conf=conf)
    return str(run.state)
