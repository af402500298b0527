#!/usr/bin/env bash
# `make demo`: the main job on the bundled sample, run by Airflow itself.
#
# A fresh AIRFLOW_HOME under .demo/airflow (SQLite metadata DB), then
#   airflow dags test support_taxonomy <as_of - 28 d>  (the prediction a back-test checks)
#   airflow dags test support_taxonomy <as_of>         (the daily DAG, latest sample day; its publish step
#                                                       back-tests the prediction of 28 days before)
#   airflow dags test support_taxonomy_report <as_of>  (the report DAG it feeds: predicted vs achieved)
# with Airflow's own log in .demo/airflow/*.log, and a readable summary on the terminal.
#
# Environment: TAXONOMY_LANDING_URI (default: examples/landing, else a generated sample),
# TAXONOMY_OUTPUT_URI (default: .demo/output), DEMO_AS_OF (default: day after the latest landing day),
# DEMO_PREDICTED_AT (default: DEMO_AS_OF - 28 days; "none" skips the prediction run and the back-test).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.venv/bin"
DEMO="$ROOT/.demo/airflow"
LANDING="${TAXONOMY_LANDING_URI:-$ROOT/examples/landing}"
OUTPUT="${TAXONOMY_OUTPUT_URI:-$ROOT/.demo/output}"

rm -rf "$DEMO"
mkdir -p "$DEMO"
if [[ ! -d "$LANDING" ]]; then
  LANDING="$ROOT/.demo/landing"
  if [[ ! -d "$LANDING" ]]; then
    echo "examples/landing not found: generating a sample landing zone in .demo/landing"
    "$BIN/taxonomy" make-sample --output "$LANDING" >"$DEMO/make-sample.log"
  fi
fi

latest="$(find "$LANDING" -mindepth 2 -maxdepth 2 -type d -name '20[0-9][0-9]-[0-1][0-9]-[0-3][0-9]' -printf '%f\n' | sort | tail -n 1)"
if [[ -z "$latest" ]]; then
  echo "no <customer>/<YYYY-MM-DD>/ folders under $LANDING" >&2
  exit 2
fi
AS_OF="${DEMO_AS_OF:-$(date -u -d "$latest + 1 day" +%F)}"
PREDICTED_AT="${DEMO_PREDICTED_AT:-$(date -u -d "$AS_OF - 28 days" +%F)}"

export AIRFLOW_HOME="$DEMO/home"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export TAXONOMY_LANDING_URI="$LANDING" TAXONOMY_OUTPUT_URI="$OUTPUT"
export TAXONOMY_RETRY_DELAY_SECONDS="${TAXONOMY_RETRY_DELAY_SECONDS:-5}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

echo "Airflow $("$BIN/airflow" version 2>/dev/null | tail -n 1): support_taxonomy for as_of=$AS_OF"
echo "  landing: $LANDING   (latest landing day $latest)"
echo "  output:  $OUTPUT"
echo "  logs:    $DEMO/"
"$BIN/airflow" db migrate >"$DEMO/db-migrate.log" 2>&1

start=$(date +%s)
status=0
# The sample's settings: its Zendesk customer keeps handle time in a custom field (examples/config.yaml).
CONF="{\"config_path\": \"${DEMO_CONFIG:-$ROOT/examples/config.yaml}\"}"
if [[ "$PREDICTED_AT" != "none" ]]; then
  # The prediction 28 days earlier, so the as_of run's publish step can back-test it (predicted vs achieved).
  "$BIN/airflow" dags test support_taxonomy "$PREDICTED_AT" -c "$CONF" >"$DEMO/support_taxonomy_predicted.log" 2>&1 || status=$?
  echo "  airflow dags test support_taxonomy $PREDICTED_AT (the prediction): exit $status in $(( $(date +%s) - start )) s"
fi
"$BIN/airflow" dags test support_taxonomy "$AS_OF" -c "$CONF" >"$DEMO/support_taxonomy.log" 2>&1 || status=$?
echo "  airflow dags test support_taxonomy: exit $status in $(( $(date +%s) - start )) s"

"$BIN/python" - "$AIRFLOW_HOME/airflow.db" <<'PY'
import sqlite3, sys
from collections import Counter
db = sqlite3.connect(sys.argv[1])
run = db.execute("SELECT run_id, state FROM dag_run WHERE dag_id='support_taxonomy' ORDER BY id DESC LIMIT 1").fetchone()
if run:
    rows = db.execute(
        "SELECT task_id, COALESCE(rendered_map_index, ''), state FROM task_instance WHERE run_id=? AND dag_id='support_taxonomy'",
        (run[0],),
    ).fetchall()
    print(f"  dag run {run[0]}: {run[1]}; tasks: {dict(Counter(s for _, _, s in rows))}")
    for task, index, state in sorted(rows):
        if state != "success":
            print(f"    {task}[{index}] {state}")
PY

report_status=0
"$BIN/airflow" dags test support_taxonomy_report "$AS_OF" >"$DEMO/support_taxonomy_report.log" 2>&1 || report_status=$?
echo "  airflow dags test support_taxonomy_report: exit $report_status"

echo
scores="$OUTPUT/scores/as_of=$AS_OF"
if [[ ! -d "$scores" ]]; then
  echo "nothing was published for as_of=$AS_OF; see $DEMO/support_taxonomy.log" >&2
  exit 1
fi
for folder in "$scores"/customer_id=*; do
  customer="${folder##*/customer_id=}"
  echo "=================================================================================="
  "$BIN/taxonomy" show --output "$OUTPUT" --customer "$customer" --as-of "$AS_OF" --top 3 \
    || echo "($customer: \`taxonomy show\` failed; its outputs are in $OUTPUT)" >&2
done
backtests="$OUTPUT/backtest/as_of=$AS_OF"
if [[ -d "$backtests" ]]; then
  echo "=================================================================================="
  echo "Back-tests: the potential published on $PREDICTED_AT against what customers automated since"
  for folder in "$backtests"/customer_id=*; do
    customer="${folder##*/customer_id=}"
    "$BIN/taxonomy" backtest --output "$OUTPUT" --customer "$customer" --predicted-at "$PREDICTED_AT" --achieved-at "$AS_OF" \
      | head -n 7 || true
  done
fi
reports="$OUTPUT/reports/as_of=$AS_OF"
[[ -d "$reports" ]] && echo && echo "CSM report pages: $reports/"
exit "$status"
