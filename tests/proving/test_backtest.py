"""Back-tests on a generated history whose levers ship after the prediction, and calibrated rates."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from taxonomy.calibrate import apply_calibration, calibrated_rates, calibration_evidence
from taxonomy.config import Config, ScoringConfig
from taxonomy.errors import TaxonomyError
from taxonomy.proving import compute_backtest, format_backtest, run_backtests
from taxonomy.samples.generate import day_records, plan_counts
from taxonomy.samples.profiles import CustomerProfile
from taxonomy.schema import BACKTEST_OUT, CONVERSATIONS_OUT, TIERS, conform
from taxonomy.scoring import score_customer
from taxonomy.storage import Store
from taxonomy.window import window_bounds

PREDICTED_AT, ACHIEVED_AT = date(2026, 10, 26), date(2026, 11, 23)
RATES = {"informational": 0.8, "personalized": 0.6, "action_led": 0.35}


def generated_history(profile: CustomerProfile, seed: int = 11) -> pl.DataFrame:
    """The profile's conversations over both windows, tiers and intents from the generator's truth."""
    days = (ACHIEVED_AT - PREDICTED_AT).days * 2
    end = ACHIEVED_AT - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    rows, seq = [], 0
    for d, n in enumerate(plan_counts([profile], None, days, seed, end)[0]):
        for r in day_records(profile, d, start + timedelta(days=d), n, seq, seed):
            rows.append({"conversation_id": f"c{r['_seq']:07d}", "customer_id": profile.customer_id,
                         "created_at": r["created_at"], "text": "redacted", "handle_time_seconds": r["handle_time_seconds"],
                         "automated": r["automated"], "tier": r["_tier"], "topic_id": f"t-{r['_intent']}"})
        seq += n
    return conform(pl.DataFrame(rows), CONVERSATIONS_OUT)


def publish_window(store: Store, history: pl.DataFrame, as_of: date, rates: dict[str, float]) -> dict:
    """Publish the window ending the day before ``as_of`` as the pipeline would (scores, topics, conversations)."""
    first, last = window_bounds(as_of, 28)
    conv = history.filter(pl.col("created_at").dt.date().is_between(first, last))
    cid = conv.get_column("customer_id")[0]
    ids = sorted(conv.get_column("topic_id").unique().to_list())
    meta = pl.DataFrame({"topic_id": ids, "label": [i[2:].replace("_", " ") for i in ids], "keywords": [[i] for i in ids],
                         "example_conversation_ids": [[] for _ in ids]})
    result = score_customer(conv, meta, rates, "default", customer_id=cid, as_of=as_of, window_start=first,
                            window_end=last, model_version="m", pipeline_version="p", run_id="r")
    for name, frame in (("conversations", conv), ("topics", result.topics), ("scores", result.scores)):
        store.write_partition(frame, store.partition(name, as_of=as_of, customer_id=cid))
    return result.scores.row(0, named=True)


@pytest.fixture(scope="module")
def knowledge_shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict, pl.DataFrame]:
    """Informational automation goes from 0 to 80% on the prediction date; the other tiers stay at 0."""
    profile = CustomerProfile("rising", "saas", "csv", 400, {"informational": 0.45, "personalized": 0.3, "action_led": 0.25},
                              automated_rates={t: 0.0 for t in TIERS}, levers=(("informational", PREDICTED_AT, 0.8),))
    store = Store(str(tmp_path_factory.mktemp("bt") / "out"))
    history = generated_history(profile)
    predicted = publish_window(store, history, PREDICTED_AT, RATES)
    publish_window(store, history, ACHIEVED_AT, RATES)
    written = run_backtests(store, ACHIEVED_AT, ["rising"], predicted_at=PREDICTED_AT)
    frame = store.read_partition(written["rising"].rsplit("/", 1)[0])
    return store, predicted, frame


def test_achieved_rates_per_tier_within_two_points(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    _, _, frame = knowledge_shipped
    assert frame.schema == pl.Schema(BACKTEST_OUT)
    tiers = {r["tier"]: r for r in frame.filter(pl.col("level") == "tier").iter_rows(named=True)}
    assert abs(tiers["informational"]["achieved_rate"] - 0.8) <= 0.02
    assert abs(tiers["personalized"]["achieved_rate"]) <= 0.02 and abs(tiers["action_led"]["achieved_rate"]) <= 0.02
    assert all(tiers[t]["baseline_rate"] == 0.0 for t in TIERS)  # nothing was automated before
    assert {t: tiers[t]["predicted_rate"] for t in TIERS} == RATES
    assert tiers["informational"]["conversations"] > 3000  # enough for a 2-point bound (3 sigma ~ 2 points)


def test_prediction_error_is_what_the_rates_imply(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    _, predicted, frame = knowledge_shipped
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    tiers = {r["tier"]: r for r in frame.filter(pl.col("level") == "tier").iter_rows(named=True)}
    total = sum(tiers[t]["conversations"] for t in TIERS)
    achieved = sum(tiers[t]["conversations"] * tiers[t]["achieved_rate"] for t in TIERS) / total
    assert c["predicted_potential"] == pytest.approx(predicted["automation_potential_volume"])
    assert c["achieved_potential"] == pytest.approx(achieved)
    assert c["absolute_error"] == pytest.approx(abs(c["predicted_potential"] - achieved))
    # What the rates imply: the unshipped tiers' predicted rates times their share, give or take noise.
    shares = {t: predicted[f"volume_share_{t}"] for t in TIERS}
    implied = shares["personalized"] * 0.6 + shares["action_led"] * 0.35 + shares["informational"] * (0.8 - 0.8)
    assert c["absolute_error"] == pytest.approx(implied, abs=0.02)
    assert list(c["levers_shipped"]) == ["informational"]
    # Judged on the lever that shipped, the prediction came true.
    assert c["predicted_potential_shipped"] == pytest.approx(shares["informational"] * 0.8)
    assert abs(c["predicted_potential_shipped"] - c["achieved_potential"]) <= 0.02


def test_topics_by_stable_id(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    _, _, frame = knowledge_shipped
    topics = frame.filter(pl.col("level") == "topic")
    assert set(topics.get_column("status").to_list()) == {"matched"}
    for t in topics.iter_rows(named=True):
        assert t["predicted_rate"] == pytest.approx(RATES[t["tier"]])
        if t["tier"] == "informational":
            assert t["achieved_rate"] > 0.6
        else:
            assert t["achieved_rate"] == 0.0
    text = format_backtest(frame)
    assert "levers shipped: informational" in text and "rising" in text
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    assert f"  error {100 * c['absolute_error']:.1f} pts  (" in text  # a difference of shares: points


def test_split_vanished_and_new_topics_are_reported() -> None:
    def conv(topic_ids: list[str], automated: bool) -> pl.DataFrame:
        return conform(pl.DataFrame({"conversation_id": [f"c{i}" for i in range(len(topic_ids))], "customer_id": "x",
                                     "tier": "informational", "topic_id": topic_ids, "automated": automated,
                                     "handle_time_seconds": 60.0}), CONVERSATIONS_OUT)
    topics = pl.DataFrame({"topic_id": ["t1", "t2", "t3", "t4"], "label": ["a", "b", "c", "d"], "tier": "informational"})
    e = np.eye(4)
    centroids = ({"t1": e[0], "t2": e[1]}, {"t2": e[1], "t3": (e[0] + 0.3 * e[2]) / np.linalg.norm(e[0] + 0.3 * e[2]), "t4": e[3]})
    scores = {"automation_potential_volume": 0.8, **{f"achievable_rate_{t}": 0.8 for t in TIERS}, "rates_source": "default"}
    frame = compute_backtest((scores, topics, conv(["t1", "t2"] * 10, False)), (topics, conv(["t2", "t3", "t4"] * 10, True)),
                             customer_id="x", predicted_at=PREDICTED_AT, achieved_at=ACHIEVED_AT, centroids=centroids)
    rows = {r["topic_id"]: r for r in frame.filter(pl.col("level") == "topic").iter_rows(named=True)}
    assert {k: (v["status"], v["split_from"]) for k, v in rows.items()} == {
        "t1": ("vanished", None), "t2": ("matched", None), "t3": ("split", "t1"), "t4": ("new", None)}
    assert rows["t1"]["achieved_rate"] is None and rows["t1"]["predicted_conversations"] == 10
    assert rows["t3"]["achieved_rate"] == 1.0
    # The customer page tells a topic that carries on under a new id once, with its successor: not
    # "a (vanished)" beside "c (split from t1)"; a topic split from one that still has conversations
    # names its parent; a new topic is new.
    from taxonomy.report.outcomes import backtest_context

    notes = {t["topic_id"]: t["note"] for t in backtest_context(frame)["unusual"]}  # type: ignore[index]
    assert notes == {"t3": 't3, carries on t1 "a", which has had no conversations since', "t4": "t4, new"}
    centroids = (centroids[0], {**centroids[1], "t3": (e[1] + 0.3 * e[2]) / np.linalg.norm(e[1] + 0.3 * e[2])})
    split = compute_backtest((scores, topics, conv(["t1", "t2"] * 10, False)), (topics, conv(["t2", "t3", "t4"] * 10, True)),
                             customer_id="x", predicted_at=PREDICTED_AT, achieved_at=ACHIEVED_AT, centroids=centroids)
    notes = {t["topic_id"]: t["note"] for t in backtest_context(split)["unusual"]}  # type: ignore[index]
    assert notes == {"t1": "t1, vanished", "t3": 't3, split from t2 "b"', "t4": "t4, new"}
    # t1 and t2 have no conversations since; t3 and t4 are both near t1
    two = compute_backtest((scores, topics, conv(["t1", "t2"] * 10, False)), (topics, conv(["t3", "t4"] * 10, True)),
                           customer_id="x", predicted_at=PREDICTED_AT, achieved_at=ACHIEVED_AT,
                           centroids=({"t1": e[0], "t2": e[1]}, {"t3": (e[0] + 0.3 * e[2]) / np.linalg.norm(e[0] + 0.3 * e[2]),
                                                                 "t4": (e[0] + 0.4 * e[3]) / np.linalg.norm(e[0] + 0.4 * e[3])}))
    notes = {t["topic_id"]: t["note"] for t in backtest_context(two)["unusual"]}  # type: ignore[index]
    assert notes == {"t2": "t2, vanished", "t3": 't3, split from t1 "a", which has had no conversations since',
                     "t4": 't4, split from t1 "a", which has had no conversations since'}


def test_errors_are_clear(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    store, _, _ = knowledge_shipped
    with pytest.raises(TaxonomyError, match="no published scores for customer rising as of 2026-10-01"):
        run_backtests(store, ACHIEVED_AT, ["rising"], predicted_at=date(2026, 10, 1))
    with pytest.raises(TaxonomyError, match="must be before"):
        run_backtests(store, ACHIEVED_AT, ["rising"], predicted_at=ACHIEVED_AT)
    assert run_backtests(store, ACHIEVED_AT, ["rising"], predicted_at=date(2026, 10, 1), strict=False) == {}


def test_calibrated_rates_come_from_customers_who_shipped(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    store, _, frame = knowledge_shipped
    evidence = calibration_evidence(store, ACHIEVED_AT + timedelta(days=1))
    achieved = frame.filter((pl.col("level") == "tier") & (pl.col("tier") == "informational"))["achieved_rate"][0]
    assert evidence == {"informational": [achieved], "personalized": [], "action_led": []}
    assert calibration_evidence(store, ACHIEVED_AT) == {t: [] for t in TIERS}  # only back-tests before the date
    assert calibrated_rates(evidence, ScoringConfig()) == {}  # one customer is not enough by default
    calibration = calibrated_rates(evidence, dataclasses.replace(ScoringConfig(), calibration_min_customers=1))
    assert calibration == {"informational": (achieved, 1)}
    rates, source = apply_calibration(RATES, "peers:p75:n=4;default:informational,action_led", calibration)
    assert rates == {**RATES, "informational": achieved}
    assert source == "calibrated:informational=1;peers:p75:n=4;default:action_led"
    assert apply_calibration(RATES, "default", {})[1] == "default"
    full = {t: (0.5, 3) for t in TIERS}
    assert apply_calibration(RATES, "default", full)[1] == "calibrated:informational=3,personalized=3,action_led=3"


def test_config_checks_the_new_settings() -> None:
    from taxonomy.config import validate

    with pytest.raises(TaxonomyError, match="calibration_percentile"):
        validate(dataclasses.replace(Config(), scoring=dataclasses.replace(ScoringConfig(), calibration_percentile=0)))


def test_pages_show_predicted_vs_achieved(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    from taxonomy.report import render_reports

    store, _, frame = knowledge_shipped
    uris = render_reports(store.root, as_of=ACHIEVED_AT)
    customer, portfolio = Path(uris[0]).read_text(), Path(uris[-1]).read_text()
    assert 'id="backtest"' in customer and "Predicted vs achieved" in customer
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    assert f"{100 * c['achieved_potential']:.1f}%" in customer and "levers shipped: Informational" in customer
    # the error is a difference of two percentages: points, unsigned, never "%"
    assert f'data-field="absolute_error">{100 * c["absolute_error"]:.1f} pts<' in customer
    assert f'data-field="absolute_error">{100 * c["absolute_error"]:.1f} pts<' in portfolio
    assert 'data-backtest="rising"' in portfolio and 'id="chart-calibration"' in portfolio
    older = render_reports(store.root, as_of=PREDICTED_AT)  # no back-test as of the prediction date
    assert 'id="backtest"' not in Path(older[0]).read_text() and "chart-calibration" not in Path(older[-1]).read_text()


@pytest.mark.browser
def test_portfolio_calibration_chart_in_chromium(knowledge_shipped: tuple[Store, dict, pl.DataFrame]) -> None:
    import os
    import shutil

    from taxonomy.report import render_reports
    from tests.browser import CHROMIUM, Chromium

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip("headless Chromium not installed")
    store, _, _ = knowledge_shipped
    uris = render_reports(store.root, as_of=ACHIEVED_AT)
    artifacts = Path(os.environ.get("REPORT_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        for uri, name in ((uris[-1], "backtest-portfolio.png"), (uris[0], "backtest-customer.png")):
            page = browser.open_page(Path(uri).as_uri(), width=1366)
            try:
                page.wait_for("document.readyState === 'complete'")
                if name == "backtest-portfolio.png":
                    page.wait_for("document.querySelectorAll('#chart-calibration path.point').length >= 2", timeout=60)
                assert page.errors() == [] and page.dialogs() == []
                print(f"screenshot: {page.screenshot(artifacts / name)}")
            finally:
                page.close()


def test_cli_backtest(knowledge_shipped: tuple[Store, dict, pl.DataFrame], capsys: pytest.CaptureFixture[str]) -> None:
    from taxonomy.cli import main

    store, _, _ = knowledge_shipped
    args = ["backtest", "--output", store.root, "--customer", "rising", "--predicted-at", str(PREDICTED_AT)]
    assert main([*args, "--achieved-at", str(ACHIEVED_AT)]) == 0
    out = capsys.readouterr().out
    assert "levers shipped: informational" in out and "backtest/as_of=2026-11-23/customer_id=rising" in out
    assert main([*args, "--achieved-at", "2026-11-30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no published topics for customer rising as of 2026-11-30" in err


def test_publish_back_tests_predictions_old_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduled flow: publishing a date back-tests the prediction published backtest_after_days earlier."""
    from taxonomy.pipeline import run
    from tests.test_pipeline import AS_OF, write_landing

    landing, out = tmp_path / "landing", tmp_path / "out"
    write_landing(landing, {"acme": 12, "globex": 9}, days=14)
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7,
                              scoring=dataclasses.replace(ScoringConfig(), backtest_after_days=7))
    first = run(str(landing), str(out), as_of=AS_OF - timedelta(days=7), config=cfg, progress=False)
    assert "backtest" not in first.published  # nothing published 7+ days before
    second = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert len(second.published["backtest"]) == 2
    frame = Store(str(out)).read_partition(Store(str(out)).partition("backtest", as_of=AS_OF, customer_id="acme"))
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    assert c["predicted_at"] == AS_OF - timedelta(days=7) and c["achieved_potential"] == pytest.approx(0.5)
    assert c["levers_shipped"] == []  # the same half automated before and after
    # A re-run with nothing changed reads footers only: the back-tests are not recomputed.
    from taxonomy.proving import backtest as module

    before = (tmp_path / "out/backtest/as_of=2026-03-01/customer_id=acme/part-0.parquet").read_bytes()
    calls: list[str] = []
    real = module.backtest_customer
    monkeypatch.setattr(module, "backtest_customer", lambda store, cid, *a: calls.append(cid) or real(store, cid, *a))
    again = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert calls == [] and again.published["backtest"] == second.published["backtest"]
    assert (tmp_path / "out/backtest/as_of=2026-03-01/customer_id=acme/part-0.parquet").read_bytes() == before


def test_calibrated_rates_source_in_words() -> None:
    from taxonomy.report import describe_rates_source

    text = describe_rates_source("calibrated:informational=4,personalized=1;peers:p75:n=5;default:action_led")
    assert "informational from 4 customers; personalized from 1 customer" in text
    assert "75th percentile" in text and "action-led requests, so those use the configured default" in text


def test_a_lever_ships_only_on_a_clear_rise() -> None:
    from taxonomy.proving.backtest import lever_shipped

    # The bundled sample's loopdesk, whose automation never changed: +10 points on ~290 outcomes (z = 2.4).
    assert not lever_shipped({"automated": 148, "with_outcome": 289}, {"automated": 175, "with_outcome": 286})
    assert lever_shipped({"automated": 0, "with_outcome": 224}, {"automated": 32, "with_outcome": 218})  # 0 -> 15%
    assert not lever_shipped({"automated": 0, "with_outcome": 10}, {"automated": 10, "with_outcome": 10})  # too few
    assert not lever_shipped({"automated": 500, "with_outcome": 1000}, {"automated": 540, "with_outcome": 1000})  # +4 pts
    assert lever_shipped({}, {"automated": 30, "with_outcome": 100})  # no outcome before
