"""The scale benchmark still runs end to end against today's package (it had rotted once: it patched
an embedder factory that had moved). Tiny queue, hashing embedder: this checks the wiring, not speed."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.pipeline_scale import growth, one_size, to_markdown


def test_pipeline_scale_runs_cold_and_rerun(tmp_path: Path) -> None:
    args = argparse.Namespace(customers=2, days=3, seed=7, backend="hashing")
    record = one_size(120, args, tmp_path)
    cold, rerun = record["cold"], record["rerun"]
    assert cold["customers"] == 2 and cold["failed"] == 0
    assert cold["texts_embedded"] > 0 and cold["embed_seconds"] > 0  # the timing wrapper saw the embedder
    assert rerun["texts_embedded"] < cold["texts_embedded"]  # a re-run reuses the stored embeddings
    assert set(cold["stage_seconds"]) >= {"ingest", "enrich", "analyse", "publish"}
    page = to_markdown({"machine": {"date_utc": "-", "cpu": "-", "usable_cores": 2, "python": "-", "versions": {}},
                        "settings": {}, "targets": {}, "sizes": [record], "growth": growth([record])})
    assert "| 120 |" in page
