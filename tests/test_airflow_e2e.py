"""Airflow runs the daily DAG for real: ``airflow dags test`` on SQLite, three consecutive days.

One module-scoped fixture builds a small landing zone (CSV exports in the canonical
columns), migrates a throw-away Airflow metadata DB and runs, through Airflow's own
CLI, what a backfill of three days runs: ``airflow dags test support_taxonomy <day>``
for three consecutive ``as_of`` dates, then the middle one again, then a labelled
one-customer run with params. The tests then read the published partitions, the
task states Airflow recorded, and ``airflow backfill create --dry-run``'s plan.

On the third day one customer ("broken") lands a file without the ``text`` column:
its tasks fail and the run ends failed, while the other customers are published.

Conversation texts come from Banking77 (CC BY 4.0, Casanueva et al. 2020), via
``/work/shared/data/banking77/train_tiers.csv`` where present, else a few fixed lines.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
BANKING77 = Path("/work/shared/data/banking77/train_tiers.csv")
CUSTOMERS = ("acme", "globex", "initech")
PER_DAY = 40
DAYS = (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))  # landing days
AS_OF = tuple(d + timedelta(days=1) for d in DAYS)  # the runs' logical dates = as_of
PUBLISHED = ("conversations", "topics", "scores", "trends")
FALLBACK_TEXTS = (
    "How do I reset my password?", "Where is my card? It has not arrived yet.",
    "Please cancel my subscription today.", "Why was I charged twice for the same order?",
    "What are your fees for international transfers?", "My card was stolen, block it now.",
    "Can I change the address on my account?", "Why is my transfer still pending?",
)


# -- building the landing zone ----------------------------------------------------------------------
def _texts() -> list[str]:
    if BANKING77.exists():
        with BANKING77.open(newline="", encoding="utf-8") as fh:
            return [row["text"] for row in csv.DictReader(fh)]
    return list(FALLBACK_TEXTS)


def write_landing(root: Path) -> None:
    """``<root>/<customer>/<day>/export.csv`` for every customer and day, plus the broken file."""
    texts, rng = _texts(), random.Random(11)
    for customer in CUSTOMERS:
        for day in DAYS:
            folder = root / customer / day.isoformat()
            folder.mkdir(parents=True)
            with (folder / "export.csv").open("w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh)
                out.writerow(["customer_id", "conversation_id", "created_at", "text", "handle_time_seconds"])
                for i in range(PER_DAY):
                    at = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(minutes=30 * i + 7)
                    out.writerow([customer, f"{customer}-{day:%m%d}-{i:03d}", at.isoformat(),
                                  rng.choice(texts), round(rng.uniform(60, 1800), 1)])
    broken = root / "broken" / DAYS[-1].isoformat()
    broken.mkdir(parents=True)
    (broken / "export.csv").write_text(
        "customer_id,conversation_id,created_at,handle_time_seconds\n"
        f"broken,b-1,{DAYS[-1].isoformat()}T10:00:00+00:00,120\n",
        encoding="utf-8",
    )


# -- running Airflow -------------------------------------------------------------------------------
def _airflow(env: dict, *args: str, log: Path | None = None, timeout: int = 900) -> tuple[int, str, float]:
    started = time.perf_counter()
    proc = subprocess.run([AIRFLOW, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    if log is not None:
        log.write_text(output, encoding="utf-8")
    return proc.returncode, output, time.perf_counter() - started


def snapshot(root: Path, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest), hidden files skipped."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and not any(str(p.relative_to(root)).startswith(e) for e in exclude)
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Three daily runs, the middle one re-run, and a labelled run: all with ``airflow dags test``."""
    tmp = tmp_path_factory.mktemp("airflow_e2e")
    landing, output, home = tmp / "landing", tmp / "output", tmp / "airflow_home"
    write_landing(landing)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "TAXONOMY_LANDING_URI": str(landing),
        "TAXONOMY_OUTPUT_URI": str(output),
        "TAXONOMY_RETRY_DELAY_SECONDS": "1",  # a failing non-input error retries quickly here
        "HF_HUB_OFFLINE": "1",
    }
    rc, out, _ = _airflow(env, "db", "migrate", log=tmp / "db-migrate.log")
    assert rc == 0, out[-3000:]
    ns = SimpleNamespace(
        tmp=tmp, landing=landing, output=output, home=home, env=env, rc={}, seconds={}, logs={}, states={}
    )
    for as_of in AS_OF:
        key = as_of.isoformat()
        ns.rc[key], _, ns.seconds[key] = _airflow(
            env, "dags", "test", "support_taxonomy", key, log=tmp / f"dags-test-{key}.log"
        )
        ns.logs[key] = tmp / f"dags-test-{key}.log"
        # Read now: a later `dags test` of the same date clears this run's task instances.
        ns.states[key] = _task_states(home, as_of)
    middle = AS_OF[1].isoformat()
    ns.before_rerun = snapshot(output)
    ns.rc["rerun"], _, ns.seconds["rerun"] = _airflow(
        env, "dags", "test", "support_taxonomy", middle, log=tmp / "dags-test-rerun.log"
    )
    ns.after_rerun = snapshot(output)
    conf = {"customers": ["acme"], "label": "exp-1", "window_days": 7}
    ns.rc["label"], _, ns.seconds["label"] = _airflow(
        env, "dags", "test", "support_taxonomy", AS_OF[-1].isoformat(), "-c", json.dumps(conf),
        log=tmp / "dags-test-label.log",
    )
    ns.after_label = snapshot(output)
    (tmp / "timings.json").write_text(json.dumps(ns.seconds, indent=2))
    print(f"\nairflow dags test wall seconds: {ns.seconds}")
    return ns


def _rows(path: Path) -> int:
    import polars as pl

    return pl.read_parquet(path).height


def _part(output: Path, dataset: str, as_of: date, customer: str) -> Path:
    return output / dataset / f"as_of={as_of.isoformat()}" / f"customer_id={customer}" / "part-0.parquet"


def _task_states(home: Path, as_of: date) -> dict[tuple[str, str], str]:
    """(task_id, rendered map index) -> state of the task instances of the run of ``as_of``."""
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute(
            "SELECT ti.task_id, COALESCE(ti.rendered_map_index, ''), ti.state FROM task_instance ti "
            "JOIN dag_run dr ON dr.run_id = ti.run_id AND dr.dag_id = ti.dag_id "
            "WHERE ti.dag_id = 'support_taxonomy' AND dr.logical_date LIKE ? ORDER BY dr.id",
            (f"{as_of.isoformat()}%",),
        ).fetchall()
    return {(task, index): state for task, index, state in rows}


# -- the tests ---------------------------------------------------------------------------------
def test_three_days_give_three_complete_as_of_partitions(runs: SimpleNamespace) -> None:
    assert runs.rc[AS_OF[0].isoformat()] == 0, runs.logs[AS_OF[0].isoformat()].read_text()[-5000:]
    assert runs.rc[AS_OF[1].isoformat()] == 0, runs.logs[AS_OF[1].isoformat()].read_text()[-5000:]
    for n, as_of in enumerate(AS_OF, start=1):
        for customer in CUSTOMERS:
            for dataset in PUBLISHED:
                assert _part(runs.output, dataset, as_of, customer).exists(), (dataset, as_of, customer)
            # The 28-day window ending at as_of holds every day landed so far.
            assert _rows(_part(runs.output, "conversations", as_of, customer)) == n * PER_DAY
            assert _rows(_part(runs.output, "scores", as_of, customer)) == 1
            assert _rows(_part(runs.output, "topics", as_of, customer)) >= 1


def test_scores_rows_describe_their_window(runs: SimpleNamespace) -> None:
    import polars as pl

    for as_of in AS_OF:
        # Hive layout: customer_id and as_of live in the path (polars parses them back, typed).
        scores = pl.read_parquet(_part(runs.output, "scores", as_of, "acme"), hive_partitioning=True)
        row = scores.row(0, named=True)
        assert row["customer_id"] == "acme" and row["as_of"] == as_of
        assert row["window_end"] < as_of and 0.0 <= row["automation_potential"] <= 1.0


def test_rerunning_the_middle_day_changes_nothing(runs: SimpleNamespace) -> None:
    assert runs.rc["rerun"] == 0
    assert runs.after_rerun == runs.before_rerun
    assert any(f"as_of={AS_OF[1].isoformat()}" in k for k in runs.after_rerun)


def test_a_broken_customer_fails_alone_and_visibly(runs: SimpleNamespace) -> None:
    last = AS_OF[-1]
    log = runs.logs[last.isoformat()].read_text()
    assert runs.rc[last.isoformat()] != 0, "the run with a failed customer must end failed"
    states = runs.states[last.isoformat()]
    assert states[("customer.ingest", "broken")] == "failed"
    assert states[("publish", "")] == "success"
    assert states[("check_customers", "")] == "failed"
    assert all(states[(f"customer.{t}", c)] == "success" for t in ("ingest", "enrich", "analyse") for c in CUSTOMERS)
    assert "broken" in log and "customers failed and were not published" in log
    assert not list(runs.output.glob("*/as_of=*/customer_id=broken"))


def test_labelled_run_writes_only_under_its_label(runs: SimpleNamespace) -> None:
    assert runs.rc["label"] == 0, (runs.tmp / "dags-test-label.log").read_text()[-5000:]
    new = {k for k in runs.after_label if k not in runs.after_rerun}
    assert new and all(k.startswith("label=exp-1/") for k in new)
    labelled = runs.output / "label=exp-1"
    assert _part(labelled, "scores", AS_OF[-1], "acme").exists()
    assert not list(labelled.glob("scores/*/customer_id=globex"))
    # Production outputs were not touched by the experiment.
    assert {k: v for k, v in runs.after_label.items() if not k.startswith("label=")} == runs.after_rerun


def test_publish_emits_asset_events_naming_the_partition(runs: SimpleNamespace) -> None:
    with sqlite3.connect(runs.home / "airflow.db") as db:
        rows = db.execute(
            "SELECT a.uri, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id ORDER BY e.id"
        ).fetchall()
    scores = [json.loads(extra) for uri, extra in rows if uri.rstrip("/") == "taxonomy://scores"]
    assert {e["as_of"] for e in scores} == {d.isoformat() for d in AS_OF}
    last = [e for e in scores if e["as_of"] == AS_OF[-1].isoformat() and e["label"] is None][-1]
    assert last["customers"] == list(CUSTOMERS) and last["output_uri"] == str(runs.output)
    assert any(e["label"] == "exp-1" and e["customers"] == ["acme"] for e in scores)


def test_backfill_create_plans_the_same_days(runs: SimpleNamespace) -> None:
    rc, out, _ = _airflow(
        runs.env, "backfill", "create", "--dag-id", "support_taxonomy", "--from-date", AS_OF[0].isoformat(),
        "--to-date", AS_OF[-1].isoformat(), "--reprocess-behavior", "completed", "--max-active-runs", "1",
        "--dag-run-conf", json.dumps({"customers": ["acme"]}), "--dry-run",
    )
    assert rc == 0, out[-3000:]
    for as_of in AS_OF:
        assert as_of.isoformat() in out


def test_runtime_is_modest(runs: SimpleNamespace) -> None:
    # Each day is a full Airflow run (parse, schedule, 3 customers x 3 tasks, publish, GE checks).
    assert max(runs.seconds.values()) < 240, runs.seconds
