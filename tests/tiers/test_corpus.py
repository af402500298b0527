"""The tier corpus: reviewed mappings, pinned licensed sources, and (where built) the corpus itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from taxonomy.schema import TIERS
from taxonomy.tiers.corpus import COLUMNS, MISSING_REASON, corpus_available, corpus_sha256, load_corpus, load_evaluation_corpus
from taxonomy.tiers.train import DEFAULT_MODELS_DIR

CORPUS = DEFAULT_MODELS_DIR / "tier-corpus"
SOURCES = yaml.safe_load((CORPUS / "sources.yaml").read_text(encoding="utf-8"))["sources"]
RESERVED = re.compile(r"clinc|oos-eval|bitext|dstc11", re.IGNORECASE)
needs_corpus = pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_source_is_pinned_licensed_and_mapped(name: str) -> None:
    spec = SOURCES[name]
    assert re.fullmatch(r"[0-9a-f]{40}", spec["commit"]) and spec["licence"] and spec["attribution"]
    assert not RESERVED.search(spec["repo"])  # reserved evaluation sets are never read
    manifest = json.loads((CORPUS / "pins" / f"{name}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] > 0 and re.fullmatch(r"[0-9a-f]{64}", manifest["manifest_sha256"])
    mapping = yaml.safe_load((CORPUS / "mappings" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert mapping["source"] == name
    entries = mapping["intents"] if "intents" in mapping else {r["name"]: r for r in mapping["rules"]}  # NLU++: label-set rules
    for intent, entry in entries.items():
        assert entry["tier"] in (*TIERS, "ambiguous"), intent
        assert len(entry["reason"]) >= 5, intent  # every decision carries its one-line reason


def test_committed_counts_cover_every_source_and_industry_count() -> None:
    counts = json.loads((CORPUS / "counts.json").read_text(encoding="utf-8"))
    assert set(counts["per_source"]) == set(SOURCES) and len(SOURCES) >= 6
    assert len(counts["per_industry"]) >= 10
    assert counts["rows"] == sum(sum(v.values()) for v in counts["per_source"].values())


@needs_corpus
def test_built_corpus_matches_the_committed_counts() -> None:
    frame, evaluation = load_corpus(), load_evaluation_corpus()
    assert tuple(frame.columns) == COLUMNS == tuple(evaluation.columns)
    counts = json.loads((CORPUS / "counts.json").read_text(encoding="utf-8"))
    held = sorted(n for n, spec in SOURCES.items() if spec.get("train", True) is False)
    built = sorted(evaluation["source"].unique().to_list())
    assert counts.get("evaluation_only", []) == held == built, f"corpus built before {held} were added: run models/tier-corpus/build.py"
    assert not set(frame["source"].unique().to_list()) & set(held)  # no model trains on an evaluation-only source
    frame = pl.concat([frame, evaluation])
    got = {s: {t: 0 for t in TIERS} for s in SOURCES}
    for row in frame.group_by("source", "tier").len().iter_rows(named=True):
        got[row["source"]][row["tier"]] = row["len"]
    assert got == counts["per_source"]
    pattern = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}:.+#.+")
    assert all(pattern.fullmatch(p) for p in frame["provenance"].to_list())
    assert frame.select(pl.col("provenance").is_duplicated().any()).item() is False
    assert not any(RESERVED.search(p.split("@")[0]) for p in frame["provenance"].unique().to_list())


@needs_corpus
def test_shipped_model_was_trained_on_this_corpus() -> None:
    from taxonomy.tiers import MODEL_NAME, current_version

    config = json.loads((DEFAULT_MODELS_DIR / MODEL_NAME / current_version() / "config.json").read_text(encoding="utf-8"))
    assert config["training_data"]["tier-corpus/corpus.parquet"] == corpus_sha256()  # so train-tiers rebuilds it exactly


def test_message_labels_are_hashes_and_tiers_only() -> None:
    """models/tier-labels/row_labels.csv: a tier (or N, no request) per training message, keyed by a
    16-hex text hash; no text, and no row of a reserved evaluation set."""
    from taxonomy.tiers.corpus import MESSAGE_LABELS, load_message_labels

    frame = pl.read_csv(MESSAGE_LABELS, schema_overrides={"text_sha256": pl.String})
    assert frame.columns == ["source", "intent", "text_sha256", "tier"] and frame.height == len(load_message_labels())
    assert frame["text_sha256"].str.contains(r"^[0-9a-f]{16}$").all() and set(frame["tier"].unique()) <= set("IPAN")
    assert set(frame["source"].unique()) == {"banking77", "hint3", "hwu64", "multidogo", "nlupp", "sgd", "snips", "star"}
    assert not any(RESERVED.search(s) for s in frame["source"].unique().to_list())


@needs_corpus
def test_message_labels_reach_only_corpus_rows_to_fit_and_never_the_scored_tiers() -> None:
    from taxonomy.tiers.train import load_training_data

    plain, data = load_training_data(), load_training_data(message_labels=True)
    assert (data.tiers == plain.tiers).all() and plain.fit_tiers is None  # what every figure is scored against
    moved = data.fit_tiers != data.tiers
    assert 0 < moved.sum() < 0.05 * len(moved) and set(data.kinds[moved].tolist()) == {"corpus"}  # Banking77, seed keep theirs
    assert data.files["tier-labels/row_labels.csv"]


def test_corpus_text_stays_out_of_git() -> None:
    tracked = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert not any(p.suffix in {".parquet", ".csv", ".jsonl"} for p in tracked)
    assert all(p.stat().st_size < 200_000 for p in tracked)  # pins and counts, not rows
