"""Nightly: ingest what is new on every channel listed in $TUBESCRIBE_HOME/channels.toml.

Stages skip work whose artifacts exist, so a night with nothing new downloads and transcribes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from tubescribe.orchestration import tasks


@dag(
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"priority_weight": 10},
    dagrun_timeout=timedelta(hours=20),
    tags=["tubescribe"],
    **tasks.notifications(deadline=True),
    params=tasks.setting_params(),
)
def tubescribe_nightly():
    batches = tasks.discover_registered()
    audio = tasks.download.expand(batch=batches)
    transcripts = tasks.transcribe.expand(batch=audio)
    summaries = tasks.summarize.expand(batch=transcripts)
    vectors = tasks.embed.expand(batch=summaries)
    tasks.report(tasks.load.expand(batch=vectors))


tubescribe_nightly()
