"""The scale benchmark still runs end to end against today's package (it had rotted once: it patched
an embedder factory that had moved). Tiny queue, hashing embedder: this checks the wiring, not speed."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

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


def test_topic_names_tuning_pairs_seeds_by_seed() -> None:
    """``topic_names_banking77 --tuning ... --against ...``: head minus base per seed, over the seeds
    both runs hold, and the names that changed wording."""
    from benchmarks.topic_names_banking77 import paired

    base = {"10": {"int8": 0.70, "fp32": 0.72, "names": ["A", "B"]}, "11": {"int8": 0.80, "fp32": 0.80, "names": ["C"]},
            "12": {"int8": 0.5, "fp32": 0.5, "names": ["D"]}}
    head = {"10": {"int8": 0.72, "fp32": 0.72, "names": ["A", "B2"]}, "11": {"int8": 0.82, "fp32": 0.79, "names": ["C"]}}
    report = paired(base, head).splitlines()
    assert report[0] == "int8 top-1 +0.0200 +- 0.0000 over 2 seeds (2 up, 0 down)"
    assert report[1] == "fp32 top-1 -0.0050 +- 0.0050 over 2 seeds (0 up, 1 down)"
    assert report[2] == "names changed: 1 of 3"


def test_tiers_in_context_scores_and_page() -> None:
    """``benchmarks.tiers_in_context`` needs the tier corpus (not in CI): its scoring and page, on a stand-in."""
    import numpy as np

    from benchmarks.tiers_in_context import _markdown, macro_f1

    gold = np.array(["informational", "action_led", "action_led"])  # no personalized row: not charged a zero for it
    assert macro_f1(gold, gold) == 1.0
    assert macro_f1(gold, np.array(["informational", "informational", "action_led"])) == (2 / 3 + 2 / 3) / 2
    scores = {"0.0": 0.5, "0.5": 0.6, "adapted, weight 0.5": 0.7}
    page = _markdown({"machine": {"date_utc": "-", "cpu": "-", "usable_cores": 2, "python": "-", "versions": {}},
                      "model_under_test": {"description": "stand-in"}, "shipped_weight": 0.5, "seconds": 1.0,
                      "adapt_seconds_per_queue": {"mean": 0.1, "max": 0.2},
                      "weights": ["0.0", "0.5", "adapted, weight 0.5"], "means": {"v4's 7 real sources": scores},
                      "per_source": {"snips": {"kind": "trained", "rows": 3, "macro_f1": scores}},
                      "whole_sources": {"snips": {"rows": 3, "alone": 0.5, "adapted": 0.7},
                                        "mean, v4's 7 real sources": {"alone": 0.5, "adapted": 0.7}},
                      "queues": {"snips/q1": {"source": "snips", "rows": 3, "topics": 1, "macro_f1": scores}}})
    assert "| source | kind | rows | weight 0.0 | weight 0.5 | adapted, weight 0.5 |" in page
    assert "| snips | trained | 3 | 0.5 | 0.6 | 0.7 |" in page
    assert "| **mean, v4's 7 real sources** |  |  | 0.5 | 0.6 | 0.7 |" in page
    assert "| snips | 3 | 0.5 | 0.7 |" in page and "| mean, v4's 7 real sources |  | 0.5 | 0.7 |" in page


def test_review_coverage_reviews_every_topic_and_scores_the_intervals() -> None:
    """``benchmarks.review_coverage`` needs the tier corpus (not in CI): its simulated full review and
    coverage, on a stand-in queue of two topics, one pure and one mixed."""
    import numpy as np
    import polars as pl

    from benchmarks.review_coverage import PARTS, coverage, one_tier_residual, reviewed, summary
    from taxonomy.schema import EMBEDDING_DIM, TIERS
    from taxonomy.uncertainty import UncertaintyParams

    rng = np.random.default_rng(0)
    n = 60
    topic = ["t0001"] * 30 + ["t0002"] * 30
    gold = ["informational"] * 30 + ["personalized"] * 15 + ["action_led"] * 15
    x = rng.standard_normal((n, EMBEDDING_DIM)).astype(np.float32)
    p = rng.dirichlet([1, 1, 1], size=n)
    df = pl.DataFrame({"conversation_id": [f"c{i:03d}" for i in range(n)], "text": [f"message {i}" for i in range(n)],
                       "topic_id": topic, "tier": np.array(TIERS)[p.argmax(axis=1)].tolist(), "tier_source": ["model"] * n,
                       "handle_time_seconds": rng.uniform(60, 900, n), **{f"p_{t}": p[:, i] for i, t in enumerate(TIERS)},
                       "gold": gold})
    assert reviewed(df, x, "pure")[0].equals(reviewed(df, x)[0])  # both reviewers agree on a pure and a mixed topic
    # A third topic whose one personalized message holds a third of its hours but is not on the sheet:
    # the reviewer who reads the sheet takes it for informational; the all-knowing one splits it.
    from taxonomy.review.sheet import spread

    ids3, x3 = [f"d{i:03d}" for i in range(12)], rng.standard_normal((12, EMBEDDING_DIM)).astype(np.float32)
    hidden = sorted(set(ids3) - set(spread(ids3, dict(zip(ids3, x3 / np.linalg.norm(x3, axis=1, keepdims=True))), 8, None)))[0]
    p3 = rng.dirichlet([1, 1, 1], size=12)
    third = pl.DataFrame({"conversation_id": ids3, "text": [f"other {i}" for i in range(12)], "topic_id": ["t0003"] * 12,
                          "tier": np.array(TIERS)[p3.argmax(axis=1)].tolist(), "tier_source": ["model"] * 12,
                          "handle_time_seconds": [1800.0 if c == hidden else 300.0 for c in ids3],
                          **{f"p_{t}": p3[:, i] for i, t in enumerate(TIERS)},
                          "gold": ["personalized" if c == hidden else "informational" for c in ids3]})
    both, x_both = pl.concat([df, third]), np.vstack([x, x3])
    by_sheet = reviewed(both, x_both)[0].filter(pl.col("topic_id") == "t0003")
    assert set(by_sheet["_part"]) == {"one tier"} and by_sheet["p_informational"].to_list() == [1.0] * 12
    by_all = reviewed(both, x_both, "pure")[0].filter(pl.col("topic_id") == "t0003")
    assert set(by_all["_part"]) == {"tiered", "inferred"}
    frame, effective = reviewed(df, x)  # the shipped reviewer, who knows only the sheet
    assert frame["tier_source"].to_list() == ["review"] * n
    assert frame.filter(pl.col("topic_id") == "t0001")["p_informational"].to_list() == [1.0] * 30  # pure: one tier
    mixed = frame.filter(pl.col("topic_id") == "t0002")
    assert mixed["p_informational"].mean() < 0.1  # the reviewer's tiers, shown and inferred
    assert 0 < (mixed["p_personalized"] == 1.0).sum() + (mixed["p_action_led"] == 1.0).sum() <= 8  # the shown ones
    assert len(effective) == 1 and 1.0 <= effective[0] <= 8.0
    assert set(frame.filter(pl.col("topic_id") == "t0001")["_part"]) == {"one tier"}
    assert set(mixed["_part"]) == {"tiered", "inferred"}
    assert one_tier_residual(frame) == [0.0]  # the pure topic holds no other tier
    pairs = coverage([("q", frame)], UncertaintyParams(), {"informational": 0.8, "personalized": 0.5, "action_led": 0.2})
    assert [p["tier"] for p in pairs] == list(TIERS) and pairs[0]["inside"]
    for p in pairs:  # the parts add up to the pair's error; the reviewer's own answers add none
        assert sum(p["error_by_part"].values()) == pytest.approx(p["point"] - p["truth"], abs=1e-12)
        assert p["error_by_part"]["tiered"] == 0.0 and p["error_by_part"]["one tier"] == 0.0
    assert summary(pairs)["pairs"] == 3 and set(summary(pairs)["error_by_part"]) == set(PARTS)


def test_review_simulation_reviewer_reads_only_the_sheet(tmp_path: Path) -> None:
    """``benchmarks.review_simulation``'s reviewer: a topic whose shown messages agree gets their tier,
    one whose shown messages disagree is split and those messages tiered; it stops at the target hours."""
    from benchmarks.review_simulation import _fill

    sheet = tmp_path / "c.csv"
    topics = [("t1", 0.5), ("t2", 0.3), ("t3", 0.2)]
    with open(sheet, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["topic_id", "hours_share", "status", "tier"])
        w.writerows([[t, h, "to review", ""] for t, h in topics])
    shown = {"t1": ["a1", "a2"], "t2": ["b1", "b2", "b3"], "t3": ["c1"]}
    with open(tmp_path / "c.messages.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["topic_id", "conversation_id", "tier"])
        w.writerows([[t, c, ""] for t, cs in shown.items() for c in cs])
    # Hidden messages of t1 (x1, x2) are action-led: a reviewer who read them would split t1; this one cannot.
    gold = {"a1": "informational", "a2": "informational", "x1": "action_led", "x2": "action_led",
            "b1": "personalized", "b2": "action_led", "b3": "action_led", "c1": "informational"}
    filled = _fill(sheet, tmp_path / "no-output", "c", None, gold, target=0.8)  # type: ignore[arg-type]
    assert filled == {"topics_reviewed": 2, "split": 1, "topics": 3, "hours_reviewed_in_sheet": 0.8}
    rows = {r["topic_id"]: r["tier"] for r in csv.DictReader(open(sheet))}
    assert rows == {"t1": "informational", "t2": "split", "t3": ""}
    tiers = {r["conversation_id"]: r["tier"] for r in csv.DictReader(open(tmp_path / "c.messages.csv"))}
    assert tiers == {"a1": "", "a2": "", "b1": "personalized", "b2": "action_led", "b3": "action_led", "c1": ""}


def test_classify_queues_page() -> None:
    """``benchmarks.classify_queues`` needs the tier corpus (not in CI): its page, on a stand-in."""
    from benchmarks.classify_queues import _markdown

    page = _markdown({
        "machine": {"date_utc": "-", "cpu": "-", "usable_cores": 2, "python": "-", "versions": {}},
        "evaluation_sources": {"braun2017": {"rows": 10, "alone": 0.5, "adapted": 0.7},
                               "rasa_carbon": {"rows": 20, "alone": 0.7, "adapted": 0.8}},
        "sample": {"alone": {"macro_f1": {"acme-bank": 0.9, "all": 0.8}, "rows": 5, "said": "each row read alone"}},
        "speed": {"texts": 2000, "seconds": {"classify": [3.5, 3.4], "plain sentence-transformers": [9.8, 9.4]},
                  "ratio": {"classify": 2.8}},
    })
    assert "| braun2017 | 10 | 0.5 | 0.7 |" in page and "| **mean** |  | 0.6 | 0.75 |" in page
    assert "| alone | 0.9 | 0.8 |" in page
    assert "| classify | 3.5, 3.4 | 2.8 |" in page


def test_blind_reader_scores_and_page() -> None:
    """``benchmarks.blind_reader`` needs the tier corpus (not in CI) to join its judgments: the committed
    judgments load, and its figures and page on stand-in rows."""
    from benchmarks.blind_reader import _markdown, intents, load_judgments, score

    judged, again = load_judgments(), load_judgments(column="second")
    assert len(judged) == 3063 and set(judged.values()) == {"informational", "personalized", "action_led", None}
    assert again.keys() == judged.keys() and 0.9 < sum(judged[k] == again[k] for k in judged) / len(judged) < 1.0
    rows = [{"source": "s", "intent": "a", "label": "action_led", "mapped": "action_led", "reader": r, "model": m, "weight": w}
            for r, m, w in [("action_led", "action_led", 1.0), ("action_led", "informational", 1.0),
                            ("informational", "informational", 2.0), (None, "informational", 1.0)]]
    rows.append({"source": "s", "intent": "b", "label": "informational", "mapped": "informational", "reader": "informational",
                 "model": "informational", "weight": 1.0})
    s = score(rows)
    assert s["messages"] == 5 and s["no_request"] == pytest.approx(1 / 6)
    assert s["reader_agrees"] == pytest.approx(3 / 5)  # weights 1 + 1 + 1 of 5 on the reader's request rows
    assert s["model_errors_reader_backs"] == pytest.approx(2 / 3)  # of the model's errors (weights 1 and 2), the reader backs the 2
    by_intent = intents(rows)
    assert [(g["intent"], g["reader"]) for g in by_intent] == [("a", "action_led"), ("b", "informational")]
    page = _markdown({"machine": {"date_utc": "-", "cpu": "-", "usable_cores": 2, "python": "-", "versions": {}},
                      "per_source": {"s": s}, "mean": {"reader_f1": s["reader_f1"], "model_f1": s["model_f1"]},
                      "intents": {"count": 2, "reader_same_tier": 2, "differing": []},
                      "second_pass": {"same_judgment": 0.978, "kappa": 0.967, "mean_reader_f1": 0.912}})
    assert "| s | 5 | 16.7% | 60.0% |" in page and "67%" in page and "97.8% of them (Cohen's kappa 0.967)" in page


def test_row_labels_load_and_replace_intent_labels() -> None:
    """``benchmarks.row_labels`` needs the tier corpus (not in CI) to fit: the committed message labels
    load, and a message's own tier replaces its intent's (a message that states no request is not fitted)."""
    import numpy as np

    from benchmarks.blind_reader import text_key
    from benchmarks.row_labels import fit_labels, load_row_labels

    labels = load_row_labels()
    assert len(labels) == 26812 and set(labels.values()) == {"informational", "personalized", "action_led", "none"}
    texts = ["I want to buy a mattress", "Creatine", "How do I reset my password?", "hello"]
    sources = np.array(["hint3", "hint3", "seed", "banking77"])
    intents = np.array(["x/BUY", "x/BUY", "how", "greet"])
    given = {("hint3", "x/BUY", text_key(texts[0])): "action_led", ("hint3", "x/BUY", text_key(texts[1])): "none",
             ("banking77", "greet", text_key(texts[3])): "personalized"}
    tiers = np.array(["informational"] * 4)
    fit, keep = fit_labels(sources, intents, texts, tiers, given)
    assert fit.tolist() == ["action_led", "informational", "informational", "personalized"] and keep.tolist() == [True, False, True, True]
    fit, keep = fit_labels(sources, intents, texts, tiers, given, only={"hint3"})  # Banking77 keeps its label
    assert fit.tolist()[3] == "informational" and keep.tolist() == [True, False, True, True]


def test_row_labels_check_sheet_and_tally(tmp_path: Path) -> None:
    """``benchmarks.row_labels_check``: the sheet holds only messages whose annotated tier differs from
    their label; a filled sheet is tallied by whom the person sided with; a bad letter is one error line."""
    from benchmarks.blind_reader import text_key
    from benchmarks.row_labels_check import COLUMNS, disagreements, main, tally

    texts = ["Is there a fee for transfers?", "Cancel my card", "hello", "Where is my refund?"]
    labels = {("b", "fee", text_key(texts[0])): "informational", ("b", "cancel", text_key(texts[1])): "action_led",
              ("b", "hi", text_key(texts[2])): "none", ("b", "refund", text_key(texts[3])): "action_led"}
    rows = disagreements(["b"] * 4, ["fee", "cancel", "hi", "refund"], texts,
                         ["personalized", "action_led", "informational", "personalized"], labels, per_source=10)
    assert sorted((r["text"], r["label"], r["annotators"]) for r in rows) == [
        ("Is there a fee for transfers?", "P", "I"), ("Where is my refund?", "P", "A")]
    rows[0]["person"], rows[1]["person"] = rows[0]["annotators"], rows[1]["label"]
    assert tally(rows)["all"] == {"annotators": 1, "label": 1, "neither": 0}
    sheet = tmp_path / "check.csv"
    rows[0]["person"] = "X"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert main(["--checked", str(sheet)]) == 2


def test_row_labels_release_page() -> None:
    """``benchmarks.row_labels_release`` trains real candidates (needs the tier corpus, not in CI): its page."""
    from benchmarks.row_labels_release import BARS, _markdown

    row = {"candidate": "message labels, source power 0.75", "loso_mean": 0.7239, "loso_lowest": 0.486, "banking_held_out": 0.7179,
           "in_domain": 0.9241, "field_example": 0.3651, "evaluation_only_mean": 0.7934, "rows_fitted_on_another_tier": 830}
    page = _markdown({"machine": {"date_utc": "-", "cpu": "-", "usable_cores": 2, "python": "-", "versions": {}},
                      "bars": BARS, "candidates": [row]})
    assert "| message labels, source power 0.75 | 0.7239 | 0.486 | 0.718 | 0.9241 | 0.3651 | 0.7934 | 830 |" in page
    assert "in domain >= 0.92" in page and "intent-level" in page


def test_queues_keep_a_small_training_source_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks._queues``: a corpus source gets two intent-half queues when they reach
    ``MIN_ROWS``; one whose halves are all smaller is a single queue of all its rows, never dropped."""
    import polars as pl

    import benchmarks._queues as queues

    rows = [{"text": f"big {i} {j}", "intent": f"b{i}", "tier": "informational", "source": "big"} for i in range(10) for j in range(80)]
    rows += [{"text": f"small {i} {j}", "intent": f"s{i}", "tier": "personalized", "source": "small"} for i in range(4) for j in range(50)]
    corpus = tmp_path / "corpus.parquet"
    pl.DataFrame(rows).write_parquet(corpus)
    bank = tmp_path / "bank.csv"
    pl.DataFrame({"text": [f"b77 {i} {j}" for i in range(30) for j in range(2)], "intent": [f"i{i}" for i in range(30) for _ in range(2)],
                  "tier": ["action_led"] * 60}).write_csv(bank)
    monkeypatch.setattr(queues, "CORPUS", corpus)
    monkeypatch.setattr(queues, "BANKING77", bank)
    frames = {name: (source, part.height) for name, source, part in queues._frames()}
    assert frames["big/q1"] == ("big", 400) and frames["big/q2"] == ("big", 400)
    assert frames["small/all"] == ("small", 200) and not any(n.startswith("small/q") for n in frames)
    assert {n for n in frames if n.startswith("banking77/")} == {"banking77/q1", "banking77/q2", "banking77/q3"}


def test_loso_intervals_match_the_card_figures_and_resample_whole_intents() -> None:
    """``benchmarks.loso_intervals`` needs the held-out heads (not in CI): its figures from per-intent
    sums equal the card's functions on the rows, an intent's messages are drawn together, and a
    source read perfectly has a point interval."""
    import numpy as np

    from benchmarks.loso_intervals import intervals, macro_f1_from, per_intent, share_error_from
    from taxonomy.schema import TIERS
    from taxonomy.tiers.evaluate import macro_f1, share_errors

    rng = np.random.default_rng(0)
    n = 400
    intents = rng.choice([f"i{k}" for k in range(12)], size=n)
    truth = np.array([TIERS[int(i[1:]) % 2] for i in intents])  # two tiers only: the third is left out of the mean
    proba = rng.dirichlet([1, 1, 1], size=n)
    pred = np.asarray(TIERS)[proba.argmax(axis=1)]
    confusion, counts, summed = per_intent(truth, pred, proba, intents)
    assert confusion.shape == (12, 3, 3) and counts.sum() == n
    assert float(macro_f1_from(confusion.sum(axis=0))) == pytest.approx(macro_f1(truth, pred))
    assert float(share_error_from(counts.sum(axis=0), summed.sum(axis=0))) == pytest.approx(
        share_errors(truth, proba)["max_abs_error"], abs=1e-4)
    perfect = per_intent(truth, truth, np.eye(3)[[TIERS.index(t) for t in truth]], intents)
    out = intervals({"noisy": (confusion, counts, summed), "perfect": perfect, "seed": perfect}, draws=300)
    assert out["real_sources"] == ["noisy", "perfect"]  # our own seed set is never in the mean
    assert out["sources"]["perfect"]["macro_f1_interval"] == (1.0, 1.0)
    lo, hi = out["sources"]["noisy"]["macro_f1_interval"]
    assert lo < out["sources"]["noisy"]["macro_f1"] < hi
    assert out["mean"] == pytest.approx((1.0 + out["sources"]["noisy"]["macro_f1"]) / 2)
    assert out["mean_interval_between"][0] <= out["sources"]["noisy"]["macro_f1"] + 1e-12
    assert out["mean_interval_between"][1] == 1.0
    assert intervals({"noisy": (confusion, counts, summed)}, draws=300) == intervals({"noisy": (confusion, counts, summed)}, draws=300)


def test_loso_intervals_paired_differences_resample_the_same_intents_for_both_models() -> None:
    """``benchmarks.loso_intervals --against``: a model against itself differs by exactly nothing in
    every draw; a model that reads every row right is better in every draw than one that does not."""
    import numpy as np

    from benchmarks.loso_intervals import paired, per_intent
    from taxonomy.schema import TIERS

    rng = np.random.default_rng(1)
    n = 300
    intents = rng.choice([f"i{k}" for k in range(10)], size=n)
    truth = np.array([TIERS[int(i[1:]) % 3] for i in intents])
    proba = rng.dirichlet([1, 1, 1], size=n)
    noisy = {"a": per_intent(truth, np.asarray(TIERS)[proba.argmax(axis=1)], proba, intents)}
    perfect = {"a": per_intent(truth, truth, np.eye(3)[[TIERS.index(t) for t in truth]], intents)}
    same = paired(noisy, noisy, draws=200)
    assert same["difference"] == 0.0 and same["interval"] == (0.0, 0.0) and same["p_better"] == 0.0
    better = paired(perfect, noisy, draws=200)
    assert better["difference"] > 0.3 and better["interval"][0] > 0 and better["p_better"] == 1.0
    assert better["sources"]["a"]["difference"] == better["difference"]  # one source: the mean is that source
