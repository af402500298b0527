"""
### support_taxonomy: daily automation-potential scores per customer

Each run's logical date (= data interval end) is its `as_of`, the exclusive end of
the analysis window. The run finds the customers whose support exports for the day
before landed in `<landing>/<customer_id>/<YYYY-MM-DD>/` (plus those the sources file
pulls from an API), then runs one **mapped task group per customer**: `extract` (pull
from Intercom / Zendesk, if the customer has an API source) -> `ingest` -> `enrich` (embed + tier) -> `analyse`
(topics over the trailing window ending at `as_of`). `ingest` also catches up any
landed day of the window not ingested yet (first run, labelled run, missed day).
`publish` then scores every customer that made it and writes `conversations/`,
`topics/`, `scores/`, `trends/` for that `as_of`, emitting the Assets that the
report DAG is scheduled on. A customer whose data is bad fails alone (bad input
fails at once, other errors retry with exponential backoff); the others are
published, and `check_customers` then fails the run, naming who is missing.

Params (trigger form / `--conf` / `backfill create --dag-run-conf`): `customers`
(subset), `window_days`, `config_path`, `label` (writes under `label=<name>/`).
Settings: `TAXONOMY_SCHEDULE`, `TAXONOMY_START_DATE`, `TAXONOMY_END_DATE`,
`TAXONOMY_RETRY_DELAY_SECONDS` (environment, read at parse time); storage roots `taxonomy_landing_uri` /
`taxonomy_output_uri`, sources file `taxonomy_sources_file` (Airflow Variables, else the
same names upper-cased in the environment), read when tasks run. See docs/airflow.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import (
    Asset, CronTriggerTimetable, ExceptionRetryPolicy, Param, RetryAction, RetryRule, TriggerRule,
    dag, get_current_context, task, task_group,
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
OUTPUTS = [Asset(name=f"taxonomy_{name}", uri=f"taxonomy://{name}") for name in ("conversations", "topics", "scores", "trends")]
# Bad input (TaxonomyError) fails at once: retrying cannot fix a file. Anything else (S3, OOM) retries.
USER_ERRORS_FAIL_FAST = ExceptionRetryPolicy(
    rules=[RetryRule(exception="taxonomy.errors.TaxonomyError", action=RetryAction.FAIL, reason="bad input")]
)
PARAMS = {
    "customers": Param([], type="array", items={"type": "string", "pattern": NAME_PATTERN}, uniqueItems=True,
                       title="Customers", description="Only these customer ids (empty: every customer that landed exports)."),
    "window_days": Param(None, type=["null", "integer"], minimum=1, maximum=366, title="Window (days)",
                         description="Analysis window length (empty: the config's, 28 by default)."),
    "config_path": Param(None, type=["null", "string"], title="Config file", description="YAML settings file or URI."),
    "label": Param(None, type=["null", "string"], pattern=NAME_PATTERN, title="Output label",
                   description="Write under label=<name>/ so an experiment never overwrites production."),
}


@dag(
    doc_md=__doc__,
    # Airflow 3 cron: logical date = run time = as_of (`dags test D`, `backfill create --from-date D`).
    schedule=CronTriggerTimetable(os.environ.get("TAXONOMY_SCHEDULE", "0 0 * * *"), timezone="UTC"),
    start_date=datetime.fromisoformat(os.environ.get("TAXONOMY_START_DATE", "2026-01-01")),
    end_date=datetime.fromisoformat(os.environ["TAXONOMY_END_DATE"]) if os.environ.get("TAXONOMY_END_DATE") else None,
    catchup=True,
    max_active_runs=1,  # a run's window reads the days earlier runs enriched
    params=PARAMS,
    tags=["taxonomy", "daily", "scores"],
    default_args={
        "owner": "data-engineering",
        "retries": 3,
        "retry_delay": timedelta(seconds=float(os.environ.get("TAXONOMY_RETRY_DELAY_SECONDS", "120"))),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
        "retry_policy": USER_ERRORS_FAIL_FAST,
    },
)
def support_taxonomy():
    @task
    def discover() -> list[str]:
        from taxonomy.airflow_tasks import discover_task

        return discover_task(get_current_context())

    @task_group(group_id="customer")
    def per_customer(customer_id: str):
        # map_index_template: the grid shows each customer's id instead of a map index.
        @task(map_index_template="{{ customer_id }}")
        def extract(customer_id: str) -> dict[str, str]:
            from taxonomy.airflow_tasks import extract_task

            return extract_task(get_current_context(), customer_id)

        @task(map_index_template="{{ customer_id }}")
        def ingest(customer_id: str) -> dict[str, str]:
            from taxonomy.airflow_tasks import ingest_task

            return ingest_task(get_current_context(), customer_id)

        @task(map_index_template="{{ customer_id }}")
        def enrich(customer_id: str, ingested: dict[str, str]) -> dict[str, str]:
            from taxonomy.airflow_tasks import enrich_task

            return enrich_task(get_current_context(), customer_id, ingested)

        @task(map_index_template="{{ customer_id }}")
        def analyse(customer_id: str) -> dict[str, str]:
            from taxonomy.airflow_tasks import analyse_task

            return analyse_task(get_current_context(), customer_id)

        ingested = ingest(customer_id)
        extract(customer_id) >> ingested
        analysed = analyse(customer_id)
        enrich(customer_id, ingested) >> analysed
        return analysed

    @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS, outlets=OUTPUTS)
    def publish(analyses: list[dict[str, str]]) -> dict[str, list[str]]:
        from taxonomy.airflow_tasks import publish_task

        return publish_task(get_current_context(), analyses, OUTPUTS)

    # Runs whatever happened upstream, so the run ends failed (visibly) when any customer,
    # discover or publish failed, after the healthy customers were published.
    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def check_customers(discovered: list[str], analyses: list[dict[str, str]], published: dict | None) -> list[str]:
        from taxonomy.airflow_tasks import check_task

        return check_task(discovered, analyses, published)

    customers = discover()
    analyses = per_customer.expand(customer_id=customers)
    check_customers(customers, analyses, publish(analyses))


support_taxonomy()
