"""Re-transcribe: replace the transcripts of videos already in the catalog with Whisper's, e.g. captions
with a bigger model's words (`tubescribe retranscribe --where "transcript_source = 'captions'"`).

Captions are off for this run and a Whisper transcript made with other settings counts as outdated,
so every selected video is heard again with the run's Whisper settings (audio still in the media
cache is reused). The replaced transcripts stay in `replaced_transcripts`; their summaries are stale
and made again from the new words.
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
    default_args={"priority_weight": 1},
    tags=["tubescribe"],
    **tasks.notifications(),
    params={
        **tasks.setting_params(),
        "where": Param(None, type=["null", "string"], description="SQL filter over video_overview, e.g. channel = 'X'"),
        "captions": Param("off", enum=["off"], description="Always Whisper: this DAG replaces captions"),
        "retranscribe": Param("outdated", enum=["outdated"], description="Redo transcripts made any other way"),
    },
)
def tubescribe_retranscribe():
    batches = tasks.select_loaded()
    audio = tasks.download.expand(batch=batches)
    transcripts = tasks.transcribe.expand(batch=audio)
    summaries = tasks.summarize.expand(batch=transcripts)
    vectors = tasks.embed.expand(batch=summaries)
    tasks.report(tasks.load.expand(batch=vectors))


tubescribe_retranscribe()
