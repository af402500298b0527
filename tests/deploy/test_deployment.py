"""The deployment, for real: Airflow 3 with Celery, PostgreSQL and Redis, run by `scripts/airflow_stack.py`.

One module fixture starts the stack that README's "Without Docker" section documents (PostgreSQL
and Redis from Debian's packages, which `make test` installs; api-server, scheduler,
dag-processor, triggerer and two Celery workers), with the settings of `docker-compose.yml`, on
the bundled sample (`examples/landing/`), and then, as a data engineer would:

1. unpauses `support_taxonomy`; the scheduler catches up three scheduled days
   (`TAXONOMY_START_DATE` .. `TAXONOMY_END_DATE`), mapping one task group per customer over both
   workers; while a worker runs a customer's task in the first run, the whole worker (its Celery
   processes and the task it runs) is SIGKILLed, and restarted as compose's `restart: always`
   would; the scheduler finds the task without heartbeat and retries it;
2. runs `airflow backfill create` over three earlier days for one customer, labelled;
3. runs a clean `taxonomy run` of the first day, to compare outputs byte for byte;
4. asks the api-server (FAB auth manager, as in compose) for health, DAGs and task states.

The tests then read what Airflow recorded (metadata DB, REST API) and the output files. Every
step is logged to the terminal (`deployment:` lines) and to tests/artifacts/deployment/events.log;
on failure the services' logs are copied there too. Test-only settings: a 20 s task heartbeat
timeout (default 300 s) and a 2 s first retry delay, so a dead worker's task is retried quickly; a
120 s queued timeout checked every 15 s (default 600 s, every 120 s), so a task the killed worker had
received but not started (its state still `queued`) goes back to the queue within the test's wait.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.deploy.scenario import (
    ARTIFACTS, BACKFILL, BACKFILL_CUSTOMER, LABEL, LANDING, PUBLISHED, ROOT, SCHEDULED, SCRIPT, TAXONOMY, Scenario,
    api, cpu_seconds, kill_a_worker_mid_task, run_backfill, snapshot, stack_mod, start, wait_scheduled,
)

pytestmark = [pytest.mark.deploy, pytest.mark.airflow, pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest) -> Iterator[Scenario]:
    missing = [b for b in ("redis-server", "runuser") if not shutil.which(b)]
    if missing or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.fail(f"PostgreSQL / Redis missing ({missing}): run scripts/install_services.sh (make test does)")
    folder = Path(tempfile.mkdtemp(prefix="taxonomy-deploy-", dir="/tmp"))
    folder.chmod(0o711)  # the postgres user must reach its data dir inside
    sc = Scenario(folder, request.config)
    sc.output = folder / "output"
    failed = True
    try:
        start(sc, sc.output)
        killed = kill_a_worker_mid_task(sc)
        wait_scheduled(sc, killed)
        cli_out = folder / "cli-output"
        cli = subprocess.Popen([TAXONOMY, "run", "--input", str(LANDING), "--output", str(cli_out), "--as-of",
                                SCHEDULED[0].isoformat()], env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        run_backfill(sc)
        cli_log = cli.communicate(timeout=600)[0].decode(errors="replace")
        assert cli.returncode == 0, cli_log[-3000:]
        sc.note(f"clean `taxonomy run --as-of {SCHEDULED[0]}` done for the comparison")
        sc.cli = snapshot(cli_out)
        sc.airflow_out = snapshot(sc.output)
        sc.killed = killed
        sc.scenario_seconds = time.monotonic() - sc.t0
        sc.note(f"stack up {sc.up_seconds:.0f} s; whole scenario {sc.scenario_seconds:.0f} s wall, "
                f"{cpu_seconds(sc):.0f} CPU s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        failed = False
        yield sc
    finally:
        if failed or request.session.testsfailed:
            shutil.copytree(folder / "logs", ARTIFACTS / "logs", dirs_exist_ok=True)
        subprocess.run([sys.executable, str(SCRIPT), "down", "--dir", str(folder)], capture_output=True, timeout=120)
        sc.note(f"stack down; total {time.monotonic() - sc.t0:.0f} s")
        sc.events.close()
        shutil.rmtree(folder, ignore_errors=True)


# -- the tests -----------------------------------------------------------------------------
STACK_ONLY = {  # what the stack adds to compose's environment: what each container has without asking
    "AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__API__HOST", "AIRFLOW__API__PORT",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST", "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
}
WORKER_ONLY = {"AIRFLOW__CORE__HOSTNAME_CALLABLE"}
TEST_ONLY = {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT",
             "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL"}


def test_services_run_with_the_compose_settings(deployment: SimpleNamespace) -> None:
    compose = stack_mod.compose_file()
    common = {k: str(v) for k, v in compose["x-airflow-common"]["environment"].items()}
    settings, ports = deployment.stack.state["environ"], deployment.stack.ports
    assert set(deployment.stack.state["settings"]) == set(deployment.stack.names())
    for name, env in deployment.stack.state["settings"].items():
        if name == "redis":
            continue
        for key, value in common.items():
            expected = stack_mod.relocate(stack_mod.substitute(value, settings), ports, deployment.stack.home)
            assert env.get(key) == expected, (name, key, env.get(key), expected)
            assert not re.search(r"\$\{|@postgres\b|@redis:|airflow-apiserver|/opt/airflow", env[key]), (name, key)
        extra = {k for k in env if k.startswith("AIRFLOW")} - set(common)
        assert extra <= STACK_ONLY | TEST_ONLY | (WORKER_ONLY if name.startswith("worker-") else set()), (name, extra)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:@127.0.0.1:{ports['redis']}/0"


def test_every_service_listens_on_loopback_only(deployment: SimpleNamespace) -> None:
    import psutil

    pids = set(deployment.stack.state["pids"].values())
    pids.add(int((deployment.stack.pgdata / "postmaster.pid").read_text().split()[0]))
    tree = set()
    for pid in pids:
        tree |= {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
    listening = [c for c in psutil.net_connections(kind="inet") if c.pid in tree and c.status == psutil.CONN_LISTEN]
    assert {c.laddr.port for c in listening} >= {deployment.stack.ports[k] for k in ("postgres", "redis", "api")}
    assert all(c.laddr.ip == "127.0.0.1" for c in listening), [(c.pid, c.laddr) for c in listening]


def test_scheduler_catches_up_the_scheduled_days_over_both_workers(deployment: SimpleNamespace) -> None:
    runs = [r for r in deployment.runs("scheduled") if r[0] == "support_taxonomy"]
    assert [r[4].date() for r in runs] == list(SCHEDULED)
    assert all(r[2] == "success" for r in runs), runs
    hosts = {}
    for run in runs:
        for task_id, customer, state, host, _ in deployment.task_instances(run[1]):
            assert state == "success", (run[1], task_id, customer)
            if task_id.startswith("customer."):
                hosts.setdefault(host, set()).add(customer)
    workers = {f"worker-{i}" for i in (1, 2)}
    assert {h.split(".", 1)[0] for h in hosts} == workers, hosts
    customers = sorted(p.name for p in LANDING.iterdir() if p.is_dir())
    for as_of in SCHEDULED:
        for dataset in PUBLISHED:
            for customer in customers:
                assert (deployment.output / dataset / f"as_of={as_of}" / f"customer_id={customer}" / "part-0.parquet").exists()


def test_a_killed_worker_task_is_retried_and_the_run_succeeds(deployment: SimpleNamespace) -> None:
    killed = deployment.killed
    final = deployment.sql("SELECT state, try_number, hostname FROM task_instance WHERE run_id = %s AND task_id = %s "
                           "AND map_index = %s", killed.run_id, killed.task_id, killed.map_index)[0]
    assert final[0] == "success" and final[1] > killed.try_number, final
    history = deployment.sql("SELECT try_number, state, hostname FROM task_instance_history WHERE run_id = %s "
                             "AND task_id = %s AND map_index = %s ORDER BY try_number", killed.run_id, killed.task_id,
                             killed.map_index)
    first = [h for h in history if h[0] == killed.try_number]
    assert first and first[0][1] in ("failed", "up_for_retry") and first[0][2] == killed.hostname, history
    assert deployment.sql("SELECT state FROM dag_run WHERE run_id = %s AND dag_id = 'support_taxonomy'",
                          killed.run_id)[0][0] == "success"


def test_outputs_equal_a_clean_cli_run_of_the_same_as_of(deployment: SimpleNamespace) -> None:
    cli, airflow = deployment.cli, deployment.airflow_out
    assert any(k.startswith(f"scores/as_of={SCHEDULED[0]}/") for k in cli)
    missing = sorted(k for k in cli if k not in airflow)
    differ = sorted(k for k in cli if k in airflow and airflow[k] != cli[k])
    assert not missing and not differ, (missing[:10], differ[:10])
    ours = {k for k in airflow if f"as_of={SCHEDULED[0]}/" in k and not k.startswith(("reports/", "label="))}
    assert ours == {k for k in cli if f"as_of={SCHEDULED[0]}/" in k}  # no partition more, none less


def test_backfill_runs_the_labelled_customer_and_leaves_production_alone(deployment: SimpleNamespace) -> None:
    runs = deployment.runs("backfill")
    assert [r[4].date() for r in runs] == list(BACKFILL) and all(r[2] == "success" for r in runs), runs
    assert all(r[7] == {"customers": [BACKFILL_CUSTOMER], "label": LABEL} for r in runs)
    assert deployment.production_after == deployment.production_before
    labelled = deployment.output / f"label={LABEL}"
    for as_of in BACKFILL:
        for dataset in PUBLISHED:
            folder = labelled / dataset / f"as_of={as_of}"
            assert [p.name for p in folder.iterdir()] == [f"customer_id={BACKFILL_CUSTOMER}"], folder
            assert (folder / f"customer_id={BACKFILL_CUSTOMER}" / "part-0.parquet").exists()
    assert not list(deployment.output.glob(f"*/as_of={BACKFILL[0]}"))  # nothing of it in production


def test_report_dag_runs_on_the_scores_asset(deployment: SimpleNamespace) -> None:
    runs = [r for r in deployment.runs("asset_triggered") if r[0] == "support_taxonomy_report"]
    assert runs and all(r[2] == "success" for r in runs), runs
    for as_of in SCHEDULED:
        assert (deployment.output / "reports" / f"as_of={as_of}" / "index.html").exists(), as_of
    for as_of in BACKFILL:
        assert (deployment.output / f"label={LABEL}" / "reports" / f"as_of={as_of}" / "index.html").exists(), as_of


def test_api_server_answers_with_the_compose_auth_manager(deployment: SimpleNamespace) -> None:
    status, health = api(deployment, "/api/v2/monitor/health")
    assert status == 200 and {v["status"] for v in health.values()} == {"healthy"}, health
    assert api(deployment, "/api/v2/dags")[0] == 401  # FAB auth manager: no token, no answer
    user, password = stack_mod.admin_user(deployment.stack.state["environ"])
    status, token = api(deployment, "/auth/token", body={"username": user, "password": password})
    assert status == 201, status
    status, dags = api(deployment, "/api/v2/dags", token["access_token"])
    assert status == 200 and {d["dag_id"] for d in dags["dags"]} == {"support_taxonomy", "support_taxonomy_report"}
    run_id = urllib.parse.quote(deployment.killed.run_id)
    status, tis = api(deployment, f"/api/v2/dags/support_taxonomy/dagRuns/{run_id}/taskInstances?limit=100",
                      token["access_token"])
    assert status == 200 and tis["total_entries"] == len(deployment.task_instances(deployment.killed.run_id))
    assert {t["state"] for t in tis["task_instances"]} == {"success"}
    killed = [t for t in tis["task_instances"]
              if t["task_id"] == deployment.killed.task_id and t["map_index"] == deployment.killed.map_index]
    assert killed[0]["try_number"] > deployment.killed.try_number
    # The retried try's log, as the UI shows it: read from the local log folder (workers serve no logs here).
    status, log = api(deployment, f"/api/v2/dags/support_taxonomy/dagRuns/{run_id}/taskInstances/"
                      f"{deployment.killed.task_id}/logs/{killed[0]['try_number']}?map_index={deployment.killed.map_index}",
                      token["access_token"])
    events = [str(line.get("event", "")) if isinstance(line, dict) else str(line) for line in log.get("content", [])]
    assert status == 200 and events[0] == "::group::Log message source details", events[:3]
    assert any(e.startswith(str(deployment.stack.home / "logs")) for e in events[1:3]), events[:3]  # the local file
    assert len(events) > 5, events
    deployment.note(f"api-server: health {sorted(health)}; {len(dags['dags'])} DAGs; {tis['total_entries']} task "
                    f"instances of {deployment.killed.run_id}, all success")
