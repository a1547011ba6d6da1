"""Weekly: compact the catalog (DuckLake: merge files, expire old snapshots, delete unused files).

Runs in the catalog pool, so it never overlaps a load; tubescribe.catalog.maintenance.maintain says what it does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from tubescribe.orchestration import tasks


@task(pool=tasks.CATALOG_POOL, retries=2, queue=tasks.DEFAULT_QUEUE, execution_timeout=timedelta(hours=2))
def maintain_catalog() -> dict[str, int]:
    from tubescribe.catalog import maintenance
    from tubescribe.pipeline import steps as pipeline

    done = maintenance.maintain(pipeline.settings_from_params(None))
    return {"snapshots_before": done.snapshots_before, "snapshots_after": done.snapshots_after}


@dag(
    schedule="0 4 * * 0",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["tubescribe"],
)
def tubescribe_maintenance():
    maintain_catalog()


tubescribe_maintenance()
