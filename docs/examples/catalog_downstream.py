"""A downstream DAG: runs after a tubescribe load changed the catalog. Copy it into your DAG folder.

tubescribe's `load` task adds an asset event for `tubescribe_catalog` whenever it wrote something (videos
landed, or failures recorded); Airflow queues one run of every unpaused DAG scheduled on that asset.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, dag, task

TUBESCRIBE_CATALOG = Asset(name="tubescribe_catalog", uri="tubescribe://catalog/")


@dag(schedule=[TUBESCRIBE_CATALOG], start_date=datetime(2024, 1, 1), catchup=False, tags=["downstream"])
def tubescribe_catalog_downstream():
    @task
    def refresh(triggering_asset_events=None) -> int:
        """Your dbt run, export or dashboard refresh goes here; each event says what its load wrote."""
        landed = sum(e.extra.get("loaded", 0) for e in (triggering_asset_events or {}).get(TUBESCRIBE_CATALOG, []))
        print(f"the catalog changed: {landed} videos landed")
        return landed

    refresh()


tubescribe_catalog_downstream()
