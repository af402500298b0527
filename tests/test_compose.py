"""docker-compose.yml, Dockerfile and deploy/.env.example: structure checks.

No Docker engine exists on CI machines, so these parse the files and check what a
`docker compose up` depends on: the services of the official Airflow 3 compose file,
their health checks and start-up conditions, the Celery executor, mounts, pinned
image tags, and a Dockerfile that pins CPU-only torch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = (
    "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _env(service: dict) -> dict:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def test_services_of_the_reference_compose(compose: dict) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "airflow-init", "airflow-cli", "flower", *AIRFLOW_SERVICES):
        assert name in services, name
    commands = {n: services[n].get("command") for n in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor", "airflow-worker": "celery worker",
        "airflow-triggerer": "triggerer",
    }
    assert services["flower"]["profiles"] == ["flower"] and services["airflow-cli"]["profiles"] == ["debug"]


def test_every_long_running_service_has_a_healthcheck(compose: dict) -> None:
    for name, service in compose["services"].items():
        if name in ("airflow-init", "airflow-cli", "minio-init"):
            continue
        check = service.get("healthcheck")
        assert check and check["test"] and check.get("interval") and check.get("retries"), name
        assert service.get("restart") == "always", name


def test_start_up_order_uses_health_and_completion_conditions(compose: dict) -> None:
    services = compose["services"]
    for name in (*AIRFLOW_SERVICES, "flower"):
        deps = services[name]["depends_on"]
        assert deps["postgres"] == {"condition": "service_healthy"}, name
        assert deps["redis"] == {"condition": "service_healthy"}, name
        assert deps["airflow-init"] == {"condition": "service_completed_successfully"}, name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert services["minio-init"]["depends_on"]["minio"] == {"condition": "service_healthy"}


def test_celery_executor_and_shared_settings(compose: dict) -> None:
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env = _env(compose["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert "postgres" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert env["HF_HUB_OFFLINE"] == "1"
        assert {"TAXONOMY_LANDING_URI", "TAXONOMY_OUTPUT_URI", "TAXONOMY_SCHEDULE", "TAXONOMY_START_DATE"} <= set(env)
    init = _env(compose["services"]["airflow-init"])
    assert init["_AIRFLOW_DB_MIGRATE"] == "true" and init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert compose["services"]["airflow-init"]["user"] == "0:0"


def test_workers_can_be_scaled(compose: dict) -> None:
    worker = compose["services"]["airflow-worker"]
    # `--scale airflow-worker=N` fails with a fixed container name or a published host port.
    assert "container_name" not in worker and "ports" not in worker
    assert _env(worker)["DUMB_INIT_SETSID"] == "0"


def test_dags_landing_and_output_are_mounted(compose: dict) -> None:
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        targets = {v.split(":")[-1] for v in compose["services"][name]["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/logs", "/opt/airflow/data/landing", "/opt/airflow/data/output"} <= targets
    dags = [v for v in compose["services"]["airflow-worker"]["volumes"] if v.endswith(":/opt/airflow/dags")]
    assert dags and dags[0].rsplit(":", 1)[0].endswith("/dags")
    assert "postgres-db-volume" in compose["volumes"]


def test_optional_s3_landing_zone(compose: dict) -> None:
    minio, init = compose["services"]["minio"], compose["services"]["minio-init"]
    assert minio["profiles"] == ["s3"] and init["profiles"] == ["s3"]
    assert "landing" in _env(init)["TAXONOMY_S3_BUCKETS"]
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(_env(compose["services"]["airflow-worker"]))


def test_every_image_tag_is_pinned(compose: dict, dockerfile: str) -> None:
    images = {name: s["image"] for name, s in compose["services"].items() if "image" in s}
    assert set(images) >= {"postgres", "redis", "minio", *AIRFLOW_SERVICES}
    for name, image in images.items():
        default = re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", image)  # the value used when unset
        repo, _, tag = default.rpartition(":")
        assert repo and tag and tag != "latest" and re.search(r"\d", tag), (name, image)
    base = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M)
    assert base == ["apache/airflow:3.3.2-python3.11"]


def test_airflow_services_run_the_project_image(compose: dict) -> None:
    for name in (*AIRFLOW_SERVICES, "airflow-init", "flower"):
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "Dockerfile" and "support-taxonomy" in service["image"], name


def test_dockerfile_installs_the_project_with_cpu_torch(dockerfile: str) -> None:
    assert re.search(r"ARG TORCH_VERSION=2\.13\.0\b", dockerfile)
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    torch_line = next(ln for ln in dockerfile.splitlines() if "torch==" in ln and "pip install" in ln)
    assert '--index-url "${TORCH_INDEX_URL}"' in torch_line
    assert dockerfile.index("torch==") < dockerfile.index("-e /opt/taxonomy"), "torch CPU must come first"
    assert 'apache-airflow==${AIRFLOW_VERSION}' in dockerfile and "ARG AIRFLOW_VERSION=3.3.2" in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile


def test_pinned_versions_agree_with_the_project(dockerfile: str) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    torch_pin = re.search(r'"torch==([\d.]+)"', pyproject)
    assert torch_pin and f"ARG TORCH_VERSION={torch_pin.group(1)}" in dockerfile
    airflow = re.search(r'"apache-airflow>=([\d.]+),<([\d.]+)"', pyproject)
    version = re.search(r"ARG AIRFLOW_VERSION=([\d.]+)", dockerfile).group(1)
    lo, hi = (tuple(int(x) for x in v.split(".")) for v in airflow.groups())
    assert lo <= tuple(int(x) for x in version.split(".")) < hi


def test_dockerignore_keeps_secrets_and_bulk_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "data", "logs"} <= ignored


def test_env_example_covers_what_compose_reads(compose: dict) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / "deploy" / ".env.example").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+):-", text))
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, flags=re.M))
    wanted = {
        "AIRFLOW_UID", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "TAXONOMY_SCHEDULE",
        "TAXONOMY_START_DATE", "TAXONOMY_LANDING_URI", "TAXONOMY_OUTPUT_URI", "AWS_ENDPOINT_URL",
    }
    assert wanted <= used and wanted <= documented, (wanted - used, wanted - documented)
