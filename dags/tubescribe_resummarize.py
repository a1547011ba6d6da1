"""Re-summarize: summarize videos already in the catalog again, after a model or prompt change.

Nothing is downloaded or transcribed; earlier summaries stay in the catalog beside the new ones, and
the default views show the newest. `tubescribe resummarize` runs this DAG in-process.
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
def tubescribe_resummarize():
    batches = tasks.select_loaded()
    summaries = tasks.summarize.expand(batch=batches)
    vectors = tasks.embed.expand(batch=summaries)
    tasks.report(tasks.load.expand(batch=vectors))


tubescribe_resummarize()
