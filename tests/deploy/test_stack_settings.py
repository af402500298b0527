"""scripts/airflow_stack.py's settings agree with docker-compose.yml (fast: no service is started).

The stack reads compose's ``x-airflow-common`` environment when it starts; these tests pin how it
fills ``${VAR:-default}`` and moves container addresses to 127.0.0.1, so a setting added to the
compose file reaches the VM stack too, and nothing else changes on the way.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.scenario import stack_mod

PORTS = {"postgres": 15432, "redis": 16379, "api": 18080, "scheduler_health": 18974}
HOME = Path("/srv/stack/airflow")


def test_substitute_follows_compose_interpolation() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert stack_mod.substitute("${SET:-d}", env) == "x"
    assert stack_mod.substitute("${EMPTY:-d}", env) == "d"  # `:-`: unset or empty takes the default
    assert stack_mod.substitute("${UNSET:-}", env) == ""
    assert stack_mod.substitute("${SET}/${UNSET}", env) == "x/"
    assert stack_mod.substitute("a $$HOSTNAME b", env) == "a $HOSTNAME b"
    assert stack_mod.substitute("0 0 * * *", env) == "0 0 * * *"


def test_every_compose_setting_reaches_the_stack_with_only_addresses_moved() -> None:
    compose = stack_mod.compose_file()["x-airflow-common"]["environment"]
    env = stack_mod.airflow_environment(PORTS, HOME, {"POSTGRES_PASSWORD": "s3cret", "TAXONOMY_END_DATE": "2026-11-23"})
    assert set(compose) <= set(env)
    for key, value in compose.items():
        assert not re.search(r"\$\{|@postgres\b|@redis\b|airflow-apiserver|/opt/airflow", env[key]), (key, env[key])
        if not re.search(r"\$\{|postgres|redis|apiserver|/opt/airflow", str(value)):
            assert env[key] == str(value), key  # a plain value is taken as it is
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:s3cret@127.0.0.1:15432/airflow"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql://airflow:s3cret@127.0.0.1:15432/airflow"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@127.0.0.1:16379/0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW_CONFIG"] == "/srv/stack/airflow/config/airflow.cfg"
    assert env["TAXONOMY_LANDING_URI"] == "/srv/stack/airflow/data/landing"
    assert env["TAXONOMY_END_DATE"] == "2026-11-23" and env["TAXONOMY_SCHEDULE"] == "0 0 * * *"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(stack_mod.ROOT / "dags")
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == "18080"


def test_other_airflow_settings_pass_through_but_never_override_compose() -> None:
    settings = {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20"}
    env = stack_mod.airflow_environment(PORTS, HOME, settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] == "20"


def test_the_stack_keeps_only_the_settings_compose_reads() -> None:
    kept = stack_mod.settings_from({"POSTGRES_PASSWORD": "p", "AIRFLOW__X__Y": "1", "HOME": "/root", "SECRET_TOKEN": "t"})
    assert kept == {"POSTGRES_PASSWORD": "p", "AIRFLOW__X__Y": "1"}
    assert stack_mod.database_settings({}) == {"POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": "airflow",
                                               "POSTGRES_DB": "airflow"}
    assert stack_mod.admin_user({"_AIRFLOW_WWW_USER_PASSWORD": "pw"}) == ("airflow", "pw")


def test_worker_hostname_names_each_worker(monkeypatch) -> None:
    from taxonomy.airflow_tasks import worker_hostname

    monkeypatch.setenv("TAXONOMY_WORKER_HOSTNAME", "worker-2.vm")
    assert worker_hostname() == "worker-2.vm"
    monkeypatch.delenv("TAXONOMY_WORKER_HOSTNAME")
    assert worker_hostname() and worker_hostname() != "worker-2.vm"
    assert stack_mod.HOSTNAME_CALLABLE == "taxonomy.airflow_tasks.worker_hostname"
