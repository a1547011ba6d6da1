"""Run a DAG on a deployed Airflow through its REST API, reporting progress as the in-process run does.

`tubescribe ingest` sends its run here when TUBESCRIBE_AIRFLOW_API_URL is set: the DAG runs on the
deployment's scheduler and workers, and the CLI follows it by polling the run's task instances and the
ids their tasks return (XCom), turning them into the same `progress.Event`s the stages emit in-process:
a running (mapped) task is "started" under its label (`transcribe[2]`), each video its finished task
returned is "done", and the task then "ended". Titles and audio lengths stay on the workers, so the
display's estimate is counted in videos.
The credentials (TUBESCRIBE_AIRFLOW_USERNAME / TUBESCRIBE_AIRFLOW_PASSWORD) are read from the environment
when the client logs in, and are never logged, printed or kept beyond the token they buy.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from tubescribe.errors import TubescribeError
from tubescribe.pipeline.progress import Event
from tubescribe.text import clean_text

FINISHED = ("success", "failed")
# Tasks whose return value lists the video ids of their batch; `load` returns what landed and what did not.
PASSES_IDS = {"discover_urls": "discover", "discover_registered": "discover", "select_loaded": "select"}
STAGES = ("download", "transcribe", "summarize", "embed")


class RemoteError(TubescribeError):
    """Airflow's API could not be reached or refused a request; the message says what to check."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status Airflow answered, None when it could not be reached


@dataclass(frozen=True)
class TaskInstance:
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    hostname: str | None

    @property
    def label(self) -> str:
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


class AirflowClient:
    """A logged-in session with one Airflow API server (Airflow 3, REST API v2)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """Get a token: username and password from the environment, or none where the server lets all in."""
        username = os.environ.get("TUBESCRIBE_AIRFLOW_USERNAME", "").strip()
        password = os.environ.get("TUBESCRIBE_AIRFLOW_PASSWORD", "")
        try:
            if username and password:
                resp = self._http.post("/auth/token", json={"username": username, "password": password})
            else:  # SimpleAuthManager with simple_auth_manager_all_admins: a token for no credentials
                resp = self._http.get("/auth/token")
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach Airflow at {self.base_url}: {exc}") from None
        if resp.status_code in (401, 403):
            raise RemoteError(
                f"Airflow at {self.base_url} refused the login ({resp.status_code}): "
                "check TUBESCRIBE_AIRFLOW_USERNAME and TUBESCRIBE_AIRFLOW_PASSWORD"
            )
        if resp.status_code >= 400:
            raise RemoteError(f"Airflow at {self.base_url}: login answered {resp.status_code}")
        self._token = str(resp.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; logs in first and once more when the token has expired. Returns the JSON answer."""
        resp = self._send(method, path, **kwargs)
        if resp.status_code == 401:  # the token expired (or the server restarted with a new secret)
            self._token = None
            resp = self._send(method, path, **kwargs)
        if resp.status_code >= 400:
            message = f"{method} {path}: Airflow answered {resp.status_code}: {_detail(resp)}"
            raise RemoteError(message, resp.status_code)
        return resp.json() if resp.content else None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._token is None:
            self.login()
        try:
            return self._http.request(method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach Airflow at {self.base_url}: {exc}") from None

    # -- the calls tubescribe makes ---------------------------------------------------------------

    def wait_for_dag(self, dag_id: str, timeout_s: float = 180.0) -> dict[str, Any]:
        """The DAG's details, waiting while the DAG processor has not parsed it yet (a fresh deployment)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return dict(self.request("GET", f"/api/v2/dags/{quote(dag_id)}"))
            except RemoteError as exc:
                if exc.status != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(2.0)

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{quote(dag_id)}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> str:
        """Start a run of the DAG with this conf; returns its run id."""
        run_id = run_id or f"tubescribe-cli__{datetime.now(UTC):%Y%m%dT%H%M%S}_{secrets.token_hex(3)}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        answer = self.request("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", json=body)
        return str(answer["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstance]:
        """Every task instance of the run, mapped ones one by one."""
        found: list[TaskInstance] = []
        while True:
            page = self.request(
                "GET",
                f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            rows = page["task_instances"]
            found += [
                TaskInstance(r["task_id"], int(r["map_index"]), r["state"], int(r["try_number"]), r.get("hostname"))
                for r in rows
            ]
            if not rows or len(found) >= int(page["total_entries"]):
                return found

    def return_value(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
        """What a finished task returned (its XCom); None if it returned nothing."""
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        try:
            answer = self.request("GET", f"{path}/xcomEntries/return_value", params={"map_index": map_index})
        except RemoteError as exc:
            if exc.status == 404:
                return None
            raise
        value = answer["value"]
        if isinstance(value, str):  # stored serialized by some writers: decode it here
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        return value


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail", resp.text)
    except ValueError:
        detail = resp.text
    return str(detail)[:500]


class RemoteRun:
    """One triggered run: `events()` yields progress until it ends; then `state` is its final state."""

    def __init__(self, client: AirflowClient, dag_id: str, run_id: str, *, poll_s: float = 2.0) -> None:
        self.client, self.dag_id, self.run_id, self.poll_s = client, dag_id, run_id, poll_s
        self.state: str | None = None
        self._seen: dict[tuple[str, int], tuple[str | None, int]] = {}

    def events(self, timeout_s: float | None = None) -> Iterator[Event]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            # The run's state is read before its tasks, so the last poll sees every task's final state.
            state = self.client.run_state(self.dag_id, self.run_id)
            for ti in self.client.task_instances(self.dag_id, self.run_id):
                yield from self._changes(ti)
            if state in FINISHED:
                self.state = state
                return
            if deadline is not None and time.monotonic() > deadline:
                raise RemoteError(f"run {self.run_id} of {self.dag_id} still {state} after {timeout_s:.0f} s")
            time.sleep(self.poll_s)

    def _changes(self, ti: TaskInstance) -> Iterator[Event]:
        # What the server sent is data: no control codes reach the terminal (the ids are checked by the workers).
        for event in self._translate(ti):
            yield Event(clean_text(event.video_id), event.stage, event.status, clean_text(event.detail))

    def _translate(self, ti: TaskInstance) -> Iterator[Event]:
        key = (ti.task_id, ti.map_index)
        now = (ti.state, ti.try_number)
        if self._seen.get(key) == now:
            return
        self._seen[key] = now
        stage = PASSES_IDS.get(ti.task_id, ti.task_id)
        where = f"on {ti.hostname}" if ti.hostname else ""
        if ti.state == "running":
            yield Event(ti.label, stage, "started", f"try {ti.try_number} {where}".strip())
        elif ti.state == "up_for_retry":
            yield Event(ti.label, stage, "retrying", f"try {ti.try_number} {where} ended; Airflow retries it".strip())
        elif ti.state == "failed":
            yield Event(ti.label, stage, "failed", f"task failed {where}; its log is in the Airflow UI".strip())
        elif ti.state == "success":
            yield from self._landed(ti, stage, where)
            # The task is no longer in flight; its videos came as their own events.
            yield Event(ti.label, stage, "ended", where)

    def _landed(self, ti: TaskInstance, stage: str, where: str) -> Iterator[Event]:
        value = self.client.return_value(self.dag_id, self.run_id, ti.task_id, ti.map_index)
        if ti.task_id in PASSES_IDS:
            for batch in value or []:
                for video_id in batch:
                    yield Event(str(video_id), stage, "done", where)
        elif ti.task_id in STAGES:
            for video_id in value or []:
                yield Event(str(video_id), stage, "done", where)
        elif ti.task_id == "load" and isinstance(value, dict):
            for video_id in value.get("loaded", []):
                yield Event(str(video_id), "load", "done", f"in the catalog ({where})")
            for status in ("failed", "pending"):
                for video_id in value.get(status, []):
                    yield Event(str(video_id), "load", "failed", f"{status}: see the catalog's ingest_failures")


def start(base_url: str, dag_id: str, conf: dict[str, Any], *, client: AirflowClient | None = None) -> RemoteRun:
    """Trigger a run of `dag_id` (unpausing the DAG if needed) and return it, to follow with `events()`."""
    client = client or AirflowClient(base_url)
    dag = client.wait_for_dag(dag_id)
    if dag.get("is_paused"):
        client.unpause(dag_id)
    return RemoteRun(client, dag_id, client.trigger(dag_id, conf))
