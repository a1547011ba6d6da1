"""The Airflow tasks the DAGs wire together; each body is one call into `tubescribe.pipeline.steps` (the
backfill's dry run: `tubescribe.pipeline.plan`).

Only `airflow.sdk` is imported here, so parsing a DAG file stays cheap and does no I/O.

Retries have one owner per failure: the clients retry a single request (yt-dlp's `retries`, the OpenAI
client's attempts with Retry-After); the batch runner retries one video's stage within the run
(transient errors, TUBESCRIBE_STAGE_RETRIES, with backoff) and records what still fails; Airflow retries
a task as a whole, which is what is left: a listing that failed transiently, a worker lost mid-task
(killed, evicted, past its heartbeat), a time limit hit. `load` runs in the one-slot
`tubescribe_catalog` pool, so a single task writes the catalog at a time. Discover and download run
in the `tubescribe_network` pool (slots = TUBESCRIBE_PLATFORM_CONCURRENCY), which bounds requests to
the platforms across every worker. Transcription goes to the `transcribe` queue (the machines with
Whisper's cores or a GPU), everything else to `default`. Every task has a time limit, so a hung
request or decoder frees its worker instead of holding it forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, conf, task
from airflow.sdk.exceptions import AirflowFailException

from tubescribe import credentials
from tubescribe.errors import TubescribeError
from tubescribe.orchestration import notify
from tubescribe.orchestration.assets import CATALOG, CATALOG_CHANGES
from tubescribe.orchestration.pools import CATALOG_POOL, NETWORK_POOL
from tubescribe.pipeline import plan as planning
from tubescribe.pipeline import steps as pipeline
from tubescribe.settings import OVERRIDES, Override

# The task-level retry (see above): every task gets it; stages skip finished work, so a retry resumes.
TASK_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": 2.0,
}
DEFAULT_QUEUE = "default"
TRANSCRIBE_QUEUE = "transcribe"

# Time limits. Listing a channel is a few requests; a batch of downloads with politeness pauses can be
# long; transcribing a batch of hour-long videos on CPU is the longest; summaries wait on an LLM with
# its own per-request timeout and retries; embedding a batch takes seconds locally (a server may be
# slower); loading and reporting touch only local data.
DISCOVER_TIMEOUT = timedelta(minutes=30)
SELECT_TIMEOUT = timedelta(minutes=10)
DOWNLOAD_TIMEOUT = timedelta(hours=2)
TRANSCRIBE_TIMEOUT = timedelta(hours=6)
SUMMARIZE_TIMEOUT = timedelta(hours=1)
EMBED_TIMEOUT = timedelta(hours=1)
LOAD_TIMEOUT = timedelta(minutes=30)
REPORT_TIMEOUT = timedelta(minutes=5)


def _param(override: Override) -> Param:
    schema: dict[str, Any] = {"enum": [None, *override.choices]} if override.choices else {}
    return Param(None, type=["null", "string"], description=override.help, **schema)


def setting_params() -> dict[str, Param]:
    """The run-time overrides of settings (settings.OVERRIDES) as DAG params (None: the environment's setting).

    New Param objects on every call: `Param.resolve` keeps the value it resolved, so Params shared by
    DAGs (or by a test) would hand one run's value on as the next one's default.
    """
    return {override.name: _param(override) for override in OVERRIDES}


def _airflow_connection(conn_id: str) -> credentials.Credential | None:
    """A credential from an Airflow connection (its password and host), for the stages that need one."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        found = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return credentials.Credential(password=(found.password or "").strip(), host=(found.host or "").strip())


credentials.register(_airflow_connection)


def _max_batches() -> int:
    return conf.getint("core", "max_map_length", fallback=1024)


@contextmanager
def _fail_unless_transient() -> Iterator[None]:
    """A listing's permanent error (a dead URL, a blocked platform) fails the task at once; Airflow retries
    only a transient one."""
    try:
        yield
    except TubescribeError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(str(exc)) from None


@task.short_circuit(**TASK_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DISCOVER_TIMEOUT)
def plan(params: dict[str, Any] | None = None, ti: Any = None) -> bool:
    """Backfill with `dry_run`: what the run would take (`tubescribe plan`) in the log and in the XCom
    `plan` (its figures, without the list of videos), and everything downstream skipped, so nothing is
    downloaded and no run summary is sent. Without it: on to discover."""
    params = params or {}
    if not params.get("dry_run"):
        return True
    with _fail_unless_transient():
        estimate = planning.dry_run(
            pipeline.settings_from_params(params),
            params.get("urls") or [],
            params.get("since"),
            params.get("until"),
            params.get("limit"),
        )
    ti.xcom_push(key="plan", value=estimate)
    return False


@task(**TASK_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DISCOVER_TIMEOUT)
def discover_urls(params: dict[str, Any] | None = None, run_id: str | None = None) -> list[list[str]]:
    """Backfill: list the run's URLs, select by date window and limit, batch the ids."""
    params = params or {}
    with _fail_unless_transient():
        return pipeline.discover(
            pipeline.settings_from_params(params),
            params.get("urls") or [],
            params.get("since"),
            params.get("until"),
            params.get("limit"),
            _max_batches(),
            run_id=run_id,
        )


@task(**TASK_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DISCOVER_TIMEOUT)
def discover_registered(params: dict[str, Any] | None = None, run_id: str | None = None) -> list[list[str]]:
    """Nightly: list every channel in channels.toml and batch the ids."""
    return pipeline.discover_registered(pipeline.settings_from_params(params), _max_batches(), run_id)


@task(queue=DEFAULT_QUEUE, execution_timeout=SELECT_TIMEOUT)
def select_loaded(params: dict[str, Any] | None = None) -> list[list[str]]:
    """Re-summarize: the catalog's loaded videos matching the run's `where` filter, batched."""
    params = params or {}
    return pipeline.select_loaded(pipeline.settings_from_params(params), params.get("where"))


@task(**TASK_RETRIES, pool=NETWORK_POOL, queue=DEFAULT_QUEUE, execution_timeout=DOWNLOAD_TIMEOUT)
def download(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.download(pipeline.settings_from_params(params), batch, run_id)


@task(**TASK_RETRIES, queue=TRANSCRIBE_QUEUE, execution_timeout=TRANSCRIBE_TIMEOUT)
def transcribe(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.transcribe(pipeline.settings_from_params(params), batch, run_id)


@task(**TASK_RETRIES, queue=DEFAULT_QUEUE, execution_timeout=SUMMARIZE_TIMEOUT)
def summarize(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.summarize(pipeline.settings_from_params(params), batch, run_id)


@task(**TASK_RETRIES, queue=DEFAULT_QUEUE, execution_timeout=EMBED_TIMEOUT)
def embed(batch: list[str], params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    return pipeline.embed(pipeline.settings_from_params(params), batch, run_id)


def notifications(deadline: bool = False) -> dict[str, Any]:
    """The DAG arguments that send the run's summary on success and failure (settings.Notifications chooses
    where, when the callback runs; none set: nothing is sent) and, with `deadline`, alert a late run."""
    return notify.dag_callbacks(deadline)


@task(**TASK_RETRIES, pool=CATALOG_POOL, queue=DEFAULT_QUEUE, execution_timeout=LOAD_TIMEOUT, outlets=[CATALOG_CHANGES])
def load(batch: list[str], params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, list[str]]:
    """Write the batch; when it wrote something, an asset event for the catalog (assets.CATALOG)."""
    result = pipeline.load(pipeline.settings_from_params(params), batch)
    if outlet_events is not None and (result["loaded"] or result["failed"]):
        written = {"loaded": len(result["loaded"]), "failed": len(result["failed"])}
        outlet_events[CATALOG_CHANGES].add(CATALOG, extra=written)
    return result


@task(queue=DEFAULT_QUEUE, execution_timeout=REPORT_TIMEOUT)
def report(
    results: list[dict[str, list[str]]], params: dict[str, Any] | None = None, run_id: str | None = None
) -> dict[str, int]:
    return pipeline.report(list(results), pipeline.settings_from_params(params), run_id)
