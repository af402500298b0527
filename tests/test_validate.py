"""Great Expectations suites in expectations/ and taxonomy.validate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from taxonomy.errors import TaxonomyError
from taxonomy.schema import CONVERSATION, CONVERSATIONS_OUT, DATASETS, QUARANTINE, SCORES_OUT, conform, empty
from taxonomy.validate import load_suite_json, require_valid, suites_dir, validate_frame


def _conversations(n: int = 5, **overrides: list) -> pl.DataFrame:
    data = {
        "customer_id": ["acme"] * n,
        "conversation_id": [f"c{i}" for i in range(n)],
        "created_at": [datetime(2024, 1, 9, 10, i, tzinfo=UTC) for i in range(n)],
        "text": [f"question {i}" for i in range(n)],
        "handle_time_seconds": [60.0 * (i + 1) for i in range(n)],
        "source_file": ["x.csv"] * n,
        "source_row": list(range(1, n + 1)),
    }
    data.update(overrides)
    return conform(pl.DataFrame(data), CONVERSATION)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_every_dataset_has_a_stored_suite_that_names_real_columns(dataset: str) -> None:
    suite = load_suite_json(dataset)
    assert (suites_dir() / f"{dataset}.json").exists() and suite["name"] == dataset and suite["expectations"]
    for exp in suite["expectations"]:
        cols = [exp["kwargs"].get("column"), *exp["kwargs"].get("column_list", [])]
        assert all(c in DATASETS[dataset] for c in cols if c), (dataset, exp)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_empty_batch_of_the_right_schema_passes(dataset: str) -> None:
    assert validate_frame(empty(DATASETS[dataset]), dataset).success


def test_good_batch_passes() -> None:
    result = validate_frame(_conversations(), "conversations_raw")
    assert result.success and result.evaluated >= 10 and not result.failures


@pytest.mark.parametrize(
    ("overrides", "column", "expectation"),
    [
        ({"handle_time_seconds": [-1.0, 1, 2, 3, 4]}, "handle_time_seconds", "expect_column_values_to_be_between"),
        ({"customer_id": ["acme", "../x", "acme", "acme", "acme"]}, "customer_id", "expect_column_values_to_match_regex"),
        ({"text": ["a", None, "b", "c", "d"]}, "text", "expect_column_values_to_not_be_null"),
    ],
)
def test_failing_expectation_is_named(overrides: dict, column: str, expectation: str) -> None:
    df = _conversations(**overrides)
    result = validate_frame(df, "conversations_raw")
    assert not result.success
    assert any(f.column == column and f.expectation == expectation for f in result.failures), result.failures
    with pytest.raises(TaxonomyError) as err:
        require_valid(df, "conversations_raw", file="out/part-0.parquet")
    assert "out/part-0.parquet" in str(err.value) and "conversations_raw" in str(err.value)


def test_failure_messages_carry_no_row_values() -> None:
    df = _conversations(text=["secret-marker-123", None, "b", "c", "d"], handle_time_seconds=[-7.0, 1, 2, 3, 4])
    result = validate_frame(df, "conversations_raw")
    assert "secret-marker-123" not in repr(result.failures) and "-7" not in repr(result.failures)


def test_published_conversations_must_be_unique() -> None:
    df = conform(_conversations(conversation_id=["c", "c", "d", "e", "f"]), CONVERSATIONS_OUT)
    failures = validate_frame(df.with_columns(pl.lit("informational").alias("tier")), "conversations").failures
    assert [(f.expectation, f.column) for f in failures] == [("expect_compound_columns_to_be_unique", "customer_id,conversation_id")]


def test_parameters_come_from_config() -> None:
    df = _conversations(handle_time_seconds=[100_000.0, 1, 2, 3, 4])
    assert not validate_frame(df, "conversations_raw").success
    assert validate_frame(df, "conversations_raw", parameters={"max_handle_time_seconds": 200_000}).success


def test_schema_mismatch_is_reported_before_gx() -> None:
    df = _conversations().drop("text")
    result = validate_frame(df, "conversations_raw")
    assert [(f.expectation, f.column) for f in result.failures] == [("schema", "text")]
    wrong = _conversations().with_columns(pl.col("source_row").cast(pl.Int32))
    assert validate_frame(wrong, "conversations_raw").failures[0].column == "source_row"


def test_quarantine_and_scores_suites_run() -> None:
    q = conform(pl.DataFrame({"source_file": ["f"], "source_row": [1], "field": ["text"], "reason": ["missing"],
                              "record": ["{}"], "ingested_at": [datetime(2024, 1, 1, tzinfo=UTC)]}), QUARANTINE)
    assert validate_frame(q, "quarantine").success
    scores = conform(pl.DataFrame({"customer_id": ["acme"], "automation_potential": [1.5]}), SCORES_OUT)
    failed = {f.column for f in validate_frame(scores, "scores").failures}
    assert "automation_potential" in failed and "as_of" in failed


def test_suites_dir_override_and_missing_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXONOMY_EXPECTATIONS_DIR", str(tmp_path))
    with pytest.raises(TaxonomyError, match="not found"):
        load_suite_json("trends")
    (tmp_path / "trends.json").write_text("{not json")
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        load_suite_json("trends")
    (tmp_path / "trends.json").write_text(json.dumps({"name": "trends", "expectations": []}))
    assert load_suite_json("trends")["expectations"] == []
    with pytest.raises(TaxonomyError, match="unknown dataset"):
        load_suite_json("nope")
