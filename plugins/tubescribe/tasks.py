"""The Airflow tasks both DAGs wire together; each body is one call into `tubescribe.pipeline`.

Only `airflow.sdk` is imported here, so parsing a DAG file stays cheap and does no I/O. Download and
summarize talk to the network and retry with exponential backoff; `load` runs in the one-slot
`tubescribe_catalog` pool, so a single task writes the catalog at a time. Discover and download run
in the `tubescribe_network` pool (slots = TUBESCRIBE_PLATFORM_CONCURRENCY), which bounds requests to
the platforms across every worker. Transcription goes to the `transcribe` queue (the machines with
Whisper's cores or a GPU), everything else to `default`. Every task has a time limit, so a hung
request or decoder frees its worker instead of holding it forever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, conf, task
from airflow.sdk.exceptions import AirflowFailException

from tubescribe import pipeline
from tubescribe.discover import DiscoverError

NETWORK_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}
# Listing is one cheap request: retry soon, and not at all when the URL itself is wrong.
DISCOVER_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": 2.0,
}
CATALOG_POOL = "tubescribe_catalog"
NETWORK_POOL = "tubescribe_network"
DEFAULT_QUEUE = "default"
TRANSCRIBE_QUEUE = "transcribe"

# Time limits. Listing a channel is a few requests; a batch of downloads with politeness pauses can be
# long; transcribing a batch of hour-long videos on CPU is the longest; summaries wait on an LLM with
# its own per-request timeout and retries; loading and reporting touch only local data.
DISCOVER_TIMEOUT = timedelta(minutes=30)
SELECT_TIMEOUT = timedelta(minutes=10)
DOWNLOAD_TIMEOUT = timedelta(hours=2)
TRANSCRIBE_TIMEOUT = timedelta(hours=6)
SUMMARIZE_TIMEOUT = timedelta(hours=1)
LOAD_TIMEOUT = timedelta(minutes=30)
REPORT_TIMEOUT = timedelta(minutes=5)

# Run-time overrides of settings, shared by both DAGs (None: use the environment's setting).
SETTING_PARAMS = {
    "summarizer": Param(
        None, type=["null", "string"], enum=[None, "local", "openai"], description="Summarizer backend"
    ),
    "whisper_model": Param(None, type=["null", "string"], description="faster-whisper model name or local path"),
}


def _max_batches() -> int:
    return conf.getint("core", "max_map_length", fallback=1024)


@task(**DISCOVER_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DISCOVER_TIMEOUT)
def discover_urls(params: dict[str, Any] | None = None) -> list[list[str]]:
    """Backfill: list the run's URLs, select by date window and limit, batch the ids."""
    params = params or {}
    settings = pipeline.settings_from_params(params)
    try:
        return pipeline.discover(
            settings,
            params.get("urls") or [],
            params.get("since"),
            params.get("until"),
            params.get("limit"),
            _max_batches(),
        )
    except DiscoverError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(str(exc)) from None


@task(**DISCOVER_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DISCOVER_TIMEOUT)
def discover_registered(params: dict[str, Any] | None = None) -> list[list[str]]:
    """Nightly: list every channel in channels.toml and batch the ids."""
    return pipeline.discover_registered(pipeline.settings_from_params(params), _max_batches())


@task(queue=DEFAULT_QUEUE, execution_timeout=SELECT_TIMEOUT)
def select_loaded(params: dict[str, Any] | None = None) -> list[list[str]]:
    """Re-summarize: the catalog's loaded videos matching the run's `where` filter, batched."""
    params = params or {}
    return pipeline.select_loaded(pipeline.settings_from_params(params), params.get("where"))


@task(**NETWORK_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DOWNLOAD_TIMEOUT)
def download(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.download(pipeline.settings_from_params(params), batch, run_id)


@task(retries=1, queue=TRANSCRIBE_QUEUE, execution_timeout=TRANSCRIBE_TIMEOUT)
def transcribe(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.transcribe(pipeline.settings_from_params(params), batch, run_id)


@task(**NETWORK_RETRIES, queue=DEFAULT_QUEUE, execution_timeout=SUMMARIZE_TIMEOUT)
def summarize(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.summarize(pipeline.settings_from_params(params), batch, run_id)


@task(pool=CATALOG_POOL, retries=2, queue=DEFAULT_QUEUE, execution_timeout=LOAD_TIMEOUT)
def load(batch: list[str], params: dict[str, Any] | None = None) -> dict[str, list[str]]:
    return pipeline.load(pipeline.settings_from_params(params), batch)


@task(queue=DEFAULT_QUEUE, execution_timeout=REPORT_TIMEOUT)
def report(results: list[dict[str, list[str]]]) -> dict[str, int]:
    return pipeline.report(list(results))
