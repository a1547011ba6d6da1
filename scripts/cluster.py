#!/usr/bin/env python3
"""A loopback tubescribe cluster: Postgres, Redis, an S3 store (moto), Airflow with two Celery workers.

    python scripts/cluster.py up   [--dir .cluster]    # `make cluster-up`; then: source .cluster/env
    python scripts/cluster.py down [--dir .cluster]    # `make cluster-down`: stops it, removes its state
    python scripts/cluster.py worker transcribe-1 --fresh   # (re)start one worker, its local disk emptied

Everything listens on free 127.0.0.1 ports. Each worker has its own TUBESCRIBE_HOME and scratch folder
and shares nothing with the other but the broker, the Airflow API, the artifact store and the catalog,
as two machines would. What each component gets (variables, commands, pools, queues) is
`scripts/deployment.py`, the description docker/docker-compose.yaml shares; this file is the processes:
free ports, starting each component, pid files under <dir>/run/, waiting for health, and stopping
exactly the processes it started (named by pid and start time: scripts/processes.py). The rest stays
one file, about 470 lines: one launcher, a component a method, read top to bottom as the start order.
Standard library only (run it with the project's virtualenv python, which has Airflow and moto).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import deployment
from processes import descendants, kill_tree, read_pid, start_time, wait_gone, write_pid

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"  # Postgres refuses to run as root; Debian's package creates this user.
BUCKET = "tubescribe"
CATALOG_DB = "tubescribe"  # the DuckLake catalog's database and its owner


class ClusterError(RuntimeError):
    """The cluster could not be started or stopped; the message says which component and where its log is."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One cluster's folder: config (ports, generated secrets), pid files, logs, data, worker disks."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.run = self.root / "run"
        self.logs = self.root / "logs"
        self.config_file = self.root / "cluster.json"
        self.env_file = self.root / "env"
        self.pg_data = self.root / "postgres"
        self.pg_socket = self.run / "pg-socket"
        self.airflow_home = self.root / "airflow"
        self.python = sys.executable

    # -- config -----------------------------------------------------------------------------------

    def load_config(self) -> dict[str, Any]:
        """Secrets are made once per cluster (the Postgres data keeps its passwords); ports every start."""
        config: dict[str, Any] = json.loads(self.config_file.read_text()) if self.config_file.exists() else {}
        for key, size in (("jwt_secret", 64), ("api_secret", 32), ("admin_password", 24),
                          ("airflow_db_password", 24), ("catalog_db_password", 24), ("aws_secret", 24)):  # fmt: skip
            config.setdefault(key, secrets.token_urlsafe(size))
        config.setdefault("aws_key", "tubescribe-" + secrets.token_hex(4))
        return config

    def save_config(self, config: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(config, fh, indent=2)

    def api_url(self, config: dict[str, Any]) -> str:
        return f"http://{HOST}:{config['ports']['api']}"

    def shared_tubescribe_env(self, config: dict[str, Any]) -> dict[str, str]:
        ports = config["ports"]
        catalog = f"postgres:host={HOST} port={ports['postgres']} dbname={CATALOG_DB} user={CATALOG_DB}"
        return {
            "TUBESCRIBE_STORE_URL": f"s3://{BUCKET}/store",
            "TUBESCRIBE_CATALOG_URL": catalog,
            "TUBESCRIBE_LAKE_DATA_URL": f"s3://{BUCKET}/lake/",
            "TUBESCRIBE_S3_ENDPOINT_URL": f"http://{HOST}:{ports['s3']}",
            "AWS_ACCESS_KEY_ID": config["aws_key"],
            "AWS_SECRET_ACCESS_KEY": config["aws_secret"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "PGPASSWORD": config["catalog_db_password"],
        }

    def server_env(self, config: dict[str, Any]) -> dict[str, str]:
        ports = config["ports"]
        db = f"postgresql+psycopg2://airflow:{config['airflow_db_password']}@{HOST}:{ports['postgres']}/airflow"
        env = deployment.airflow_environment(
            airflow_home=str(self.airflow_home),
            dags_folder=str(REPO / "dags"),
            db_url=db,
            broker_url=f"redis://{HOST}:{ports['redis']}/0",
            result_backend="db+" + db.replace("+psycopg2", ""),
            api_url=self.api_url(config),
            jwt_secret=config["jwt_secret"],
            api_secret=config["api_secret"],
            passwords_file=str(self.airflow_home / "passwords.json"),
        )
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(ports["scheduler_logs"])
        env["AIRFLOW__TRIGGERER__TRIGGERER_LOG_SERVER_PORT"] = str(ports["triggerer_logs"])
        env["TUBESCRIBE_HOME"] = str(self.root / "home")
        env.update(self.shared_tubescribe_env(config))
        return env

    def worker_dir(self, name: str) -> Path:
        return self.root / "workers" / name

    def worker_env(self, config: dict[str, Any], name: str) -> dict[str, str]:
        env = {k: v for k, v in self.server_env(config).items() if k not in deployment.SERVER_ONLY}
        folder = self.worker_dir(name)
        env.update(
            {
                # Its own Airflow home too: nothing of the servers' folder is visible to a worker.
                "AIRFLOW_HOME": str(folder / "airflow"),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(config["ports"][f"{name}_logs"]),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cluster_hostname.worker_name",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "scripts"), os.environ.get("PYTHONPATH")])),
                **deployment.WORKER_SETTINGS,
                "TUBESCRIBE_CLUSTER_WORKER": name,
                "TUBESCRIBE_HOME": str(folder / "home"),
                "TUBESCRIBE_SCRATCH_DIR": str(folder / "scratch"),
            }
        )
        return env

    def client_env(self, config: dict[str, Any]) -> dict[str, str]:
        """What `source .cluster/env` sets: the CLI goes to this cluster; `airflow ...` commands work too."""
        env = self.server_env(config)
        env.update(
            {
                "TUBESCRIBE_HOME": str(self.root / "client"),
                "TUBESCRIBE_AIRFLOW_API_URL": self.api_url(config),
                "TUBESCRIBE_AIRFLOW_USERNAME": deployment.ADMIN_USER,
                "TUBESCRIBE_AIRFLOW_PASSWORD": config["admin_password"],
            }
        )
        return env

    def write_env_file(self, config: dict[str, Any]) -> None:
        lines = ["# tubescribe loopback cluster: `source` this file (it holds this cluster's generated secrets)."]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.client_env(config).items())]
        fd = os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")

    # -- processes --------------------------------------------------------------------------------

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def running(self) -> dict[str, int]:
        """Components whose recorded process is still alive (same pid, same start time)."""
        alive = {}
        for path in sorted(self.run.glob("*.pid")):
            record = read_pid(path)
            if record and start_time(record[0]) == record[1]:
                alive[path.stem] = record[0]
        return alive

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
        """Start a long-running component in a process group of its own; record its pid and start time."""
        log = (self.logs / f"{name}.log").open("ab")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_"))}
        proc = subprocess.Popen(
            argv, env={**base, **env}, cwd=cwd or self.root, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        write_pid(self.pid_file(name), proc.pid)
        return proc.pid

    def airflow(self, env: dict[str, str], *args: str, timeout: float = 300) -> None:
        """Run one `airflow` command to completion; its output goes to logs/init.log."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_"))}
        with (self.logs / "init.log").open("ab") as log:
            log.write(f"$ airflow {args[0]} {args[1] if len(args) > 1 else ''}\n".encode())
            log.flush()
            done = subprocess.run([self.python, "-m", "airflow", *args], env={**base, **env}, cwd=self.root,
                                  stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)  # fmt: skip
        if done.returncode:
            raise ClusterError(f"`airflow {args[0]}` exited {done.returncode}; see {self.logs / 'init.log'}")

    # -- up ---------------------------------------------------------------------------------------

    def up(self, timeout: float) -> None:
        alive = self.running()
        if alive and set(alive) >= {"postgres", "redis", "s3", *deployment.SERVICES, *deployment.WORKERS}:
            print(f"cluster already up in {self.root} ({len(alive)} components); `source {self.env_file}`")
            return
        if alive:
            raise ClusterError(f"cluster in {self.root} is partly up ({', '.join(alive)}); run `down` first")
        ensure_packages()
        for folder in (self.run, self.logs, self.airflow_home, self.root / "home", self.root / "client"):
            folder.mkdir(parents=True, exist_ok=True)
        # The postgres user must reach its data and socket folders below this one.
        self.root.chmod(0o755)
        self.run.chmod(0o755)
        config = self.load_config()
        names = ["api", "postgres", "redis", "s3", "scheduler_logs", "triggerer_logs"]
        config["ports"] = {name: _free_port() for name in names + [f"{w}_logs" for w in deployment.WORKERS]}
        self.save_config(config)
        deadline = time.monotonic() + timeout
        try:
            self.start_postgres(config)
            self.start_redis(config)
            self.start_s3(config)
            env = self.server_env(config)
            self.write_passwords(config)
            self.airflow(env, "db", "migrate")
            self.airflow(env, "pools", "import", str(self.write_pools_file()))
            for name in deployment.SERVICES:
                argv = deployment.service_command(name, host=HOST, port=config["ports"]["api"])
                self.spawn(name, [self.python, "-m", *argv], env)
            for name, queues in deployment.WORKERS.items():
                self.start_worker(config, name, queues)
            self.write_env_file(config)
            self.wait_healthy(config, deadline)
        except BaseException:
            print(f"cluster-up failed; stopping what started (logs in {self.logs})", file=sys.stderr)
            self.down()
            raise
        print(f"cluster up in {self.root}: API {self.api_url(config)}; `source {self.env_file}`")

    def start_postgres(self, config: dict[str, Any]) -> None:
        port = config["ports"]["postgres"]
        fresh = not (self.pg_data / "PG_VERSION").exists()
        self.pg_socket.mkdir(parents=True, exist_ok=True)
        log = self.logs / "postgres.log"
        log.touch()
        for path in (self.pg_socket, log):
            shutil.chown(path, PG_USER, PG_USER)
        self.pg_socket.chmod(0o700)
        if fresh:
            self.pg_data.mkdir(parents=True, exist_ok=True)
            shutil.chown(self.pg_data, PG_USER, PG_USER)
            self.pg_data.chmod(0o700)
            # Local socket: only the postgres user (the socket folder is 0700); TCP: passwords.
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.pg_data), "-U", PG_USER, "--auth-local=trust",
                          "--auth-host=scram-sha-256", "-E", "UTF8"], log)  # fmt: skip
        options = f"-p {port} -k {self.pg_socket} -c listen_addresses={HOST}"
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-l", str(log), "-w", "-t", "60",
                      "-o", options, "start"], log)  # fmt: skip
        pid = int((self.pg_data / "postmaster.pid").read_text().split()[0])
        write_pid(self.pid_file("postgres"), pid)
        if fresh:
            sql = "\n".join(
                [
                    f"CREATE ROLE airflow LOGIN PASSWORD '{config['airflow_db_password']}';",
                    "CREATE DATABASE airflow OWNER airflow;",
                    f"CREATE ROLE tubescribe LOGIN PASSWORD '{config['catalog_db_password']}';",
                    "CREATE DATABASE tubescribe OWNER tubescribe;",
                ]
            )
            # The passwords are generated url-safe tokens (no quotes); they go on stdin, not the command line.
            _as_postgres([str(PG_BIN / "psql"), "-h", str(self.pg_socket), "-p", str(port), "-d",
                          "postgres", "-v", "ON_ERROR_STOP=1", "-q"], log, stdin=sql)  # fmt: skip

    def start_redis(self, config: dict[str, Any]) -> None:
        folder = self.root / "redis"
        folder.mkdir(exist_ok=True)
        argv = ["redis-server", "--bind", HOST, "--port", str(config["ports"]["redis"]), "--dir", str(folder),
                "--save", "", "--appendonly", "no", "--protected-mode", "yes"]  # fmt: skip
        self.spawn("redis", argv, {})
        _wait(lambda: _tcp_open(config["ports"]["redis"]), "redis", time.monotonic() + 30, self.logs / "redis.log")

    def start_s3(self, config: dict[str, Any]) -> None:
        port = config["ports"]["s3"]
        moto = Path(self.python).parent / "moto_server"
        self.spawn("s3", [str(moto), "-H", HOST, "-p", str(port)], {})

        def bucket() -> bool:
            # moto keeps everything in memory: the bucket is made again on every start.
            request = urllib.request.Request(f"http://{HOST}:{port}/{BUCKET}", method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    return resp.status == 200
            except urllib.error.HTTPError as exc:
                return exc.code == 409  # already there
            except OSError:
                return False

        _wait(bucket, f"the S3 store (bucket {BUCKET})", time.monotonic() + 60, self.logs / "s3.log")

    def write_passwords(self, config: dict[str, Any]) -> None:
        """SimpleAuthManager's password file, written before it starts so it never prints a generated one."""
        path = self.airflow_home / "passwords.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({deployment.ADMIN_USER: config["admin_password"]}, fh)

    def write_pools_file(self) -> Path:
        """The pools as one `airflow pools import` file: one CLI start instead of one per pool."""
        path = self.airflow_home / "pools.json"
        pools = {name: {"slots": slots, "description": text, "include_deferred": False}
                 for name, (slots, text) in deployment.POOLS.items()}  # fmt: skip
        path.write_text(json.dumps(pools, indent=2))
        return path

    def start_worker(self, config: dict[str, Any], name: str, queues: tuple[str, ...], fresh: bool = False) -> None:
        folder = self.worker_dir(name)
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        for sub in ("airflow", "home", "scratch"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        pid_file = folder / "airflow" / "worker.pid"
        argv = [self.python, "-m", *deployment.worker_command(name, queues), "--pid", str(pid_file)]
        # A new log per start, so readiness is judged on this start's lines.
        (self.logs / f"{name}.log").unlink(missing_ok=True)
        self.spawn(name, argv, self.worker_env(config, name), cwd=folder)

    def worker_ready(self, name: str) -> bool:
        try:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
        except OSError:
            return False
        return f"{name}@" in text and " ready." in text

    def health(self, config: dict[str, Any]) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(f"{self.api_url(config)}/api/v2/monitor/health", timeout=5) as resp:
                return dict(json.loads(resp.read()))
        except (OSError, ValueError):
            return {}

    def wait_healthy(self, config: dict[str, Any], deadline: float) -> None:
        def healthy() -> bool:
            self.check_alive()
            report = self.health(config)
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            servers = bool(report) and all((report.get(p) or {}).get("status") == "healthy" for p in parts)
            return servers and all(self.worker_ready(name) for name in deployment.WORKERS)

        _wait(healthy, "every component to report healthy", deadline, self.logs)

    def check_alive(self) -> None:
        dead = [path.stem for path in self.run.glob("*.pid") if path.stem not in self.running()]
        if dead:
            raise ClusterError(f"{', '.join(dead)} exited; see {self.logs}/<name>.log")

    # -- down -------------------------------------------------------------------------------------

    def down(self) -> None:
        """Stop exactly what `up` started: each recorded group and whatever its processes forked, then Postgres."""
        records = {path.stem: read_pid(path) for path in self.run.glob("*.pid")}
        groups = {name: rec for name, rec in records.items() if rec and name != "postgres"}
        # Airflow's task supervisors give task processes sessions of their own: collect every descendant now.
        family = {pid: start for _, (root, start) in groups.items() if start_time(root) == start
                  for pid, start in descendants(root).items()}  # fmt: skip
        for _name, (pid, start) in groups.items():
            if start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGTERM)
        wait_gone(family, 20)
        for pid, start in family.items():
            if start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        wait_gone(family, 5)
        if (self.pg_data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-m", "fast", "-w", "stop"],
                             self.logs / "postgres.log")  # fmt: skip
        # moto keeps the store in memory: a catalog kept past this point would list files that are gone, so
        # the cluster's state goes with it (a new `up` starts empty). The logs stay for a look afterwards.
        for name in ("run", "postgres", "redis", "airflow", "home", "client", "workers"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        self.env_file.unlink(missing_ok=True)
        self.config_file.unlink(missing_ok=True)
        print(f"cluster in {self.root} stopped; its state removed (logs in {self.logs})")


# ---------------------------------------------------------------------------------------------------
# helpers


def ensure_packages() -> None:
    """Install Postgres and Redis from Debian when missing (the launcher runs as root)."""
    needed = {"postgresql": PG_BIN / "postgres", "redis-server": Path("/usr/bin/redis-server")}
    missing = [pkg for pkg, path in needed.items() if not path.exists()]
    if missing:
        print(f"installing {' '.join(missing)} (apt-get)")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)  # fmt: skip


def _as_postgres(argv: list[str], log: Path, stdin: str | None = None) -> None:
    with log.open("ab") as out:
        done = subprocess.run(["runuser", "-u", PG_USER, "--", *argv], input=stdin.encode() if stdin else None,
                              stdout=out, stderr=subprocess.STDOUT, cwd="/", check=False, timeout=120)  # fmt: skip
    if done.returncode:
        raise ClusterError(f"`{Path(argv[0]).name}` exited {done.returncode}; see {log}")


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _wait(ready: Any, what: str, deadline: float, logs: Path) -> None:
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise ClusterError(f"timed out waiting for {what}; see {logs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=REPO / ".cluster", help="the cluster's folder (default .cluster)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start every component and wait until healthy")
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for health")
    sub.add_parser("down", help="stop what `up` started and remove its state (the logs stay)")
    sub.add_parser("status", help="list the running components")
    worker = sub.add_parser("worker", help="start one worker again (after a crash)")
    worker.add_argument("name", choices=sorted(deployment.WORKERS))
    worker.add_argument("--fresh", action="store_true", help="empty its local folders first (a new machine)")
    kill = sub.add_parser("kill", help="SIGKILL one component's whole process tree (for tests)")
    kill.add_argument("name")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir)
    try:
        if args.command == "up":
            cluster.up(args.timeout)
        elif args.command == "down":
            cluster.down()
        elif args.command == "status":
            for name, pid in cluster.running().items():
                print(f"{name}\t{pid}")
        elif args.command == "worker":
            if args.name in cluster.running():
                raise ClusterError(f"{args.name} is running; kill it first")
            config = cluster.load_config()
            cluster.start_worker(config, args.name, deployment.WORKERS[args.name], fresh=args.fresh)
            _wait(lambda: cluster.worker_ready(args.name), args.name, time.monotonic() + 120, cluster.logs)
            print(f"{args.name} ready")
        elif args.command == "kill":
            record = read_pid(cluster.pid_file(args.name))
            if not record or start_time(record[0]) != record[1]:
                raise ClusterError(f"{args.name} is not running")
            print(" ".join(map(str, kill_tree(record[0]))))
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
