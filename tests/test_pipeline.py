"""End to end through the pipeline's stages on small landing folders (test embedder, real tier head)."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.config import Config
from taxonomy.pipeline import discover_customers, run, window_bounds
from taxonomy.publish import show
from taxonomy.storage import Store

AS_OF = date(2026, 3, 1)
TEXTS = {
    "informational": ["how do I reset my password", "what are your opening hours", "do you ship to canada"],
    "personalized": ["where is my order 5521", "why is my transfer still pending", "my refund is not showing"],
    "action_led": ["cancel my subscription now", "my card was stolen please block it", "refund my damaged order"],
}
MINUTES = {"informational": 5, "personalized": 10, "action_led": 30}


def write_landing(root: Path, customers: dict[str, int], days: int = 10, marker: str | None = None) -> None:
    """Write canonical CSV exports: ``customers`` maps id -> conversations per day."""
    for cid, per_day in customers.items():
        for d in range(days):
            day = AS_OF - timedelta(days=days - d)
            folder = root / cid / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "export.csv", "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["conversation_id", "created_at", "text", "handle_time_seconds", "automated"])
                for i in range(per_day):
                    tier = list(TEXTS)[i % 3]
                    text = TEXTS[tier][(i // 3 + d) % 3]
                    if marker and d == 0 and i == 0:
                        text = f"{text} {marker}"
                    ts = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc) + timedelta(minutes=i)
                    w.writerow([f"{cid}-{d}-{i}", ts.isoformat(), text, MINUTES[tier] * 60, str(i % 2 == 0).lower()])


@pytest.fixture()
def cfg() -> Config:
    return dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
        if "quarantine" not in p.parts  # quarantine records carry their ingestion time
        and not p.name.startswith(".")
    }


def test_run_publishes_every_dataset_and_is_idempotent(tmp_path: Path, cfg: Config) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 12, "globex": 9}, days=10)
    result = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert result.customers == ["acme", "globex"] and not result.failed
    store = Store(str(out))
    for name in ("conversations", "topics", "scores", "trends"):
        for cid in ("acme", "globex"):
            assert store.read_partition(store.partition(name, as_of=AS_OF, customer_id=cid)) is not None, name
    conv = store.read_partition(store.partition("conversations", as_of=AS_OF, customer_id="acme"))
    assert conv.height == 12 * 7  # 7-day window out of 10 landed days
    assert conv["topic_id"].null_count() == 0 and conv["tier"].null_count() == 0
    scores = store.read_partition(store.partition("scores", as_of=AS_OF, customer_id="acme")).row(0, named=True)
    first, last = window_bounds(AS_OF, 7)
    assert (scores["window_start"], scores["window_end"], scores["conversations"]) == (first, last, 84)
    assert 0 <= scores["automation_potential"] <= 1
    assert scores["current_automation_rate"] == pytest.approx(0.5, abs=0.05)

    before = _digest(out)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert _digest(out) == before  # same inputs, same bytes

    text = show(str(out), "acme")
    assert "acme" in text and "ladder" in text and "top topics" in text


def test_rerun_recomputes_only_what_changed(tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import taxonomy.scoring as scoring
    import taxonomy.topics as topics

    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 6, "globex": 6}, days=8)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    calls: list[int] = []
    scored: list[str] = []
    real, real_score = topics.discover_topics, scoring.score_customer
    monkeypatch.setattr(topics, "discover_topics", lambda df, *a, **k: calls.append(df.height) or real(df, *a, **k))
    monkeypatch.setattr(scoring, "score_customer", lambda *a, **k: scored.append(k["customer_id"]) or real_score(*a, **k))
    before = _digest(out)
    again = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert calls == [] and scored == [] and _digest(out) == before  # nothing changed: nothing recomputed
    assert len(again.published["scores"]) == 2
    write_landing(landing, {"globex": 6}, days=7, marker="and my parcel")  # one customer's exports change
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert calls == [42] and scored == ["acme", "globex"]  # topics for globex; peers' scores for both
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "acme.yaml").write_text("customer_id: acme\nrules: []\n")
    run(str(landing), str(out), as_of=AS_OF, config=dataclasses.replace(cfg, overrides_dir=str(overrides)), progress=False)
    assert calls == [42, 42]  # a new overrides file for acme: acme again


def test_worker_processes_give_the_same_bytes(tmp_path: Path, cfg: Config) -> None:
    landing = tmp_path / "landing"
    write_landing(landing, {f"cust{i}": 4 for i in range(8)}, days=2)  # 16 files, 8 customers: pools are used
    one = run(str(landing), str(tmp_path / "one"), as_of=AS_OF, config=dataclasses.replace(cfg, workers=1), progress=False)
    two = run(str(landing), str(tmp_path / "two"), as_of=AS_OF, config=dataclasses.replace(cfg, workers=2), progress=False)
    assert one.customers == two.customers and len(two.customers) == 8 and not two.failed
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")


def test_label_never_touches_production(tmp_path: Path, cfg: Config) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 6}, days=8)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    before = _digest(out)
    run(str(landing), str(out), as_of=AS_OF, config=dataclasses.replace(cfg, window_days=3), label="exp", progress=False)
    after = _digest(out)
    assert {k: v for k, v in after.items() if not k.startswith("label=")} == before
    assert any(k.startswith("label=exp/scores/") for k in after)


def test_one_customers_text_never_reaches_another(tmp_path: Path, cfg: Config) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    marker = "ZZMARKERQQ"
    write_landing(landing, {"acme": 6}, days=8, marker=marker)
    write_landing(landing, {"globex": 6}, days=8)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    for path in out.rglob("*.parquet"):
        found = marker.encode() in path.read_bytes() or any(
            marker in str(v) for col in pl.read_parquet(path).columns for v in pl.read_parquet(path)[col].to_list()
        )
        if found:
            assert "customer_id=acme" in str(path) or "quarantine" in str(path), path


def test_discover_customers_skips_unsafe_folders(tmp_path: Path) -> None:
    write_landing(tmp_path, {"acme": 1, "globex": 1}, days=2)
    os.makedirs(tmp_path / "bad=id" / (AS_OF - timedelta(days=1)).isoformat())
    (tmp_path / "bad=id" / (AS_OF - timedelta(days=1)).isoformat() / "x.csv").write_text("a\n")
    assert discover_customers(str(tmp_path), AS_OF - timedelta(days=1)) == ["acme", "globex"]
    assert discover_customers(str(tmp_path), AS_OF) == []


def test_cli_run_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 6}, days=4)
    config = tmp_path / "c.yaml"
    config.write_text("embedding_backend: hashing\n")
    assert main(["run", "--input", str(landing), "--output", str(out), "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert "acme" in printed and "Published as of 2026-03-01" in printed  # day after the latest conversation
    header = next(line for line in printed.splitlines() if "potential (90%)" in line)
    row = next(line for line in printed.splitlines() if line.strip().startswith("acme"))
    interval = re.search(r"\d+% \(\d+–\d+%\)", row)
    assert interval and interval.end() == header.index("potential (90%)") + len("potential (90%)")  # under its header
    # every right-aligned value ends under the end of its own column's name, one value per name
    names = ["convs", "hours", "potential (90%)", "h/month", "of convs", "current", "gap"]
    ends = [header.index(n) + len(n) for n in names]
    value = r"(?<=\s)(?:[-+]\d+ pts|\d+% \(\d+–\d+%\)|[\d.]+%?|n/a)(?=\s|$)"
    cells = [m.end() for m in re.finditer(value, row[: ends[-1] + 1])]
    assert cells == ends, (header, row)
    assert "of convs = the same share counted in conversations" in printed
    from taxonomy.tiers import current_version
    from taxonomy.uncertainty import held_out_check

    check = held_out_check(current_version())  # what "90%" held on unseen sources, said beside it
    assert f"{current_version()} never saw, such intervals held the true hours share in {100 * check['coverage']:.0f}%" in printed
    assert main(["show", "--output", str(out), "--customer", "acme"]) == 0
    assert main(["show", "--output", str(out), "--customer", "nobody"]) == 2
    assert "no published scores for customer nobody" in capsys.readouterr().err
    # a reader that goes away (`taxonomy show ... | head`) ends the command quietly, no traceback
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "taxonomy.cli", "show", "--output", str(out), "--customer", "acme"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    assert proc.wait(timeout=120) == 141 and b"Traceback" not in proc.stderr.read()


def test_customer_without_handle_times_shows_na(tmp_path: Path, cfg: Config) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 6}, days=3)
    for path in landing.rglob("*.csv"):
        header, *rows = list(csv.reader(path.open()))
        with path.open("w", newline="") as fh:  # blank out handle_time_seconds (column 4)
            csv.writer(fh).writerows([header] + [row[:3] + [""] + row[4:] for row in rows])
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    scores = Store(str(out)).read_partition(Store(str(out)).partition("scores", as_of=AS_OF, customer_id="acme"))
    assert scores["handle_time_hours"][0] in (None, 0.0) and scores["missing_handle_time_share"][0] == 1.0
    text = show(str(out), "acme")
    assert "missing handle time 100.0%" in text and "n/a" in text


def test_texts_are_embedded_before_tiering_which_then_embeds_nothing(
    tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run`` embeds every customer first (every core on the model), then tiers them in workers:
    after :func:`embed_customer_days` the tiering pass finds every vector in the cache."""
    from taxonomy.enrich import embed_customer_days, embedder, enrich_customer_days
    from taxonomy.ingest import ingest

    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 6}, days=3)
    ingest(str(landing), str(out), config=cfg)
    days = [AS_OF - timedelta(days=d) for d in (3, 2, 1)]
    encoded: list[str] = []
    model = embedder(cfg)
    real = model.encode
    monkeypatch.setattr(model, "encode", lambda texts: encoded.extend(texts) or real(texts))
    assert embed_customer_days(str(out), "acme", days, config_path=cfg) == days
    assert sorted(encoded) == sorted({t for texts in TEXTS.values() for t in texts})  # each distinct text once
    encoded.clear()
    enrich_customer_days(str(out), "acme", days, config_path=cfg)
    assert encoded == []
    assert embed_customer_days(str(out), "acme", days, config_path=cfg) == []  # enriched: nothing left to do
