"""What a tubescribe deployment is made of: the variables each component gets, its commands, pools and queues.

One description for both shapes: `scripts/cluster.py` starts the loopback cluster from it, and
docker/docker-compose.yaml is held to it by tests/test_deploy_files.py (Docker cannot run where this
project is developed). Addresses, paths and secrets differ between the two and are arguments here;
everything else is the same value in both. Standard library only, and no I/O.
"""

from __future__ import annotations

import inspect

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
ADMIN_USER = "tubescribe"  # the Airflow user the CLI logs in as

POOLS: dict[str, tuple[int, str]] = {
    "tubescribe_catalog": (1, "single writer of the tubescribe catalog"),
    "tubescribe_network": (2, "concurrent downloads from video platforms"),
}
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# The loopback cluster's workers: two machines that both serve every queue.
WORKERS: dict[str, tuple[str, ...]] = {
    "transcribe-1": ("transcribe", "default"),
    "transcribe-2": ("transcribe", "default"),
}
# docker/docker-compose.yaml's workers: transcription on machines of its own, everything else on the default one.
PRODUCTION_WORKERS: dict[str, tuple[str, ...]] = {
    "worker-default": ("default",),
    "worker-transcribe": ("transcribe",),
}
# tubescribe settings every Celery worker gets. A task runs below Celery's prefork pool, in a daemonic
# process, which may not start processes of its own, so tubescribe decodes in the task's process there; said
# explicitly here so the CTranslate2 thread count (cores / workers) does not rest on that detection.
WORKER_SETTINGS = {"TUBESCRIBE_WHISPER_WORKERS": "1"}
# Set per machine rather than shared: each worker's own disk.
PER_MACHINE = ("TUBESCRIBE_HOME", "TUBESCRIBE_SCRATCH_DIR")
# Variables only the Airflow servers get: a worker reaches the metadata through the API server with the
# token the scheduler gave its task, so it never holds the database password or the signing secrets.
SERVER_ONLY = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
)
# What a task needs to reach the shared state (credentials included, read by the libraries at connect time).
TUBESCRIBE_SHARED = (
    "TUBESCRIBE_STORE_URL",
    "TUBESCRIBE_CATALOG_URL",
    "TUBESCRIBE_LAKE_DATA_URL",
    "TUBESCRIBE_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "PGPASSWORD",
)
# How the CLI reaches Airflow (tubescribe.orchestration.remote reads the credentials from the environment at call time).
CLIENT = ("TUBESCRIBE_AIRFLOW_API_URL", "TUBESCRIBE_AIRFLOW_USERNAME", "TUBESCRIBE_AIRFLOW_PASSWORD")
# Seconds without a task heartbeat before the scheduler fails the attempt and retries it elsewhere. The
# default (300) makes a killed worker's task wait five minutes; 30 s is enough for a loaded 2-core machine.
HEARTBEAT_TIMEOUT_S = 30


def service_command(name: str, *, host: str, port: int) -> list[str]:
    """The `airflow ...` arguments that start one Airflow service (host and port: the API server's)."""
    if name == "api-server":
        return ["airflow", "api-server", "--host", host, "--port", str(port)]
    if name not in SERVICES:
        raise KeyError(name)
    return ["airflow", name]


def worker_command(name: str, queues: tuple[str, ...]) -> list[str]:
    """The `airflow celery worker ...` arguments of one worker: its queues, one task at a time."""
    # One task at a time: a transcription uses both cores already.
    return ["airflow", "celery", "worker", "--queues", ",".join(queues), "--concurrency", "1",
            "--celery-hostname", f"{name}@%h"]  # fmt: skip


def init_commands() -> list[list[str]]:
    """What the init job runs once before the services start (idempotent)."""
    commands = [["airflow", "db", "migrate"]]
    for pool, (slots, description) in POOLS.items():
        commands.append(["airflow", "pools", "set", pool, str(slots), description])
    return commands


def airflow_environment(
    *, airflow_home: str, dags_folder: str, db_url: str, broker_url: str, result_backend: str, api_url: str,
    jwt_secret: str, api_secret: str, passwords_file: str,
) -> dict[str, str]:  # fmt: skip
    """The AIRFLOW__* settings every Airflow process of a deployment shares (workers drop SERVER_ONLY)."""
    return {
        "AIRFLOW_HOME": airflow_home,
        "AIRFLOW__CORE__DAGS_FOLDER": dags_folder,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        # Two workers with one slot each, plus room for the scheduler to queue the next task.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        # A worker takes one message at a time, so a queued task never waits behind a long transcription.
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__WORKERS": "1",
        # The scheduler signs task tokens and the API server checks them: one secret for both (HS512, 64+ bytes).
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
        "AIRFLOW__API__SECRET_KEY": api_secret,
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": passwords_file,
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # A task that sets no retry delay of its own (transcribe, load) is retried after 10 s, not 300: its
        # failure is a lost worker or a busy catalog, not a remote service that needs time to recover.
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "10",
        # Find new DAG files within seconds; one parser process is plenty for three files on two cores.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
    }


def server_variables() -> dict[str, str | None]:
    """Every variable each Airflow server of any deployment sets; the value where it is the same everywhere.

    Values that are addresses, paths or secrets differ between the loopback cluster and docker/ (None here).
    """
    names = inspect.signature(airflow_environment).parameters
    one = airflow_environment(**dict.fromkeys(names, "a"))
    two = airflow_environment(**dict.fromkeys(names, "b"))
    fixed: dict[str, str | None] = {k: (v if two[k] == v else None) for k, v in one.items()}
    return {**fixed, **dict.fromkeys(TUBESCRIBE_SHARED)}


def worker_variables() -> dict[str, str | None]:
    """What every worker sets: the servers' variables but the database and the signing secrets."""
    return {**{k: v for k, v in server_variables().items() if k not in SERVER_ONLY}, **WORKER_SETTINGS}
