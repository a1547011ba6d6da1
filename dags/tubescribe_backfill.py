"""Backfill: ingest chosen channels' history by publish date, resumably.

Re-running a backfill resumes it: every stage skips videos whose artifacts already exist. With `dry_run`
the plan task says what the run would take (`tubescribe plan`) and nothing after it runs.
`tubescribe ingest` runs this DAG in-process.
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
    # One task at a time and low priority: a backfill of thousands never starves the nightly run.
    max_active_tasks=1,
    default_args={"priority_weight": 1},
    tags=["tubescribe"],
    **tasks.notifications(),
    params={
        "urls": Param(
            [], type="array", items={"type": "string"}, minItems=1, description="Channel, playlist or feed URLs"
        ),
        "since": Param(None, type=["null", "string"], format="date", description="First publish date (inclusive)"),
        "until": Param(None, type=["null", "string"], format="date", description="Last publish date (inclusive)"),
        "limit": Param(None, type=["null", "integer"], minimum=1, description="At most this many videos, newest first"),
        "dry_run": Param(False, type="boolean", description="Only plan: what the run would take, in the plan task"),
        **tasks.setting_params(),
    },
)
def tubescribe_backfill():
    batches = tasks.discover_urls()
    tasks.plan() >> batches
    audio = tasks.download.expand(batch=batches)
    transcripts = tasks.transcribe.expand(batch=audio)
    summaries = tasks.summarize.expand(batch=transcripts)
    vectors = tasks.embed.expand(batch=summaries)
    tasks.report(tasks.load.expand(batch=vectors))


tubescribe_backfill()
