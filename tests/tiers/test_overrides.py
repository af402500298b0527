"""Per-customer tier overrides: loading, validation and application."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from taxonomy.errors import TaxonomyError
from taxonomy.tiers import Overrides, OverrideRule, apply_overrides, load_overrides
from taxonomy.schema import TIERS


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "text": ["Where is my order 123?", "how do I reset my password", "cancel my plan", None],
            "topic_id": ["t-1", "t-2", "t-3", "t-2"],
            "tier": ["personalized", "informational", "action_led", None],
            "tier_confidence": [0.7, 0.9, 0.8, None],
            "p_informational": [0.2, 0.9, 0.1, None],
            "p_personalized": [0.7, 0.05, 0.1, None],
            "p_action_led": [0.1, 0.05, 0.8, None],
            "tier_source": ["model"] * 4,
            "model_version": ["m"] * 4,
        }
    )


def _write(tmp_path: Path, body: str, customer: str = "acme") -> str:
    (tmp_path / f"{customer}.yaml").write_text(body, encoding="utf-8")
    return str(tmp_path)


def test_pattern_and_topic_rules_pin_tiers_first_match_wins(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        "customer_id: acme\nrules:\n"
        "  - pattern: '(?i)where is my order'\n    tier: action_led\n    note: tracking needs a re-ship\n"
        "  - topic_id: t-2\n    tier: personalized\n"
        "  - pattern: 'order'\n    tier: informational\n",
    )
    ov = load_overrides("acme", folder)
    assert len(ov.rules) == 3
    out = apply_overrides(_frame(), ov)
    assert out["tier"].to_list() == ["action_led", "personalized", "action_led", "personalized"]
    assert out["tier_source"].to_list() == ["override", "override", "model", "override"]
    assert out["tier_confidence"].to_list() == [1.0, 1.0, 0.8, 1.0]
    assert out.row(0, named=True)["p_action_led"] == 1.0 and out.row(0, named=True)["p_personalized"] == 0.0
    pinned = out.filter(pl.col("tier_source") == "override")
    sums = pinned.select(pl.sum_horizontal([f"p_{t}" for t in TIERS])).to_series().to_list()
    assert sums == [1.0, 1.0, 1.0]
    # the model's untouched row keeps its numbers exactly
    assert out.row(2) == _frame().row(2)


def test_topic_rule_without_topic_column_matches_nothing() -> None:
    ov = Overrides("acme", (OverrideRule("informational", topic_id="t-1"),))
    out = apply_overrides(_frame().drop("topic_id"), ov)
    assert out["tier_source"].to_list() == ["model"] * 4


def test_no_file_or_no_dir_means_no_overrides(tmp_path: Path) -> None:
    assert not load_overrides("acme", None)
    assert not load_overrides("acme", str(tmp_path))
    frame = _frame()
    assert apply_overrides(frame, load_overrides("acme", str(tmp_path))).equals(frame)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("rules:\n  - pattern: 'x'\n    tier: automated\n", "rules[0].tier"),
        ("rules:\n  - pattern: '(unclosed'\n    tier: action_led\n", "rules[0].pattern"),
        ("rules:\n  - pattern: 'x'\n    topic_id: t-1\n    tier: action_led\n", "rules[0]"),
        ("rules:\n  - tier: action_led\n", "rules[0]"),
        ("rules:\n  - pattern: 'x'\n    tier: action_led\n    colour: red\n", "rules[0].colour"),
        ("rules:\n  - pattern: 'ok'\n    tier: informational\n  - 'just a string'\n", "rules[1]"),
        ("customer_id: globex\nrules: []\n", "customer_id"),
        ("rules: {pattern: x}\n", "rules"),
        ("rulez: []\n", "rulez"),
    ],
)
def test_invalid_files_name_file_and_field(tmp_path: Path, body: str, field: str) -> None:
    folder = _write(tmp_path, body)
    with pytest.raises(TaxonomyError) as err:
        load_overrides("acme", folder)
    assert err.value.field == field
    assert err.value.file.endswith("acme.yaml")
    assert "acme.yaml" in str(err.value)


def test_bad_yaml_and_bad_customer_id(tmp_path: Path) -> None:
    folder = _write(tmp_path, "rules: [unclosed\n")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_overrides("acme", folder)
    with pytest.raises(TaxonomyError):
        load_overrides("../etc", str(tmp_path))
