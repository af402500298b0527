"""The deployment scenario that tests/deploy/test_deployment.py runs, step by step.

Each step drives the stack of ``scripts/airflow_stack.py`` as a data engineer would (its CLI,
Airflow's CLI, the REST API) and writes what happened to the terminal (``deployment:`` lines) and
to tests/artifacts/deployment/events.log. The tests read the results from the ``Scenario``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "airflow_stack.py"
LANDING = ROOT / "examples" / "landing"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
TAXONOMY = str(Path(sys.executable).with_name("taxonomy"))
ARTIFACTS = ROOT / "tests" / "artifacts" / "deployment"
SCHEDULED = (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23))  # the sample lands up to 11-22
BACKFILL = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))
LABEL, BACKFILL_CUSTOMER = "bf-1", "acme-bank"
PUBLISHED = ("conversations", "topics", "scores", "trends")
TERMINAL = ("success", "failed")
HEARTBEAT_TIMEOUT = 20  # test only (default 300 s): how long the scheduler waits for a dead task's heartbeat
# Test only (default 600 s, checked every 120 s): how long a task may sit `queued`. A SIGKILLed worker also
# loses the task it had received but not yet started, which only this timeout gives back to the queue.
QUEUED_TIMEOUT, QUEUED_CHECK = 120, 15


def _load_stack_module():
    spec = importlib.util.spec_from_file_location("airflow_stack", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_mod = _load_stack_module()


class Scenario:
    """The running stack, and a log of what happened to it."""

    def __init__(self, folder: Path, config: pytest.Config) -> None:
        self.dir, self.t0 = folder, time.monotonic()
        self.reporter = config.pluginmanager.get_plugin("terminalreporter")
        self.capture = config.pluginmanager.get_plugin("capturemanager")
        self.stack = stack_mod.Stack(folder)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.events = (ARTIFACTS / "events.log").open("w", encoding="utf-8")

    def note(self, message: str) -> None:
        """One line of what happened: on the terminal as it happens (past pytest's capture), in events.log."""
        line = f"deployment [{time.monotonic() - self.t0:6.1f} s] {message}"
        self.events.write(line + "\n")
        self.events.flush()
        logging.getLogger("tests.deploy").info(line)
        if self.reporter is None or self.capture is None:
            print(line)
            return
        with self.capture.global_and_fixture_disabled():
            self.reporter.write_line(line)

    def script(self, *args: str, env: dict | None = None, timeout: int = 300) -> str:
        proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--dir", str(self.dir)], env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
        return proc.stdout

    def airflow_env(self) -> dict[str, str]:
        exports = dict(shlex.split(line)[1].split("=", 1) for line in self.script("env").splitlines())
        exports.pop("PATH")  # `PATH=<venv>/bin:"$PATH"`: for a shell's eval; we call the venv's airflow by path
        return {**os.environ, **exports}

    def airflow(self, *args: str, timeout: int = 300) -> str:
        proc = subprocess.run([AIRFLOW, *args], env=self.airflow_env(), capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        return proc.stdout

    def reload(self) -> None:
        self.stack = stack_mod.Stack(self.dir)

    def sql(self, query: str, *params: object) -> list[tuple]:
        return self.stack.sql(query, *params)

    def wait(self, what: str, check, timeout: float, every: float = 1.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(every)
        tails = {n: (self.dir / "logs" / f"{n}.log").read_text(errors="replace")[-1500:]
                 for n in ("scheduler", "worker-1", "worker-2")}
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; {self.runs()}\n{tails}")

    def runs(self, run_type: str | None = None) -> list[tuple]:
        return self.sql("SELECT dag_id, run_id, state, run_type, logical_date, start_date, end_date, conf FROM dag_run "
                        "WHERE %s IS NULL OR run_type = %s ORDER BY id", run_type, run_type)

    def task_instances(self, run_id: str) -> list[tuple]:
        return self.sql("SELECT task_id, rendered_map_index, state, hostname, try_number FROM task_instance "
                        "WHERE dag_id = 'support_taxonomy' AND run_id = %s ORDER BY task_id, map_index", run_id)


# -- the scenario ------------------------------------------------------------------------------
def start(sc: Scenario, output: Path) -> None:
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
        "TAXONOMY_LANDING_URI": str(LANDING), "TAXONOMY_OUTPUT_URI": str(output),
        "TAXONOMY_START_DATE": SCHEDULED[0].isoformat(), "TAXONOMY_END_DATE": SCHEDULED[-1].isoformat(),
        "TAXONOMY_WORKER_CONCURRENCY": "2", "TAXONOMY_TORCH_THREADS": "1", "TAXONOMY_RETRY_DELAY_SECONDS": "2",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(QUEUED_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": str(QUEUED_CHECK),
    }
    started = time.monotonic()
    sc.note(sc.script("up", "--workers", "2", "--api-port", "0", env=env, timeout=420).strip().splitlines()[-1])
    sc.reload()
    sc.up_seconds = time.monotonic() - started
    for dag_id in ("support_taxonomy", "support_taxonomy_report"):  # new DAGs start paused (compose's setting)
        sc.wait(f"{dag_id} parsed", lambda d=dag_id: sc.sql("SELECT 1 FROM dag WHERE dag_id = %s", d), 120)
        sc.airflow("dags", "unpause", dag_id)
    sc.note(f"unpaused support_taxonomy: catch-up of as_of {SCHEDULED[0]} .. {SCHEDULED[-1]}")


def kill_a_worker_mid_task(sc: Scenario) -> SimpleNamespace:
    """SIGKILL the worker running a customer's ingest/enrich of the first scheduled run; restart it."""
    run_id = f"scheduled__{SCHEDULED[0].isoformat()}T00:00:00+00:00"

    def running() -> list[tuple]:
        return sc.sql("SELECT task_id, map_index, rendered_map_index, hostname, try_number FROM task_instance "
                      "WHERE run_id = %s AND state = 'running' AND task_id IN ('customer.ingest', 'customer.enrich') "
                      "AND hostname IS NOT NULL AND hostname <> '' ORDER BY start_date", run_id)

    task_id, map_index, customer, hostname, try_number = sc.wait("a running customer task", running, 300, 0.2)[0]
    worker = hostname.split(".", 1)[0]
    pid = sc.stack.state["pids"][worker]
    import psutil

    tree = [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
    stack_mod.kill_tree(pid, sig=signal.SIGKILL, wait=10)
    assert not any(stack_mod.alive(p) for p in tree), "SIGKILL left a process of the worker running"
    sc.note(f"SIGKILLed {worker} ({len(tree)} processes) while it ran {task_id}[map index {map_index}] "
            f"try {try_number} of {run_id}")
    restart = subprocess.Popen([sys.executable, str(SCRIPT), "restart", worker, "--dir", str(sc.dir)],
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return SimpleNamespace(run_id=run_id, task_id=task_id, map_index=map_index, customer=customer,
                           hostname=hostname, try_number=try_number, worker=worker, restart=restart)


def wait_scheduled(sc: Scenario, killed: SimpleNamespace) -> None:
    def done() -> list[tuple]:
        runs = [r for r in sc.runs("scheduled") if r[0] == "support_taxonomy"]
        return runs if len(runs) == len(SCHEDULED) and all(r[2] in TERMINAL for r in runs) else []

    seen: set[str] = set()
    states = [("running", killed.hostname, killed.try_number)]

    def progress() -> list[tuple]:
        for dag_id, run_id, state, _, _, begun, ended, _ in sc.runs("scheduled"):
            if dag_id == "support_taxonomy" and state in TERMINAL and run_id not in seen:
                seen.add(run_id)
                hosts = sorted({r[3] for r in sc.task_instances(run_id) if r[0].startswith("customer.")})
                sc.note(f"scheduled run {run_id}: {state} in {(ended - begun).total_seconds():.0f} s; "
                        f"customer tasks ran on {hosts}")
        now = sc.sql("SELECT state, hostname, try_number, rendered_map_index FROM task_instance WHERE run_id = %s "
                     "AND task_id = %s AND map_index = %s", killed.run_id, killed.task_id, killed.map_index)[0]
        killed.customer = now[3] or killed.customer
        if now[:3:2] != states[-1][:3:2]:
            states.append(now)
            sc.note(f"{killed.task_id}[{killed.customer or killed.map_index}]: try {now[2]} {now[0]}"
                    + (f" on {now[1]}" if now[1] and now[0] in ("running", "success") else "")
                    + (f" (no heartbeat: try {killed.try_number} given up)" if now[0] == "up_for_retry" else ""))
        if killed.restart.returncode is None and killed.restart.poll() is not None:
            sc.note(f"{killed.worker} restarted, rc {killed.restart.returncode} (compose: restart: always)")
        return done()

    sc.wait("the scheduled runs", progress, 600, 2)
    assert killed.restart.wait(timeout=300) == 0, killed.restart.stdout.read().decode()[-3000:]
    sc.reload()


def run_backfill(sc: Scenario) -> None:
    conf = {"customers": [BACKFILL_CUSTOMER], "label": LABEL}
    sc.wait("report runs to settle", lambda: not [r for r in sc.runs("asset_triggered") if r[2] not in TERMINAL], 300)
    sc.production_before = snapshot(sc.output, production_only=True)
    sc.airflow("backfill", "create", "--dag-id", "support_taxonomy", "--from-date", BACKFILL[0].isoformat(),
               "--to-date", BACKFILL[-1].isoformat(), "--max-active-runs", "1", "--dag-run-conf", json.dumps(conf))
    sc.note(f"airflow backfill create {BACKFILL[0]} .. {BACKFILL[-1]} --dag-run-conf {json.dumps(conf)}")
    started = time.monotonic()
    sc.wait("the backfill", lambda: sc.sql("SELECT completed_at FROM backfill WHERE completed_at IS NOT NULL"), 600, 2)
    for _, run_id, state, _, _, begun, ended, run_conf in sc.runs("backfill"):
        sc.note(f"backfill run {run_id}: {state} in {(ended - begun).total_seconds():.0f} s, conf {run_conf}")
    sc.note(f"backfill completed in {time.monotonic() - started:.0f} s")
    sc.wait("report runs to settle", lambda: not [r for r in sc.runs("asset_triggered") if r[2] not in TERMINAL], 300)
    sc.production_after = snapshot(sc.output, production_only=True)


def snapshot(root: Path, production_only: bool = False) -> dict[str, str]:
    """sha256 per file; ``production_only`` leaves out labels and the embedding cache (shared by labels)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if production_only and (rel.parts[0].startswith("label=") or rel.parts[0] == "embedding_cache"):
            continue
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def api(sc: Scenario, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{sc.stack.ports['api']}{path}"
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - 127.0.0.1
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def cpu_seconds(sc: Scenario) -> float:
    """CPU seconds the stack and this test's commands used so far (a killed worker's share is lost).

    On a machine shared with other jobs, wall time says little; CPU seconds / cores is what the
    scenario would at least take on an idle machine of that size.
    """
    import resource

    import psutil

    roots = [*sc.stack.state["pids"].values(), int((sc.stack.pgdata / "postmaster.pid").read_text().split()[0])]
    total = 0.0
    for root in roots:
        try:
            procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                continue
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + own.ru_utime + own.ru_stime
