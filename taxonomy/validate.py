"""Great Expectations (GX Core 1.x) checks for every dataset we read or write.

Each dataset in :data:`taxonomy.schema.DATASETS` has a suite stored as JSON in
``expectations/<dataset>.json`` (override the folder with
``TAXONOMY_EXPECTATIONS_DIR``). A batch is checked in two steps:

1. its schema (column names, order and types) against ``schema.DATASETS``;
2. the suite's expectations, run by GX on a pandas copy of the columns the suite
   mentions (so an embedding column is never converted when no expectation
   needs it).

Suites may use ``{"$PARAMETER": "name"}`` for limits that come from the run's
configuration (``max_handle_time_seconds``, ``max_text_chars``).

GX is imported lazily (it takes seconds) and one ephemeral context is reused,
so the per-batch cost is the validation itself (tens of milliseconds).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.schema import DATASETS

SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"
_GX: dict[str, Any] = {}
_SUITES: dict[str, tuple[dict[str, Any], Any]] = {}


@dataclass
class Failure:
    """One failed expectation: its type, the column(s) and what went wrong (no row values)."""

    expectation: str
    column: str | None
    detail: str


@dataclass
class ValidationResult:
    """Outcome of validating one batch."""

    dataset: str
    rows: int
    success: bool
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    evaluated: int = 0
    file: str | None = None


def suites_dir() -> Path:
    """Where the suites live (``TAXONOMY_EXPECTATIONS_DIR`` or the project's ``expectations/``)."""
    return Path(os.environ.get("TAXONOMY_EXPECTATIONS_DIR") or SUITES_DIR)


def load_suite_json(dataset: str) -> dict[str, Any]:
    """The stored suite for ``dataset`` as a dict.

    Raises:
        TaxonomyError: unknown dataset, missing or unreadable suite file.
    """
    if dataset not in DATASETS:
        raise TaxonomyError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    path = suites_dir() / f"{dataset}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError("expectation suite not found", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"expectation suite is not valid JSON ({exc.msg}, line {exc.lineno})", file=str(path)) from None


def default_parameters() -> dict[str, Any]:
    """Suite parameters from the default configuration."""
    from taxonomy.config import Config

    cfg = Config()
    return {"max_handle_time_seconds": cfg.ingest.max_handle_time_seconds, "max_text_chars": cfg.ingest.max_text_chars}


def _gx() -> dict[str, Any]:
    """The lazily created GX context, pandas datasource and whole-dataframe batch definition."""
    if not _GX:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # never phone home
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas(name="taxonomy").add_dataframe_asset(name="batch")
        _GX.update(gx=gx, context=context, batch_definition=asset.add_batch_definition_whole_dataframe("whole"))
    return _GX


def _suite(dataset: str) -> tuple[dict[str, Any], Any]:
    if dataset not in _SUITES:
        data = load_suite_json(dataset)
        from great_expectations.core.expectation_suite import ExpectationSuite

        try:
            suite = ExpectationSuite(name=data.get("name", dataset), expectations=data.get("expectations", []), meta=data.get("meta") or {})
        except Exception as exc:  # noqa: BLE001 - GX raises many types for a malformed suite
            raise TaxonomyError(f"expectation suite is malformed ({exc})", file=str(suites_dir() / f"{dataset}.json")) from None
        _SUITES[dataset] = (data, suite)
    return _SUITES[dataset]


def _columns(data: dict[str, Any]) -> list[str]:
    cols: list[str] = []
    for exp in data.get("expectations", []):
        kwargs = exp.get("kwargs", {})
        for col in [kwargs.get("column"), *kwargs.get("column_list", [])]:
            if col and col not in cols:
                cols.append(col)
    return cols


def _schema_failures(df: pl.DataFrame, dataset: str) -> list[Failure]:
    expected = DATASETS[dataset]
    failures = [Failure("schema", c, "missing column") for c in expected if c not in df.columns]
    failures += [Failure("schema", c, "unexpected column") for c in df.columns if c not in expected]
    for name, dtype in expected.items():
        if name in df.columns and df.schema[name] != dtype:
            failures.append(Failure("schema", name, f"type {df.schema[name]}, expected {dtype}"))
    if not failures and list(df.columns) != list(expected):
        failures.append(Failure("schema", None, "columns out of order"))
    return failures


def validate_frame(
    df: pl.DataFrame, dataset: str, *, file: str | None = None, parameters: dict[str, Any] | None = None
) -> ValidationResult:
    """Check ``df`` against ``dataset``'s schema and its GX suite ``expectations/<dataset>.json``.

    Args:
        df: The batch.
        dataset: A key of ``schema.DATASETS``.
        file: The file or partition the batch is for; carried into the result.
        parameters: Values for the suite's ``$PARAMETER`` placeholders (default: the default config's).

    Returns:
        The result; ``failures`` never contains row values (they may carry PII).
    """
    t0 = time.perf_counter()
    data, suite = _suite(dataset)
    failures = _schema_failures(df, dataset)
    evaluated = 0
    if not failures and df.height:
        pdf = df.select([c for c in _columns(data) if c in df.columns]).to_pandas()
        batch = _gx()["batch_definition"].get_batch(batch_parameters={"dataframe": pdf})
        params = {**default_parameters(), **(parameters or {})}
        result = batch.validate(suite, expectation_parameters=params)
        evaluated = len(result.results)
        for res in result.results:
            if not res.success:
                failures.append(_failure(res))
    return ValidationResult(dataset, df.height, not failures, failures, time.perf_counter() - t0, evaluated, file)


def _failure(res: Any) -> Failure:
    cfg = res.expectation_config
    kwargs = cfg.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
    info = res.result or {}
    if res.exception_info and res.exception_info.get("raised_exception"):
        detail = f"could not be evaluated: {str(res.exception_info.get('exception_message'))[:200]}"
    elif "unexpected_count" in info:
        detail = f"{info['unexpected_count']} of {info.get('element_count')} values unexpected"
    else:
        detail = "failed"
    return Failure(cfg.type, column, detail)


def require_valid(
    df: pl.DataFrame, dataset: str, *, file: str | None = None, parameters: dict[str, Any] | None = None
) -> None:
    """Validate and raise on the first failure.

    Raises:
        TaxonomyError: naming the dataset, the failing expectation and column, and ``file``.
    """
    result = validate_frame(df, dataset, file=file, parameters=parameters)
    if not result.success:
        first = result.failures[0]
        more = f" (and {len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
        raise TaxonomyError(
            f"{dataset} batch fails expectation {first.expectation}: {first.detail}{more}",
            file=file,
            field=first.column,
        )
