"""Re-embed: embed videos already in the catalog with the current embedding model (after a model change).

New videos are embedded as they are ingested; this DAG is for the ones already there. Nothing is
downloaded, transcribed or summarized; `tubescribe embed` runs it. Vectors of the old model stay in
`embeddings` under that model's name until `tubescribe catalog` maintenance or a user deletes them.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag

from tubescribe.orchestration import tasks


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args={"priority_weight": 1},
    tags=["tubescribe"],
    **tasks.notifications(),
    params={
        "where": Param(None, type=["null", "string"], description="SQL filter over video_overview, e.g. channel = 'X'"),
        **tasks.setting_params(),
    },
)
def tubescribe_embed():
    batches = tasks.select_loaded()
    vectors = tasks.embed.expand(batch=batches)
    tasks.report(tasks.load.expand(batch=vectors))


tubescribe_embed()
