"""The DAG files: they parse, are thin, and are wired the way docs/airflow.md says.

Every DAG is loaded with Airflow's own ``DagBag`` in a fresh interpreter (so
``sys.modules`` shows exactly what parsing imported) with a throw-away
``AIRFLOW_HOME``. The subprocess reports what it saw as JSON; the tests assert on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from taxonomy import airflow_tasks

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
HEAVY = ("torch", "sentence_transformers", "sklearn", "polars", "pyarrow", "numpy", "great_expectations", "taxonomy.pipeline")

PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError
from airflow.serialization.serialized_objects import DagSerialization

bag = DagBag(dag_folder=sys.argv[1])
heavy = sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)

def bad_values(dag):
    rejected = {}
    for key, values in {"label": ["../prod", "a/b", "", "x" * 65], "window_days": [0, 367, "7"],
                        "customers": [["../x"], "acme", ["a", "a"]], "config_path": [3]}.items():
        if key not in dag.params:
            continue
        for value in values:
            try:
                dag.params.get_param(key).resolve(value=value)
                rejected.setdefault(key, []).append(False)
            except ParamValidationError:
                rejected.setdefault(key, []).append(True)
    good = {"label": "exp-1.a_b", "window_days": 7, "customers": ["acme", "globex"], "config_path": "c.yaml"}
    accepted = {k: dag.params.get_param(k).resolve(value=v) == v for k, v in good.items() if k in dag.params}
    return rejected, accepted

out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "heavy": heavy, "dags": {}}
for dag_id, dag in bag.dags.items():
    DagSerialization.to_dict(dag)  # what the dag-processor stores: must not raise
    defaults = {k: dag.params.get_param(k).value for k in dag.params}
    rejected, accepted = bad_values(dag)  # (resolve(value=...) overwrites a Param's value)
    out["dags"][dag_id] = {
        "fileloc": dag.fileloc, "tags": sorted(dag.tags), "doc_md": dag.doc_md or "",
        "catchup": dag.catchup, "max_active_runs": dag.max_active_runs, "timetable": repr(dag.timetable),
        "schedule_assets": [a.uri for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", [])],
        "params": defaults,
        "params_rejected": rejected, "params_accepted": accepted,
        "tasks": {
            t.task_id: {
                "retries": t.retries, "backoff": t.retry_exponential_backoff,
                "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule), "outlets": sorted(o.uri for o in t.outlets),
                "mapped_group": t.get_closest_mapped_task_group() is not None,
                "upstream": sorted(t.upstream_task_ids),
            }
            for t in dag.tasks
        },
    }
print("PROBE-JSON" + json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Load dags/ with DagBag in a clean interpreter; return what it saw."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS), json.dumps(HEAVY)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PROBE-JSON"))
    return json.loads(line[len("PROBE-JSON"):])


def test_every_dag_file_parses_without_errors(parsed: dict) -> None:
    assert parsed["import_errors"] == {}
    assert set(parsed["dags"]) == {"support_taxonomy", "support_taxonomy_report"}


def test_dag_id_is_file_name_and_doc_is_module_docstring(parsed: dict) -> None:
    for dag_id, dag in parsed["dags"].items():
        assert Path(dag["fileloc"]).stem == dag_id
        assert dag_id in dag["doc_md"] and len(dag["doc_md"]) > 200


def test_parsing_imports_no_heavy_library(parsed: dict) -> None:
    # Parsing runs every few seconds in the dag-processor: torch or polars there would be a disaster.
    assert parsed["heavy"] == []


def test_tags_and_retries(parsed: dict) -> None:
    for dag in parsed["dags"].values():
        assert "taxonomy" in dag["tags"] and len(dag["tags"]) >= 2
        work = {k: t for k, t in dag["tasks"].items() if k != "check_customers"}
        assert work and all(t["retries"] >= 2 and t["backoff"] >= 2 for t in work.values()), work


def test_daily_dag_schedule_catchup_and_serial_runs(parsed: dict) -> None:
    dag = parsed["dags"]["support_taxonomy"]
    assert dag["catchup"] is True
    # Logical date = run time = as_of (a zero-length interval, Airflow 3's cron default).
    assert "CronTriggerTimetable" in dag["timetable"] and "interval=datetime.timedelta(0)" in dag["timetable"]
    # A run's window reads the days earlier runs enriched: runs of this DAG go one at a time.
    assert dag["max_active_runs"] == 1


def test_daily_dag_is_mapped_per_customer_then_publishes(parsed: dict) -> None:
    tasks = parsed["dags"]["support_taxonomy"]["tasks"]
    assert set(tasks) == {
        "discover", "customer.extract", "customer.ingest", "customer.enrich", "customer.analyse", "publish",
        "check_customers",
    }
    assert all(tasks[f"customer.{t}"]["mapped_group"] for t in ("extract", "ingest", "enrich", "analyse"))
    assert tasks["customer.extract"]["upstream"] == ["discover"]
    assert tasks["customer.ingest"]["upstream"] == ["customer.extract", "discover"]
    assert tasks["customer.enrich"]["upstream"] == ["customer.ingest", "discover"]
    assert tasks["customer.analyse"]["upstream"] == ["customer.enrich", "discover"]
    assert tasks["publish"]["upstream"] == ["customer.analyse"]
    # Publish the customers that made it even when others failed; then fail the run visibly.
    assert tasks["publish"]["trigger_rule"] == "all_done_min_one_success"
    assert tasks["check_customers"]["trigger_rule"] == "all_done"
    assert set(tasks["check_customers"]["upstream"]) == {"discover", "customer.analyse", "publish"}


def test_outputs_are_assets_and_report_dag_is_scheduled_on_scores(parsed: dict) -> None:
    outlets = parsed["dags"]["support_taxonomy"]["tasks"]["publish"]["outlets"]
    # Airflow normalises the URIs (a trailing "/" for an empty path).
    assert [o.rstrip("/") for o in outlets] == sorted(f"taxonomy://{d}" for d in ("conversations", "topics", "scores", "trends"))
    report = parsed["dags"]["support_taxonomy_report"]
    assert [a.rstrip("/") for a in report["schedule_assets"]] == ["taxonomy://scores"]
    assert set(report["tasks"]) == {"render_reports"}


def test_params_have_safe_defaults_and_are_validated(parsed: dict) -> None:
    dag = parsed["dags"]["support_taxonomy"]
    assert dag["params"] == {"customers": [], "window_days": None, "config_path": None, "label": None}
    assert all(all(v) for v in dag["params_rejected"].values()), dag["params_rejected"]
    assert set(dag["params_rejected"]) == {"label", "window_days", "customers", "config_path"}
    assert all(dag["params_accepted"].values()), dag["params_accepted"]


def test_dag_files_are_thin() -> None:
    for path in DAGS.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 130, path
        top_imports = [ln for ln in text.splitlines() if ln.startswith(("import ", "from "))]
        assert all(not ln.startswith(("from taxonomy", "import taxonomy")) for ln in top_imports), path


# -- the adapter between the Airflow context and the pipeline (no Airflow needed) ---------------
def _context(start: datetime | None, end: datetime | None, params: dict | None = None, run_after=None) -> dict:
    return {
        "data_interval_start": start, "data_interval_end": end, "params": params or {},
        "dag_run": SimpleNamespace(run_after=run_after),
    }


def test_interval_days_for_a_daily_interval() -> None:
    start = datetime(2026, 3, 1, 3, tzinfo=timezone.utc)
    days, as_of = airflow_tasks.interval_days(_context(start, start + timedelta(days=1)))
    assert days == (date(2026, 3, 1),) and as_of == date(2026, 3, 2)


def test_interval_days_for_a_manual_run_without_logical_date() -> None:
    ctx = _context(None, None, run_after=datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc))
    assert airflow_tasks.interval_days(ctx) == ((date(2026, 3, 4),), date(2026, 3, 5))


def test_interval_days_for_a_zero_length_interval_and_a_week() -> None:
    at = datetime(2026, 3, 5, tzinfo=timezone.utc)
    assert airflow_tasks.interval_days(_context(at, at)) == ((date(2026, 3, 4),), date(2026, 3, 5))
    days, as_of = airflow_tasks.interval_days(_context(at - timedelta(days=7), at))
    assert len(days) == 7 and days[0] == date(2026, 2, 26) and as_of == at.date()


def test_settings_from_params_variables_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(airflow_tasks.LANDING_ENV, "/env/landing")
    monkeypatch.setenv(airflow_tasks.OUTPUT_ENV, "/env/output")
    at = datetime(2026, 3, 5, tzinfo=timezone.utc)
    params = {"customers": ["acme"], "window_days": 7, "config_path": "c.yaml", "label": "exp"}
    variables = {airflow_tasks.OUTPUT_VARIABLE: "s3://bucket/out"}
    s = airflow_tasks.settings_from_context(_context(at - timedelta(days=1), at, params), variables.get)
    assert (s.landing_uri, s.output_uri) == ("/env/landing", "s3://bucket/out")
    assert s.customers == ("acme",) and s.window_days == 7 and s.label == "exp"
    assert s.options == {"label": "exp", "config_path": "c.yaml"} and s.as_of == date(2026, 3, 5)
    monkeypatch.delenv(airflow_tasks.LANDING_ENV)
    s = airflow_tasks.settings_from_context(_context(None, at, {}), {}.get)
    assert s.landing_uri == airflow_tasks.DEFAULT_LANDING_URI and s.customers is None and s.label is None


def test_check_task_fails_the_run_naming_failed_customers(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    from airflow.sdk.exceptions import AirflowFailException

    ok = [{"customer_id": "a", "analysis_uri": "/x"}, {"customer_id": "c", "analysis_uri": "/y"}]
    assert airflow_tasks.check_task(["a", "c"], ok, {"scores": ["/s"]}) == ["a", "c"]
    assert airflow_tasks.check_task([], [], None) == []
    # A group mapped over one customer hands over its single result, not a list.
    assert airflow_tasks.check_task(["a"], ok[0], {"scores": ["/s"]}) == ["a"]
    with pytest.raises(AirflowFailException, match="1 of 3 customers failed.*: b;"):
        airflow_tasks.check_task(["a", "b", "c"], ok + [None], {"scores": ["/s"]})
    with pytest.raises(AirflowFailException, match="publish failed"):
        airflow_tasks.check_task(["a", "c"], ok, None)
    with pytest.raises(AirflowFailException, match="discover failed"):
        airflow_tasks.check_task(None, None, None)


def test_days_to_ingest_catches_up_the_window_once(tmp_path: Path) -> None:
    from taxonomy.storage import PART_FILE, Store

    landing, output = tmp_path / "landing", tmp_path / "output"
    for day in ("2026-02-01", "2026-02-20", "2026-03-03", "2026-03-04", "2026-03-05", "not-a-date"):
        (landing / "acme" / day).mkdir(parents=True)
        (landing / "acme" / day / "x.csv").write_text("customer_id\n")
    (landing / "acme" / "2026-03-02").mkdir()  # empty folder: nothing landed
    at = datetime(2026, 3, 5, tzinfo=timezone.utc)
    ctx = _context(at, at, {"window_days": 14})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(airflow_tasks.LANDING_ENV, str(landing))
        mp.setenv(airflow_tasks.OUTPUT_ENV, str(output))
        s = airflow_tasks.settings_from_context(ctx, {}.get)
    # Window [02-19, 03-05): 02-01 is too old, 03-05 is as_of itself (tomorrow's run).
    assert airflow_tasks.days_to_ingest(s, "acme") == [date(2026, 2, 20), date(2026, 3, 3), date(2026, 3, 4)]
    store = Store(str(output))
    for day in (date(2026, 2, 20), date(2026, 3, 3), date(2026, 3, 4)):
        folder = store.partition("conversations_raw", customer_id="acme", date=day)
        Path(folder).mkdir(parents=True)
        (Path(folder) / PART_FILE).write_bytes(b"x")
    # Once ingested, only the run's own day (the day before as_of) is ingested again.
    assert airflow_tasks.days_to_ingest(s, "acme") == [date(2026, 3, 4)]
    # A labelled run has its own namespace: it catches up the whole window there.
    labelled = airflow_tasks.RunSettings(**{**s.__dict__, "label": "exp"})
    assert len(airflow_tasks.days_to_ingest(labelled, "acme")) == 3
    assert airflow_tasks.days_to_ingest(s, "globex") == []


def test_a_retried_ingest_leaves_no_ingested_day_unenriched(monkeypatch, tmp_path: Path) -> None:
    """A try of ``ingest`` SIGKILLed after writing some days: its retry returns only the rest, and
    ``enrich`` must still enrich the whole window (CI caught the Airflow run analysing a window with
    those days missing, so its outputs differed from a clean ``taxonomy run``)."""
    from taxonomy.pipeline import ingest_customer
    from tests.test_pipeline import AS_OF, write_landing

    landing, output, config = tmp_path / "landing", tmp_path / "output", tmp_path / "c.yaml"
    write_landing(landing, {"acme": 6}, days=5)
    config.write_text("embedding_backend: hashing\nwindow_days: 7\n")
    monkeypatch.setenv(airflow_tasks.LANDING_ENV, str(landing))
    monkeypatch.setenv(airflow_tasks.OUTPUT_ENV, str(output))
    monkeypatch.setattr(airflow_tasks, "_airflow_variable", lambda key: None)
    at = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=timezone.utc)
    ctx = _context(at - timedelta(days=1), at, {"config_path": str(config)})
    window = [AS_OF - timedelta(days=k) for k in range(5, 0, -1)]
    for day in window[:2]:  # what the killed try wrote
        ingest_customer(str(landing), str(output), "acme", day, config_path=str(config))
    retried = airflow_tasks.ingest_task(ctx, "acme")
    assert sorted(retried) == [d.isoformat() for d in window[2:]]
    enriched = airflow_tasks.enrich_task(ctx, "acme", retried)
    assert sorted(enriched) == [d.isoformat() for d in window]
    assert all((Path(uri) / "part-0.parquet").exists() for uri in enriched.values())
    # A day already enriched and unchanged is not rewritten by the next run's enrich.
    before = {uri: (Path(uri) / "part-0.parquet").stat().st_mtime_ns for uri in enriched.values()}
    again = airflow_tasks.enrich_task(ctx, "acme", {})
    assert {uri: (Path(uri) / "part-0.parquet").stat().st_mtime_ns for uri in again.values()} == before


def test_report_task_renders_what_each_asset_event_names(monkeypatch, tmp_path) -> None:
    import taxonomy.report

    calls = []
    monkeypatch.setattr(
        taxonomy.report, "render_reports",
        lambda root, as_of=None, customers=None, label=None: calls.append((root, as_of, label)) or [f"{root}/x.html"],
    )
    scores = object()
    events = [SimpleNamespace(extra={"output_uri": "s3://b/out", "as_of": "2026-03-05", "label": None}),
              SimpleNamespace(extra={"output_uri": "s3://b/out", "as_of": "2026-03-05", "label": None}),
              SimpleNamespace(extra={"output_uri": "s3://b/out", "as_of": "2026-03-04", "label": "exp"})]
    paths = airflow_tasks.report_task({"triggering_asset_events": {scores: events}}, scores)
    # Duplicate events render once; each (root, as_of, label) gets its own pages.
    assert calls == [("s3://b/out", date(2026, 3, 5), None), ("s3://b/out", date(2026, 3, 4), "exp")]
    assert paths == ["s3://b/out/x.html", "s3://b/out/x.html"]
    calls.clear()
    monkeypatch.setenv(airflow_tasks.OUTPUT_ENV, str(tmp_path))
    monkeypatch.setattr(airflow_tasks, "_airflow_variable", lambda key: None)
    airflow_tasks.report_task({}, scores)  # triggered by hand: latest as_of, configured root
    assert calls == [(str(tmp_path), None, None)]
