"""Reviews stick: through a re-run, a window moved on by 7 days and a backfill of the days before it
(Banking77 training split, CC BY 4.0, as one customer's queue over 42 days)."""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.config import Config
from taxonomy.pipeline import run
from taxonomy.tiers.train import shared_data_dir

AS_OF = date(2026, 3, 1)
DAYS = 42
ROWS = 2400


def _landing(root: Path) -> dict[str, str]:
    bank = pl.read_csv(shared_data_dir() / "banking77" / "train_tiers.csv").sample(n=ROWS, seed=14, shuffle=True)
    gold = {}
    start = AS_OF + timedelta(days=7) - timedelta(days=DAYS)
    for d in range(DAYS):
        day = start + timedelta(days=d)
        (root / "bank" / day.isoformat()).mkdir(parents=True)
        with open(root / "bank" / day.isoformat() / "export.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["conversation_id", "created_at", "text", "handle_time_seconds"])
            for i in range(d, ROWS, DAYS):
                ts = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(seconds=i)
                minutes = {"informational": 5, "personalized": 10, "action_led": 25}[bank["tier"][i]]
                w.writerow([f"b{i:05d}", ts.isoformat(), bank["text"][i], minutes * 60 + i % 60])
                gold[f"b{i:05d}"] = bank["tier"][i]
    return gold


def _kept(out: Path, as_of: date, reviewed: dict[str, str]) -> tuple[float, float]:
    """Share of the reviewed hours still in the window that keep their reviewed tier, and those hours."""
    conv = pl.read_parquet(out / "conversations" / f"as_of={as_of}" / "customer_id=bank" / "part-0.parquet")
    conv = conv.filter(pl.col("conversation_id").is_in(list(reviewed)))
    want = pl.Series([reviewed[c] for c in conv["conversation_id"].to_list()])
    ok = (conv["tier"] == want) & (conv["tier_source"] == "review")
    hours = float(conv["handle_time_seconds"].sum())
    return float(conv["handle_time_seconds"].filter(ok).sum()) / hours, hours


@pytest.mark.slow
def test_reviewed_tier_sticks_through_rerun_new_days_and_backfill(tmp_path: Path) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    gold = _landing(landing)
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=28, workers=1)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    sheet = tmp_path / "sheet.csv"
    assert main(["review", "--output", str(out), "--customer", "bank", "--as-of", str(AS_OF), "--sheet", str(sheet)]) == 0
    rows = list(csv.DictReader(open(sheet, newline="", encoding="utf-8-sig")))
    analysis = pl.read_parquet(out / "analysis" / f"as_of={AS_OF}" / "customer_id=bank" / "part-0.parquet")
    reviewed: dict[str, str] = {}
    for r in rows:
        if float(r["cumulative_hours_share"]) - float(r["hours_share"]) >= 0.8:
            break
        members = analysis.filter(pl.col("topic_id") == r["topic_id"])["conversation_id"].to_list()
        tiers = [gold[c] for c in members]
        r["tier"] = max(set(tiers), key=tiers.count)  # the reviewer's answer: the topic's gold majority
        reviewed.update({c: r["tier"] for c in members})
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["review", "--output", str(out), "--customer", "bank", "--apply", str(sheet)]) == 0

    for as_of in (AS_OF, AS_OF, AS_OF + timedelta(days=7), AS_OF - timedelta(days=7)):  # run, re-run, new days, backfill
        run(str(landing), str(out), as_of=as_of, config=cfg, progress=False)
        kept, hours = _kept(out, as_of, reviewed)
        assert hours > 0 and kept >= 0.95, (as_of, kept)
    scores = pl.read_parquet(out / "scores" / f"as_of={AS_OF + timedelta(days=7)}" / "customer_id=bank" / "part-0.parquet")
    assert scores["reviews_unmatched"][0] == 0
    # New conversations of the window moved on follow their reviewed topics too.
    later = pl.read_parquet(out / "conversations" / f"as_of={AS_OF + timedelta(days=7)}" / "customer_id=bank" / "part-0.parquet")
    new = later.filter(~pl.col("conversation_id").is_in(list(analysis["conversation_id"])))
    assert (new["tier_source"] == "review").mean() > 0.3  # (the hashing stand-in embedder matches topics loosely)
