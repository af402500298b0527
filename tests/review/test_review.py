"""``taxonomy review``: the sheet round trip, bad sheets, and answers that stick across runs."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.config import Config
from taxonomy.pipeline import run
from tests.test_pipeline import AS_OF, _digest, write_landing

TIERS = ("informational", "personalized", "action_led")


@pytest.fixture()
def cfg() -> Config:
    return dataclasses.replace(Config(), embedding_backend="hashing", window_days=7, workers=1)


@pytest.fixture()
def analysed(tmp_path: Path, cfg: Config) -> tuple[Path, Path, Config]:
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 30, "beta": 20}, days=10)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    return landing, out, cfg


def _sheet(out: Path, path: Path, customer: str = "acme") -> list[dict]:
    assert main(["review", "--output", str(out), "--customer", customer, "--sheet", str(path)]) == 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _save(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _published(out: Path, name: str, customer: str = "acme", as_of=AS_OF) -> pl.DataFrame:
    return pl.read_parquet(out / name / f"as_of={as_of}" / f"customer_id={customer}" / "part-0.parquet")


def test_sheet_round_trip_pins_tiers_and_narrows_the_interval(analysed: tuple, tmp_path: Path) -> None:
    landing, out, cfg = analysed
    before = _published(out, "scores").row(0, named=True)
    assert before["reviewed_hours_share"] == 0.0
    for t in TIERS:
        assert before[f"handle_time_share_{t}_low"] <= before[f"handle_time_share_{t}"] <= before[f"handle_time_share_{t}_high"]
    rows = _sheet(out, tmp_path / "sheet.csv")
    needed = {"topic_id", "label", "hours", "proposed_tier", "confidence", "tier_mix", "examples", "tier"}
    assert needed <= set(rows[0]) and all(r["tier"] == "" for r in rows)
    assert [float(r["cumulative_hours_share"]) for r in rows] == sorted(float(r["cumulative_hours_share"]) for r in rows)
    assert all(r["examples"].startswith("1) ") for r in rows)
    assert (tmp_path / "sheet.messages.csv").exists()
    for r in rows:  # the proposal is the tier holding most of the topic's hours, its confidence that part
        mix = {t: float(part.rsplit(" ", 1)[1].rstrip("%")) for t, part in zip(TIERS, r["tier_mix"].split(" / "))}
        assert mix[r["proposed_tier"]] == max(mix.values())
        assert 100 * float(r["confidence"]) == pytest.approx(mix[r["proposed_tier"]], abs=0.51)
    for r in rows:
        r["tier"] = "action_led"
    rows[0]["reviewer"] = "ann"
    _save(rows, tmp_path / "sheet.csv")
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "sheet.csv"),
                 "--reviewer", "bob"]) == 0
    reviews = pl.read_parquet(out / "reviews" / "customer_id=acme" / "part-0.parquet")
    assert reviews.height == len(rows) and set(reviews["reviewer"]) == {"ann", "bob"}
    assert reviews["proposed_tier"].is_not_null().all() and reviews["members"].list.len().min() > 0
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    conv = _published(out, "conversations")
    assert set(conv["tier_source"]) == {"review"} and set(conv["tier"]) == {"action_led"}
    after = _published(out, "scores").row(0, named=True)
    assert after["reviewed_hours_share"] == pytest.approx(1.0) and after["reviews_applied"] == len(rows)
    assert after["automation_potential_high"] - after["automation_potential_low"] < 1e-6
    beta = _published(out, "conversations", "beta")
    assert "review" not in set(beta["tier_source"])  # one customer's answers never touch another
    digest = _digest(out)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert _digest(out) == digest  # re-runs stay byte-identical with reviews in force
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "sheet.csv")]) == 0
    assert pl.read_parquet(out / "reviews" / "customer_id=acme" / "part-0.parquet").height == len(rows)  # same answers: nothing new


def test_split_topic_uses_message_tiers(analysed: tuple, tmp_path: Path) -> None:
    landing, out, cfg = analysed
    rows = _sheet(out, tmp_path / "s.csv")
    rows[0]["tier"] = "split"
    _save(rows, tmp_path / "s.csv")
    with open(tmp_path / "s.messages.csv", newline="", encoding="utf-8-sig") as fh:
        messages = list(csv.DictReader(fh))
    mine = [m for m in messages if m["topic_id"] == rows[0]["topic_id"]]
    for i, m in enumerate(mine):
        m["tier"] = TIERS[i % 2]
    _save(messages, tmp_path / "s.messages.csv")
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "s.csv")]) == 0
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    conv = _published(out, "conversations").filter(pl.col("topic_id") == rows[0]["topic_id"])
    assert set(conv["tier_source"]) == {"review"} and set(conv["tier"]) <= set(TIERS[:2])
    labelled = pl.read_parquet(out / "review_messages" / "customer_id=acme" / "part-0.parquet")
    assert labelled.filter(pl.col("labelled")).height == len(mine) and "text" not in labelled.columns


@pytest.mark.parametrize(
    "edit, field, message",
    [
        (lambda rows: rows[0].update(tier="automated"), "tier", "unknown tier"),
        (lambda rows: rows[0].update(topic_id="t9999"), "topic_id", "does not match its check"),
        (lambda rows: rows[1].update(customer_id="beta"), "customer_id", "customer 'beta'"),
        (lambda rows: rows[0].update(tier="split"), "tier", "no message of it has a tier"),
    ],
)
def test_bad_sheets_fail_with_one_line_and_change_nothing(analysed: tuple, tmp_path: Path, capsys, edit, field, message) -> None:
    _, out, _ = analysed
    rows = _sheet(out, tmp_path / "bad.csv")
    for r in rows:
        r["tier"] = "informational"
    edit(rows)
    _save(rows, tmp_path / "bad.csv")
    capsys.readouterr()
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"field '{field}'" in err and message in err and "bad.csv" in err
    assert not (out / "reviews").exists()


def test_another_customers_sheet_and_unknown_topic_are_refused(analysed: tuple, tmp_path: Path, capsys) -> None:
    _, out, _ = analysed
    rows = _sheet(out, tmp_path / "beta.csv", customer="beta")
    rows[0]["tier"] = "informational"
    _save(rows, tmp_path / "beta.csv")
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "beta.csv")]) == 2
    assert "not 'acme'" in capsys.readouterr().err
    from taxonomy.review.sheet import check_code

    rows[0].update(topic_id="t0999", check=check_code("beta", rows[0]["as_of"], "t0999"))
    _save(rows, tmp_path / "beta.csv")
    assert main(["review", "--output", str(out), "--customer", "beta", "--apply", str(tmp_path / "beta.csv")]) == 2
    assert "unknown topic 't0999'" in capsys.readouterr().err
    assert not (out / "reviews").exists()


def test_unmatched_review_is_reported(analysed: tuple, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    landing, out, cfg = analysed
    rows = _sheet(out, tmp_path / "s.csv")
    rows[0]["tier"] = "personalized"
    _save(rows, tmp_path / "s.csv")
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "s.csv")]) == 0
    path = out / "reviews" / "customer_id=acme" / "part-0.parquet"
    reviews = pl.read_parquet(path)
    far = [0.0] * 384
    far[0] = 1.0
    reviews.with_columns(pl.Series("centroid", [far], dtype=reviews.schema["centroid"]),
                         pl.Series("members", [["nobody"]])).write_parquet(path)
    run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    scores = _published(out, "scores").row(0, named=True)
    assert scores["reviews_unmatched"] == 1 and scores["reviews_applied"] == 0
    capsys.readouterr()
    assert main(["review", "--output", str(out), "--customer", "acme", "--sheet", str(tmp_path / "again.csv")]) == 0
    assert f"NO LONGER MATCHES ANY TOPIC: {rows[0]['topic_id']}" in capsys.readouterr().out


def test_cockpit_shows_intervals_reviewed_share_and_top_rows(analysed: tuple, tmp_path: Path) -> None:
    import re

    from taxonomy.report import render_reports
    from taxonomy.uncertainty import held_out_check

    _, out, _ = analysed
    pages = render_reports(str(out))
    customer = Path(pages[0]).read_text()
    assert re.search(r"90% interval: \d+–\d+%", customer)
    assert re.search(r"Confirm these \d+ topics to pin \d+\.\d% of the hours", customer)
    assert re.search(r'data-field="handle_time_share_action_led">\d+% \(\d+–\d+%\)<', customer)
    check = held_out_check(_published(out, "scores").row(0, named=True)["model_version"])
    assert check, "the shipped tier model records how its intervals fared on unseen sources"
    assert (f"queues from {check['sources']} sources the tier model was never trained on, intervals like these held"
            f" the true hours share in {100 * check['coverage']:.0f}% of {check['checks']} checks") in customer
    rows = _sheet(out, tmp_path / "sheet.csv")
    assert rows[0]["label"] in customer  # the sheet's first row is the page's first row
    portfolio = Path(pages[-1]).read_text()
    assert len(re.findall(r"\d+ pts wide", portfolio)) == 2 and 'data-field="reviewed">0.0%' in portfolio


def test_after_a_review_the_page_and_run_summary_quote_what_reviewed_intervals_held(analysed: tuple, tmp_path: Path,
                                                                                    capsys) -> None:
    """Reviewed intervals are narrower and hold the truth less often than 90% (``benchmarks.review_coverage``): where
    hours are reviewed, the page and ``taxonomy run`` quote that check too."""
    from taxonomy.cli import print_run_summary
    from taxonomy.report import render_reports
    from taxonomy.uncertainty import held_out_check

    landing, out, cfg = analysed
    rows = _sheet(out, tmp_path / "sheet.csv")
    for r in rows:
        r["tier"] = "personalized"
    _save(rows, tmp_path / "sheet.csv")
    assert main(["review", "--output", str(out), "--customer", "acme", "--apply", str(tmp_path / "sheet.csv")]) == 0
    capsys.readouterr()
    result = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    after = held_out_check(_published(out, "scores").row(0, named=True)["model_version"], after_review=True)
    assert after, "the shipped tier model records how its intervals fared after a full review"
    quoted = (f"intervals about {100 * after['mean_width']:.0f} points wide held the true share in {100 * after['coverage']:.0f}%"
              f" of {after['checks']} checks")
    left = f"was {100 * after['mean_error']:.1f} points off on average, {100 * after['max_error']:.1f} at most"
    print_run_summary(result)
    printed = capsys.readouterr().out
    assert "hours reviewed by a person: acme 100%." in printed and quoted in printed and "beta" not in printed.split("reviewed by")[1]
    pages = {str(p): Path(p).read_text() for p in render_reports(str(out))}
    acme = next(text for name, text in pages.items() if "customer_id=acme" in name)
    beta = next(text for name, text in pages.items() if "customer_id=beta" in name)
    assert "100% of these hours are reviewed" in acme and quoted in acme and left in acme and left in printed
    assert "of these hours are reviewed" not in beta and quoted not in beta  # nothing reviewed: the model's check alone
