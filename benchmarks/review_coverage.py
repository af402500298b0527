"""90% intervals after a full review, on real queues: do they still hold the truth?

Run from the repository root (the tier corpus must be built, see :mod:`benchmarks._queues`)::

    .venv/bin/python -m benchmarks.review_coverage     # about 2 minutes on 2 cores, heads cached

Every queue of :mod:`benchmarks._queues` (real phrasing, gold tiers from the reviewed mappings,
seeded synthetic handle times; each scored by a head that never saw its source) goes through the
real topic stage, and a simulated reviewer then reviews **every** topic but ``other``, as
``benchmarks/review_simulation.py``'s does: a topic with at least ``PURE`` of its hours in one gold
tier gets that tier; any other is split, its reviewer tiers the messages the sheet would show
(:func:`taxonomy.review.sheet.spread`, ``SPLIT_SAMPLE`` of them) and the others are inferred by
:mod:`taxonomy.review.match`. The intervals are then those of :mod:`taxonomy.uncertainty` on the
reviewed rows; a (queue, tier) pair is covered when its interval holds the true hours share.

What is left after a full review is what a person's answers cannot fix: the inferred rows of split
topics, the other tiers inside a topic reviewed as one, and the model's rows of ``other``.

Also measured: the effective sample size ``(sum w)^2 / sum w^2`` of each split topic's tiered
messages, ``w`` the hours each stands for (the rows nearest it). It sets
``taxonomy.uncertainty.SPLIT_EFFECTIVE`` from the weights alone, never from coverage; the
intervals are reported at that value and, for comparison, as if the shown messages were a random
sample (``SPLIT_SAMPLE``). Writes ``benchmarks/results/review_coverage.{json,md}`` and records the
shipped intervals' check as ``after_review`` in the CURRENT model's entry of
``models/tier-classifier/uncertainty.json``, which the customer page and ``taxonomy run`` quote for a
customer whose hours are partly reviewed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

import taxonomy.uncertainty as uncertainty
from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from benchmarks._queues import load_queues, topic_rows
from benchmarks.review_simulation import PURE
from taxonomy.config import Config
from taxonomy.review.match import _split_proba, _unit
from taxonomy.review.sheet import spread
from taxonomy.schema import OTHER_TOPIC_ID, TIERS


def reviewed(df: pl.DataFrame, vectors: np.ndarray) -> tuple[pl.DataFrame, list[float]]:
    """The queue with every topic but ``other`` reviewed by the simulated reviewer, and the
    effective sample size of each split topic's tiered messages."""
    x = _unit(vectors)
    ids = df["conversation_id"].to_list()
    texts = dict(zip(ids, df["text"].to_list()))
    gold, hours = np.array(df["gold"].to_list()), df["handle_time_seconds"].to_numpy()
    proba = np.column_stack([df[f"p_{t}"].to_numpy() for t in TIERS]).astype(np.float64)
    source = np.array(df["tier_source"].to_list(), dtype=object)
    topic = np.array(df["topic_id"].fill_null(OTHER_TOPIC_ID).to_list(), dtype=object)
    effective = []
    for tid in sorted(set(topic) - {OTHER_TOPIC_ID}):
        rows = np.flatnonzero(topic == tid)
        by_tier = np.array([hours[rows][gold[rows] == t].sum() for t in TIERS])
        source[rows] = "review"
        lead = int(by_tier.argmax())
        if by_tier[lead] >= PURE * by_tier.sum():
            proba[rows] = np.eye(len(TIERS))[lead]
            continue
        shown = spread([ids[i] for i in rows], {ids[i]: x[i] for i in rows}, uncertainty.SPLIT_SAMPLE, texts)
        at = {c: j for j, c in enumerate(ids[i] for i in rows)}
        messages = pl.DataFrame({"review_id": ["r"] * len(shown), "conversation_id": shown, "labelled": [True] * len(shown),
                                 "tier": [gold[rows[at[c]]] for c in shown]})
        proba[rows] = _split_proba("r", rows, df, messages, x)
        tiered = rows[[at[c] for c in shown]]
        nearest = np.argmax(np.round(x[rows] @ x[tiered].T, 6), axis=1)
        w = np.bincount(nearest, weights=hours[rows], minlength=len(tiered))
        effective.append(float(w.sum() ** 2 / (w ** 2).sum()))
    frame = df.with_columns(pl.Series("tier_source", source.tolist()), pl.Series("tier", np.array(TIERS)[proba.argmax(axis=1)].tolist()),
                            *[pl.Series(f"p_{t}", proba[:, i]) for i, t in enumerate(TIERS)])
    return frame, effective


def coverage(frames: list[tuple[str, pl.DataFrame]], params: uncertainty.UncertaintyParams, rates: dict[str, float]) -> list[dict]:
    """Per (queue, tier): the published point, the truth, the interval and whether it holds the truth."""
    out = []
    for name, frame in frames:
        h = frame["handle_time_seconds"].to_numpy()
        proba = np.column_stack([frame[f"p_{t}"].to_numpy() for t in TIERS])
        gold = np.array(frame["gold"].to_list())
        points = {f"handle_time_share_{t}": float((proba[:, i] * h).sum() / h.sum()) for i, t in enumerate(TIERS)}
        fields = uncertainty.interval_fields(frame, rates, points, params)
        for t in TIERS:
            lo, hi, truth = fields[f"handle_time_share_{t}_low"], fields[f"handle_time_share_{t}_high"], float(h[gold == t].sum() / h.sum())
            out.append({"queue": name, "tier": t, "point": points[f"handle_time_share_{t}"], "truth": truth, "low": lo, "high": hi,
                        "inside": bool(lo - 1e-9 <= truth <= hi + 1e-9)})
    return out


def summary(pairs: list[dict]) -> dict:
    return {"pairs": len(pairs), "coverage": float(np.mean([p["inside"] for p in pairs])),
            "mean_width": float(np.mean([p["high"] - p["low"] for p in pairs])),
            "mean_error": float(np.mean([abs(p["point"] - p["truth"]) for p in pairs])),
            "max_error": float(max(abs(p["point"] - p["truth"]) for p in pairs))}


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    info = machine(["numpy", "polars", "onnxruntime"])
    started = time.perf_counter()
    queues, model = load_queues()
    params = uncertainty.calibration(model.version)
    rates = Config().scoring.default_rates
    frames, effective, reviewed_share = [], [], []
    for queue in queues:
        df, _ = topic_rows(queue)
        frame, eff = reviewed(df, queue.vectors)
        frames.append((queue.name, frame))
        effective += eff
        reviewed_share.append(float(frame.filter(pl.col("tier_source") == "review")["handle_time_seconds"].sum() / frame["handle_time_seconds"].sum()))
    shipped = uncertainty.SPLIT_EFFECTIVE
    runs = {}
    for label, value in ((f"SPLIT_EFFECTIVE {shipped:g} (shipped)", shipped), (f"as a random sample of {uncertainty.SPLIT_SAMPLE}", float(uncertainty.SPLIT_SAMPLE))):
        uncertainty.SPLIT_EFFECTIVE = value
        pairs = coverage(frames, params, rates)
        runs[label] = {"value": value, **summary(pairs), "pairs_detail": pairs}
    uncertainty.SPLIT_EFFECTIVE = shipped
    e = np.array(effective)
    data = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - started, 1), "model_under_test": model.describe(),
            "pure_threshold": PURE, "shown": uncertainty.SPLIT_SAMPLE, "queues": len(frames), "reviewed_hours_share_mean": float(np.mean(reviewed_share)),
            "split_topics": len(e), "effective_sample": {"median": float(np.median(e)), "mean": float(e.mean()),
                                                         "q10": float(np.quantile(e, 0.1)), "q90": float(np.quantile(e, 0.9))},
            "runs": runs}
    write_results("review_coverage", data, _markdown(data))
    print(_markdown(data))
    shipped_run = next(iter(runs.values()))
    _ship(model.version, {"coverage": round(shipped_run["coverage"], 4), "checks": shipped_run["pairs"], "queues": len(frames),
                          "mean_width": round(shipped_run["mean_width"], 4)})


def _ship(version: str, check: dict) -> None:
    """Record the check as ``after_review`` in the model version's calibration entry (written by
    ``benchmarks.uncertainty_coverage``; a version without one is left alone), for the pages to quote
    beside a reviewed customer's intervals (``taxonomy.uncertainty.held_out_check``)."""
    import json

    table = json.loads(uncertainty.CALIBRATION_FILE.read_text(encoding="utf-8")) if uncertainty.CALIBRATION_FILE.exists() else {}
    if version not in table:
        print(f"{uncertainty.CALIBRATION_FILE}: no entry for {version} (run benchmarks.uncertainty_coverage first); nothing recorded")
        return
    table[version]["after_review"] = check
    uncertainty.CALIBRATION_FILE.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _markdown(d: dict) -> str:
    e = d["effective_sample"]
    table = markdown_table(["inferred mix drawn as", "pairs", "coverage", "mean width, points", "mean |point - truth|, points", "largest, points"],
                           [[k, r["pairs"], f"{100 * r['coverage']:.0f}%", f"{100 * r['mean_width']:.1f}", f"{100 * r['mean_error']:.2f}",
                             f"{100 * r['max_error']:.1f}"] for k, r in d["runs"].items()])
    shipped = next(iter(d["runs"].values()))["pairs_detail"]
    misses = markdown_table(["queue", "tier", "point %", "truth %", "interval %"],
                            [[p["queue"], p["tier"], f"{100 * p['point']:.1f}", f"{100 * p['truth']:.1f}", f"{100 * p['low']:.1f}–{100 * p['high']:.1f}"]
                             for p in shipped if not p["inside"]])
    return "\n".join([
        "# 90% intervals after a full review, on real queues", "", machine_markdown(d["machine"]), "",
        f"- Model under test: {d['model_under_test']}", "",
        "Every queue of `benchmarks/_queues.py` (real phrasing, gold tiers, each scored by a head that never saw its source) "
        "goes through the real topic stage; a simulated reviewer then reviews every topic but `other`: one tier where a topic "
        "has that much of its hours in it, else `split`, tiering the messages the sheet shows and leaving the rest to "
        "`taxonomy.review.match`'s inference. A (queue, tier) pair is covered when the 90% interval holds the true hours share.", "",
        f"{d['queues']} queues; the reviewer reaches {100 * d['reviewed_hours_share_mean']:.0f}% of the hours on average (the rest is the "
        f"`other` topic); a topic is reviewed as one tier at {100 * d['pure_threshold']:.0f}% of its hours.", "",
        f"**Effective sample of a split topic's tiered messages** ({d['split_topics']} split topics): median {e['median']:.1f}, "
        f"mean {e['mean']:.1f}, 10th-90th percentile {e['q10']:.1f}-{e['q90']:.1f}, of {d['shown']} shown.", "",
        table, "",
        "Still short of 90%: a topic reviewed as one tier counts as wholly that tier, with no interval, and the errors that "
        "remain are a few points on a few queues. Pairs the shipped intervals miss:", "", misses, "",
        "Command: `.venv/bin/python -m benchmarks.review_coverage`.", ""])


if __name__ == "__main__":
    main()
