"""docker/ and the loopback cluster (`make cluster-up`) are one deployment: the same variables, commands, pools.

Docker cannot run here, so the compose file is checked against scripts/deployment.py, which holds the one list;
scripts/cluster.py starts the loopback cluster the tests in tests/cluster/ run against from the same list.
"""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tubescribe.orchestration.pools import CATALOG_POOL, NETWORK_POOL
from tubescribe.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str) -> ModuleType:
    """A module of scripts/ (not a package), found the way `python scripts/cluster.py` finds its neighbours."""
    folder = str(ROOT / "scripts")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


deployment = _load_script("deployment")
cluster = _load_script("cluster")
COMPOSE = yaml.safe_load((ROOT / "docker" / "docker-compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
OURS = ("AIRFLOW", "TUBESCRIBE_", "AWS_", "PGPASSWORD")


def _env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def _check_env(env: dict[str, str], expected: dict[str, str | None], where: str) -> None:
    missing = set(expected) - set(env)
    assert not missing, f"{where} lacks {sorted(missing)}"
    for name, value in expected.items():
        if value is not None:
            assert env[name] == value, f"{where}: {name}={env[name]!r}, scripts/deployment.py says {value!r}"


@pytest.mark.parametrize("service", [*deployment.SERVICES, "init"])
def test_servers_share_the_launchers_variables(service):
    _check_env(_env(service), deployment.server_variables(), service)


@pytest.mark.parametrize("service", list(deployment.PRODUCTION_WORKERS))
def test_workers_get_the_shared_state_but_no_server_secrets(service):
    env = _env(service)
    _check_env(env, deployment.worker_variables(), service)
    assert not set(deployment.SERVER_ONLY) & set(env), f"{service} holds {set(deployment.SERVER_ONLY) & set(env)}"
    assert not SERVICES[service].get("volumes"), f"{service} must not mount the servers' auth volume"
    assert {"TUBESCRIBE_HOME", "TUBESCRIBE_SCRATCH_DIR"} <= set(env)


def test_compose_sets_no_variable_the_launcher_does_not_know():
    known = set(deployment.server_variables()) | set(deployment.worker_variables()) | set(deployment.PER_MACHINE)
    known |= {"TUBESCRIBE_AIRFLOW_PASSWORD"}
    for name, service in SERVICES.items():
        ours = {k for k in (service.get("environment") or {}) if k.startswith(OURS)}
        assert ours <= known, f"{name} sets {sorted(ours - known)}, unknown to scripts/deployment.py"


@pytest.mark.parametrize("service", deployment.SERVICES)
def test_service_commands_are_the_launchers(service):
    assert SERVICES[service]["command"] == deployment.service_command(service, host="0.0.0.0", port=8080)


@pytest.mark.parametrize(("service", "queues"), list(deployment.PRODUCTION_WORKERS.items()))
def test_worker_commands_are_the_launchers(service, queues):
    assert SERVICES[service]["command"] == deployment.worker_command(service, queues)


def test_workers_cover_every_queue_the_loopback_cluster_serves():
    loopback = {q for queues in deployment.WORKERS.values() for q in queues}
    production = {q for queues in deployment.PRODUCTION_WORKERS.values() for q in queues}
    assert loopback == production == {"default", "transcribe"}


def test_init_job_runs_the_launchers_init_commands():
    script = SERVICES["init"]["command"][-1]
    for command in deployment.init_commands():
        assert shlex.join(command) in script.splitlines(), f"init does not run {shlex.join(command)}"


def test_pools_are_the_ones_the_tasks_use():
    assert set(deployment.POOLS) == {CATALOG_POOL, NETWORK_POOL}
    assert deployment.POOLS[CATALOG_POOL][0] == 1  # one writer of the catalog
    # The network pool's slots are the platform concurrency every worker enforces.
    assert deployment.POOLS[NETWORK_POOL][0] == Settings.platform_concurrency


def test_every_long_running_service_has_a_healthcheck_and_waits_for_init():
    for name, service in SERVICES.items():
        if name == "init":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        if name in (*deployment.SERVICES, *deployment.PRODUCTION_WORKERS):
            assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"


def test_secrets_come_from_the_environment_not_the_file():
    for name in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY"):
        value = _env("scheduler").get(name) or _env("worker-transcribe")[name]
        assert value.startswith("${") and ":?" in value, f"{name}={value!r} must be a required ${{VAR:?}}"


def test_image_installs_the_wheel_not_the_checkout():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "pip wheel" in dockerfile and "tubescribe-*.whl" in dockerfile
    assert "pip install -e" not in dockerfile and "--editable" not in dockerfile


def test_loopback_cluster_uses_the_same_list(tmp_path):
    box = cluster.Cluster(tmp_path)
    config = box.load_config()
    names = ["api", "postgres", "redis", "s3", "scheduler_logs", "triggerer_logs"]
    config["ports"] = {n: 1 for n in names + [f"{w}_logs" for w in deployment.WORKERS]}
    _check_env(box.server_env(config), deployment.server_variables(), "loopback servers")
    for worker in deployment.WORKERS:
        env = box.worker_env(config, worker)
        _check_env(env, deployment.worker_variables(), worker)
        assert not set(deployment.SERVER_ONLY) & set(env)
        assert env["TUBESCRIBE_HOME"].startswith(str(tmp_path / "workers" / worker))
    scratch = {box.worker_env(config, worker)["TUBESCRIBE_SCRATCH_DIR"] for worker in deployment.WORKERS}
    assert len(scratch) == len(deployment.WORKERS), "two workers share a scratch folder"
    client = box.client_env(config)
    assert set(deployment.CLIENT) <= set(client)
