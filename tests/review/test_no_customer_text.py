"""Learning from reviews never puts a customer's text or words into the shared tier model."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from taxonomy.cli import main
from taxonomy.config import Config
from taxonomy.embed import HashingEmbedder
from taxonomy.pipeline import run
from taxonomy.tiers import train_and_save
from tests.test_pipeline import AS_OF, write_landing
from tests.tiers.test_tiers import small_training_set  # noqa: F401 - fixture

MARKER = "zqxmarker7731 confidential-acme-phrase"


def _review_all(out: Path, customer: str, tmp_path: Path, tier: str) -> None:
    sheet = tmp_path / f"{customer}.csv"
    assert main(["review", "--output", str(out), "--customer", customer, "--sheet", str(sheet)]) == 0
    rows = list(csv.DictReader(open(sheet, newline="", encoding="utf-8-sig")))
    for r in rows:
        r["tier"] = tier
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["review", "--output", str(out), "--customer", customer, "--apply", str(sheet)]) == 0


def test_reviews_train_the_model_through_embeddings_only(tmp_path: Path, small_training_set: Path) -> None:  # noqa: F811
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 12, "beta": 12}, days=8)
    for path in (landing / "acme").rglob("*.csv"):  # every acme message carries the marker
        rows = list(csv.DictReader(open(path, newline="")))
        for r in rows:
            r["text"] = f"{r['text']} {MARKER}"
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7, workers=1)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert any(MARKER.split()[0] in (t or "") for t in __import__("polars").read_parquet(
        out / "conversations" / f"as_of={AS_OF}" / "customer_id=acme" / "part-0.parquet")["text"])
    _review_all(out, "acme", tmp_path, "action_led")
    _review_all(out, "beta", tmp_path, "personalized")
    for path in (out / "review_messages").rglob("*.parquet"):
        assert MARKER.split()[0].encode() not in path.read_bytes()  # the labelled store holds no text

    embed = HashingEmbedder().encode
    plain = Path(train_and_save("plain", str(small_training_set), embed=embed, evaluate=False))
    learned = Path(train_and_save("learned", str(small_training_set), embed=embed, evaluate=False, reviews_uri=str(out)))
    for path in learned.iterdir():
        data = path.read_bytes()
        for secret in ("zqxmarker7731", "confidential", "acme", "beta"):
            assert secret.encode() not in data, (secret, path.name)
    # The n-gram vocabulary is the public corpus's alone: identical with and without the reviews.
    assert (learned / "vocabulary.json").read_bytes() == (plain / "vocabulary.json").read_bytes()
    assert (learned / "weights.npz").read_bytes() != (plain / "weights.npz").read_bytes()  # the reviews did count
    metrics = json.loads((learned / "metrics.json").read_text())
    loco = metrics["leave_one_customer_out"]
    assert set(loco["customers"]) == {"customer-1", "customer-2"}
    assert loco["pooled"]["with_other_customers_reviews"]["n"] > 0
    assert sum(metrics["rows"]["reviewed"].values()) > 0  # rows per source and tier (tier-clf-v3 on)
