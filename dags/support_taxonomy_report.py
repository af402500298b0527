"""
### support_taxonomy_report: CSM report pages, rendered when new scores are published

Scheduled on the `taxonomy_scores` Asset that `support_taxonomy.publish` emits. Each
Asset event carries the output root, `as_of` and label of what was published, so
this DAG renders exactly those pages (one light, offline HTML page per customer
plus the portfolio page) under `<output>/[label=<name>/]reports/as_of=.../`, with plotly.js
once in `reports/_assets/`.
Triggered by hand, it renders the latest published `as_of` under the configured
output root (`taxonomy_output_uri` Variable, else `TAXONOMY_OUTPUT_URI`).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, get_current_context, task

SCORES = Asset(name="taxonomy_scores", uri="taxonomy://scores")


@dag(
    doc_md=__doc__,
    schedule=[SCORES],
    start_date=datetime.fromisoformat(os.environ.get("TAXONOMY_START_DATE", "2026-01-01")),
    catchup=False,  # Asset-scheduled: runs per event, nothing to catch up
    tags=["taxonomy", "reports"],
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(seconds=float(os.environ.get("TAXONOMY_RETRY_DELAY_SECONDS", "120"))),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
    },
)
def support_taxonomy_report():
    @task
    def render_reports() -> list[str]:
        from taxonomy.airflow_tasks import report_task

        return report_task(get_current_context(), SCORES)

    render_reports()


support_taxonomy_report()
