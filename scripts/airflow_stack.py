"""Run the docker-compose.yml deployment on one machine without Docker (a VM, a laptop, CI).

The same services as ``docker-compose.yml``: PostgreSQL (metadata DB) and Redis (Celery broker)
from Debian's packages, then Airflow's ``api-server``, ``scheduler``, ``dag-processor``,
``triggerer`` and N Celery workers from this project's virtualenv, every one bound to
127.0.0.1, with logs, pid files and data under ``--dir`` (default ``.stack/``)::

    python scripts/airflow_stack.py up [--dir .stack] [--workers 2]   # start; returns when healthy
    eval "$(python scripts/airflow_stack.py env)"                     # then: airflow dags list, ...
    python scripts/airflow_stack.py status | restart worker-1 | down

Every service's environment is compose's ``x-airflow-common`` environment, read from
``docker-compose.yml`` at start-up, ``${VAR:-default}`` filled from this environment (compose's
``.env``), with only container addresses and paths moved; README "Without Docker" and
docs/airflow.md list what differs from compose and why.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
HOST = "127.0.0.1"
CONTAINER_HOME = "/opt/airflow"
HOSTNAME_CALLABLE = "taxonomy.airflow_tasks.worker_hostname"
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")  # + worker-1 .. worker-N
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


# -- the compose file's settings, moved from containers to 127.0.0.1 -----------------------------
def compose_file(path: Path = COMPOSE) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def substitute(value: object, env: dict[str, str]) -> str:
    """Compose's interpolation: ``${VAR:-default}`` (unset or empty -> default), ``${VAR}``, ``$$``."""
    text = str(value)

    def repl(m: re.Match) -> str:
        return env.get(m.group(1)) or (m.group(2) or "")

    return _VAR.sub(repl, text.replace("$$", "\0")).replace("\0", "$")


def relocate(value: str, ports: dict[str, int], home: Path) -> str:
    """Move one setting from the compose network to this machine: hosts, ports, paths."""
    value = re.sub(r"@postgres(:5432)?/", f"@{HOST}:{ports['postgres']}/", value)
    value = re.sub(r"(redis://[^@/]*@)redis(:6379)?/", rf"\g<1>{HOST}:{ports['redis']}/", value)
    value = re.sub(r"//airflow-apiserver(:8080)?/", f"//{HOST}:{ports['api']}/", value)
    return value.replace(CONTAINER_HOME, str(home))


def settings_from(env: dict[str, str]) -> dict[str, str]:
    """What the stack keeps of an environment: the variables compose reads, and ``AIRFLOW__*``."""
    wanted = set(_VAR.findall(COMPOSE.read_text(encoding="utf-8")))
    return {k: v for k, v in env.items() if k in {name for name, _ in wanted} or k.startswith("AIRFLOW__")}


def airflow_environment(ports: dict[str, int], home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow service of the stack runs with (see the module docstring).

    Args:
        ports: ``postgres``, ``redis``, ``api`` and ``scheduler_health`` ports on 127.0.0.1.
        home: ``AIRFLOW_HOME``: what ``/opt/airflow`` is in the containers.
        env: The settings (compose's ``.env`` variables, ``AIRFLOW__*``); default: this environment.
    """
    env = dict(os.environ if env is None else env)
    common = compose_file()["x-airflow-common"]["environment"]
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    out.update({k: v for k, v in env.items() if k.startswith("AIRFLOW__") and k not in common})
    out.update({k: relocate(substitute(v, env), ports, home) for k, v in common.items()})
    out.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),  # compose: ./dags mounted at /opt/airflow/dags
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(ports["api"]),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": HOST,
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler_health"]),
    })
    return out


def database_settings(env: dict[str, str] | None = None) -> dict[str, str]:
    """User, password and database of the compose file's ``postgres`` service."""
    env = dict(os.environ if env is None else env)
    pg = compose_file()["services"]["postgres"]["environment"]
    return {k: substitute(pg[k], env) for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")}


def admin_user(env: dict[str, str] | None = None) -> tuple[str, str]:
    """The admin user that compose's ``airflow-init`` creates: (username, password)."""
    env = dict(os.environ if env is None else env)
    init = compose_file()["services"]["airflow-init"]["environment"]
    return (substitute(init["_AIRFLOW_WWW_USER_USERNAME"], env), substitute(init["_AIRFLOW_WWW_USER_PASSWORD"], env))


# -- small helpers ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if not initdb:
        sys.exit("airflow_stack: PostgreSQL is not installed; run scripts/install_services.sh")
    return Path(initdb).parent


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def wait_for(what: str, check, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise SystemExit(f"airflow_stack: {what} not ready after {timeout:.0f} s\n{tail}")


def alive(pid: int | None) -> bool:
    import psutil

    try:
        return bool(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_tree(*pids: int, sig: int = signal.SIGTERM, wait: float = 20.0) -> None:
    """Signal services and every process they started; SIGKILL what is left after ``wait`` s."""
    import psutil

    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs += [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(sig)
    for p in psutil.wait_procs(procs, timeout=wait)[1]:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


# -- the stack ------------------------------------------------------------------------------
class Stack:
    """One stack's folder: ``stack.json`` (ports, pids), ``logs/``, ``postgres/``, ``redis/``, ``airflow/``."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder.resolve()
        self.state_file = self.dir / "stack.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        self.logs = self.dir / "logs"
        self.home = self.dir / "airflow"
        self.pgdata = self.dir / "postgres" / "data"

    def save(self) -> None:
        self.state_file.touch(mode=0o600)  # it holds the settings, passwords included
        self.state_file.write_text(json.dumps(self.state, indent=2), encoding="utf-8")

    @property
    def ports(self) -> dict[str, int]:
        return self.state["ports"]

    def env(self) -> dict[str, str]:
        return airflow_environment(self.ports, self.home, self.state.get("environ"))

    def run(self, *args: str, env: dict[str, str] | None = None, log: str) -> None:
        with (self.logs / f"{log}.log").open("ab") as out:
            rc = subprocess.run(list(args), env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            tail = (self.logs / f"{log}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"airflow_stack: {' '.join(args[:3])} failed (exit {rc}); {self.logs / log}.log:\n{tail}")

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        out = (self.logs / f"{name}.log").open("ab")
        self.state.setdefault("log_offsets", {})[name] = out.tell()  # health is read from what follows
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir)
        self.state.setdefault("pids", {})[name] = proc.pid
        if env is not None:  # what it runs with (Airflow's processes overwrite /proc/<pid>/environ with their title)
            common = compose_file()["x-airflow-common"]["environment"]
            self.state.setdefault("settings", {})[name] = {
                k: v for k, v in env.items() if k in common or k.startswith(("AIRFLOW", "TAXONOMY_"))}
        self.save()

    # services
    def start_postgres(self) -> None:
        db, bin_dir, run_dir = database_settings(self.state["environ"]), pg_bin(), self.dir / "postgres"
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            run_dir.mkdir(parents=True, exist_ok=True)
            pwfile = run_dir / "pwfile"
            pwfile.write_text(db["POSTGRES_PASSWORD"] + "\n")
            if os.geteuid() == 0:
                shutil.chown(run_dir, "postgres", "postgres")
                shutil.chown(pwfile, "postgres", "postgres")
            run_dir.chmod(0o700)
            self.run(*as_postgres([str(bin_dir / "initdb"), "-D", str(self.pgdata), "-U", db["POSTGRES_USER"],
                                   f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"]),
                     log="postgres-init")
            pwfile.unlink()
        opts = f"-c listen_addresses={HOST} -p {self.ports['postgres']} -k {run_dir}"
        self.run(*as_postgres([str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-o", opts, "-w", "-t", "60",
                               "-l", str(run_dir / "postgres.log"), "start"]), log="postgres-ctl")
        if fresh:
            env = {**os.environ, "PGPASSWORD": db["POSTGRES_PASSWORD"]}
            self.run(str(bin_dir / "createdb"), "-h", HOST, "-p", str(self.ports["postgres"]), "-U",
                     db["POSTGRES_USER"], db["POSTGRES_DB"], env=env, log="postgres-init")

    def start_redis(self) -> None:
        (self.dir / "redis").mkdir(exist_ok=True)
        self.spawn("redis", ["redis-server", "--bind", HOST, "--port", str(self.ports["redis"]), "--dir",
                             str(self.dir / "redis"), "--save", "", "--appendonly", "no"])
        wait_for("redis", lambda: subprocess.run(["redis-cli", "-h", HOST, "-p", str(self.ports["redis"]), "ping"],
                                                 capture_output=True, text=True).stdout.strip() == "PONG", 30)

    def init_airflow(self) -> None:
        """What compose's airflow-init does: migrate the metadata DB, create the admin user."""
        env = self.env()
        self.run(AIRFLOW, "db", "migrate", env=env, log="airflow-init")
        user, password = admin_user(self.state["environ"])
        self.run(AIRFLOW, "users", "create", "--username", user, "--password", password, "--role", "Admin",
                 "--firstname", "Airflow", "--lastname", "Admin", "--email", f"{user}@example.com",
                 env=env, log="airflow-init")

    def start_service(self, name: str) -> None:
        env = self.env()
        if name.startswith("worker-"):
            hostname = f"{name}.{socket.gethostname()}"
            env.update({"TAXONOMY_WORKER_HOSTNAME": hostname, "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE})
            args = [AIRFLOW, "celery", "worker", "--celery-hostname", hostname, "--skip-serve-logs"]
        else:
            args = [AIRFLOW, name, *(["--skip-serve-logs"] if name == "triggerer" else [])]
        self.spawn(name, args, env)

    def wait_healthy(self, name: str, timeout: float = 180) -> None:
        log = self.logs / f"{name}.log"
        if name == "api-server":
            check = lambda: _http_ok(f"http://{HOST}:{self.ports['api']}/api/v2/version")  # noqa: E731
        elif name == "scheduler":
            check = lambda: _http_ok(f"http://{HOST}:{self.ports['scheduler_health']}/health")  # noqa: E731
        elif name.startswith("worker-"):
            offset = self.state["log_offsets"][name]
            check = lambda: b" ready." in log.read_bytes()[offset:]  # noqa: E731 - celery's own line
        else:
            job = {"dag-processor": "DagProcessorJob", "triggerer": "TriggererJob"}[name]
            check = lambda: self.job_alive(job)  # noqa: E731 - what `airflow jobs check` asks
        pid = self.state["pids"][name]

        def healthy() -> bool:
            if not alive(pid):
                raise SystemExit(f"airflow_stack: {name} exited; {log}:\n{log.read_text(errors='replace')[-3000:]}")
            return check()

        wait_for(name, healthy, timeout, log)

    def job_alive(self, job_type: str) -> bool:
        return bool(self.sql("SELECT count(*) FROM job WHERE job_type = %s AND state = 'running' "
                             "AND latest_heartbeat > now() - interval '60 seconds'", job_type)[0][0])

    def sql(self, query: str, *params: object) -> list[tuple]:
        import psycopg2

        db = database_settings(self.state["environ"])
        with psycopg2.connect(host=HOST, port=self.ports["postgres"], user=db["POSTGRES_USER"],
                              password=db["POSTGRES_PASSWORD"], dbname=db["POSTGRES_DB"]) as conn:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []

    def names(self) -> list[str]:
        return [*SERVICES, *(f"worker-{i}" for i in range(1, self.state["workers"] + 1))]

    def running(self) -> bool:
        return any(alive(p) for p in self.state.get("pids", {}).values()) or (self.pgdata / "postmaster.pid").exists()

    def up(self, workers: int, api_port: int | None) -> None:
        for folder in (self.dir, self.logs, self.home):
            folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(self.dir)]).returncode:
            raise SystemExit(f"airflow_stack: the postgres user cannot enter {self.dir}: use a --dir whose parents "
                             "are world-searchable (chmod o+x), e.g. under /tmp or /srv")
        environ = settings_from(dict(os.environ))
        api = api_port if api_port is not None else int(environ.get("AIRFLOW_API_PORT") or 8080)
        ports = {"postgres": free_port(), "redis": free_port(), "scheduler_health": free_port(), "api": api or free_port()}
        self.state = {"ports": ports, "workers": workers, "environ": environ, "pids": {}}
        self.save()
        started = time.monotonic()
        self.start_postgres()
        self.start_redis()
        self.init_airflow()
        for name in self.names():
            self.start_service(name)
            if name == "api-server":  # compose: workers start once the api-server is healthy
                self.wait_healthy(name)
        for name in self.names():
            self.wait_healthy(name)
        print(f"airflow_stack: up in {time.monotonic() - started:.0f} s: {', '.join(self.names())}; "
              f"postgres {HOST}:{ports['postgres']}, redis {HOST}:{ports['redis']}, "
              f"UI/API http://{HOST}:{ports['api']}/ (user {admin_user(environ)[0]}); logs {self.logs}/")

    def restart(self, name: str) -> None:
        """Stop (if alive) and start one Airflow service again, as compose's ``restart: always`` would."""
        pid = self.state["pids"].get(name)
        if pid and alive(pid):
            kill_tree(pid)
        self.start_service(name)
        self.wait_healthy(name)

    def down(self) -> None:
        pids = self.state.get("pids", {})
        airflow = [pids[n] for n in (self.names() if self.state else []) if alive(pids.get(n))]
        kill_tree(*airflow)
        if alive(pids.get("redis")):
            kill_tree(pids["redis"])
        if (self.pgdata / "postmaster.pid").exists():
            subprocess.run(as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w",
                                        "stop"]), capture_output=True, check=False)
        if self.state:
            self.state["pids"] = {}
            self.save()

    def status(self) -> dict[str, bool]:
        pids = self.state.get("pids", {})
        return {"postgres": (self.pgdata / "postmaster.pid").exists(), **{n: alive(pids.get(n)) for n in ["redis", *self.names()]}}


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - 127.0.0.1 only
        return r.status == 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="See README.md, 'Without Docker'.")
    parser.add_argument("command", choices=["up", "down", "status", "env", "restart"])
    parser.add_argument("service", nargs="?", help="restart: the service (api-server, scheduler, worker-1, ...)")
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("TAXONOMY_STACK_DIR", ROOT / ".stack")))
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    parser.add_argument("--api-port", type=int, help="0: any free port (default AIRFLOW_API_PORT, else 8080)")
    args = parser.parse_args(argv)
    stack = Stack(args.dir)
    if args.command == "up":
        if stack.running():
            raise SystemExit(f"airflow_stack: a stack is already running in {stack.dir}; `down` it first")
        try:
            stack.up(args.workers, args.api_port)
        except BaseException:
            stack.down()
            raise
    elif not stack.state:
        raise SystemExit(f"airflow_stack: no stack in {stack.dir}")
    elif args.command == "down":
        stack.down()
    elif args.command == "restart":
        if args.service not in stack.names():
            raise SystemExit(f"airflow_stack: restart one of {', '.join(stack.names())}")
        stack.restart(args.service)
    elif args.command == "status":
        for name, up in stack.status().items():
            print(f"{name:15} {'up' if up else 'down'}")
    else:
        print(f"export PATH={shlex.quote(str(Path(AIRFLOW).parent))}:\"$PATH\"")
        for key, value in sorted(stack.env().items()):
            if key.startswith(("AIRFLOW", "TAXONOMY_", "HF_", "TRANSFORMERS_", "OMP_", "AWS_")):
                print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
