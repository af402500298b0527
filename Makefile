# The README's two commands: `make demo` (the main job on the bundled sample) and `make test`.
# Both create .venv and install everything on a fresh machine; nothing needs installing by hand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install run-cli stack stack-down stack-status clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (CPU torch 2.13.0; first time takes a few minutes)..."
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,deploy]'
	@touch $(STAMP)

install: $(STAMP)

## The main job on the bundled sample, run by Airflow (airflow dags test, SQLite metadata DB).
demo: $(STAMP)
	@bash scripts/demo_airflow.sh

## The same job without Airflow: `taxonomy run` straight from the CLI.
run-cli: $(STAMP)
	@$(VENV)/bin/taxonomy run --input examples/landing --output .demo/output-cli --config examples/config.yaml
	@echo "Outputs: .demo/output-cli/"

## The whole test suite (real model, real Airflow and its Celery deployment, moto S3 server, headless Chromium).
test: $(STAMP)
	@bash scripts/install_chromium.sh
	@bash scripts/install_services.sh
	@bash scripts/install_spark.sh
	@$(PY) -m pytest

## docker-compose.yml's deployment without Docker, on this machine (README: "Without Docker").
## Settings as in compose's .env: e.g. `TAXONOMY_LANDING_URI=/srv/landing make stack`.
stack: $(STAMP)
	@bash scripts/install_services.sh
	@$(PY) scripts/airflow_stack.py up $(STACK_ARGS)

stack-down:
	@$(PY) scripts/airflow_stack.py down $(STACK_ARGS)

stack-status:
	@$(PY) scripts/airflow_stack.py status $(STACK_ARGS)

clean:
	rm -rf .demo .pytest_cache tests/artifacts .stack .venv-spark
