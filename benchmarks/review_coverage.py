"""90% intervals after a full review, on real queues: do they still hold the truth?

Run from the repository root (the tier corpus must be built, see :mod:`benchmarks._queues`)::

    .venv/bin/python -m benchmarks.review_coverage     # about 2 minutes on 2 cores, heads cached

Every queue of :mod:`benchmarks._queues` (real phrasing, gold tiers from the reviewed mappings,
seeded synthetic handle times; each scored by a head that never saw its source) goes through the
real topic stage, and a simulated reviewer then reviews **every** topic but ``other``, as
``benchmarks/review_simulation.py``'s reviewer does: it reads the messages the sheet shows
(:func:`taxonomy.review.sheet.spread`, ``SPLIT_SAMPLE`` of them), each tiered right; a topic whose
shown messages are all one tier gets that tier, any other is split, those messages keep their tiers
and the others are inferred by :mod:`taxonomy.review.match`. The intervals are then those of
:mod:`taxonomy.uncertainty` on the reviewed rows; a (queue, tier) pair is covered when its interval
holds the true hours share. For comparison, the same is run with a reviewer who knows every
message's tier (one tier when at least ``PURE`` of a topic's hours are that tier, else split): no
person can do that, so its figures are never the ones shipped.

What is left after a full review is what a person's answers cannot fix, and the benchmark splits each
(queue, tier) pair's error into those parts (:data:`PARTS`): the model's rows of ``other`` (no
reviewer sees them), the inferred rows of split topics, and the other tiers inside a topic reviewed
as one (a person's tiered messages are exact). It also says how much of a topic reviewed as one
tier's hours are in fact another tier.

Also measured: the effective sample size ``(sum w)^2 / sum w^2`` of each split topic's tiered
messages (the sheet reviewer's splits), ``w`` the hours each stands for (the rows nearest it). It sets
``taxonomy.uncertainty.SPLIT_EFFECTIVE`` from the weights alone, never from coverage; the
intervals are reported at that value and, for comparison, as if the shown messages were a random
sample (``SPLIT_SAMPLE``). Writes ``benchmarks/results/review_coverage.{json,md}`` and records the
shipped intervals' check (the sheet reviewer's) as ``after_review`` in the CURRENT model's entry of
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


# Where the error after a full review comes from: a row's part (``_part``, set by :func:`reviewed`).
PARTS = {"other": "`other` topic (the model's tiers)", "inferred": "split topics' inferred rows",
         "one tier": "topics reviewed as one tier", "tiered": "messages a person tiered"}


def reviewed(df: pl.DataFrame, vectors: np.ndarray, reviewer: str = "sheet") -> tuple[pl.DataFrame, list[float]]:
    """The queue with every topic but ``other`` reviewed by the simulated reviewer, and the
    effective sample size of each split topic's tiered messages. Column ``_part`` says which of
    :data:`PARTS` each row's tier comes from. ``reviewer``: ``sheet`` (shipped) knows only what the
    sheet shows: one tier when every message shown is that tier, else split; ``pure`` gives a topic
    one tier when at least ``PURE`` of its hours are that tier (it knows every message's tier, as
    ``benchmarks/review_simulation.py``'s comparison reviewer)."""
    x = _unit(vectors)
    ids = df["conversation_id"].to_list()
    texts = dict(zip(ids, df["text"].to_list()))
    gold, hours = np.array(df["gold"].to_list()), df["handle_time_seconds"].to_numpy()
    proba = np.column_stack([df[f"p_{t}"].to_numpy() for t in TIERS]).astype(np.float64)
    source = np.array(df["tier_source"].to_list(), dtype=object)
    topic = np.array(df["topic_id"].fill_null(OTHER_TOPIC_ID).to_list(), dtype=object)
    effective = []
    part = np.where(topic == OTHER_TOPIC_ID, "other", "inferred").astype(object)
    for tid in sorted(set(topic) - {OTHER_TOPIC_ID}):
        rows = np.flatnonzero(topic == tid)
        by_tier = np.array([hours[rows][gold[rows] == t].sum() for t in TIERS])
        source[rows] = "review"
        lead = int(by_tier.argmax())
        one = reviewer == "pure" and by_tier[lead] >= PURE * by_tier.sum()
        if not one:
            shown = spread([ids[i] for i in rows], {ids[i]: x[i] for i in rows}, uncertainty.SPLIT_SAMPLE, texts)
            at = {c: j for j, c in enumerate(ids[i] for i in rows)}
            seen = {gold[rows[at[c]]] for c in shown}
            if reviewer == "sheet" and len(seen) == 1:  # every message shown is the same tier
                one, lead = True, TIERS.index(seen.pop())
        if one:
            proba[rows] = np.eye(len(TIERS))[lead]
            part[rows] = "one tier"
            continue
        messages = pl.DataFrame({"review_id": ["r"] * len(shown), "conversation_id": shown, "labelled": [True] * len(shown),
                                 "tier": [gold[rows[at[c]]] for c in shown]})
        proba[rows] = _split_proba("r", rows, df, messages, x)
        tiered = rows[[at[c] for c in shown]]
        part[tiered] = "tiered"
        nearest = np.argmax(np.round(x[rows] @ x[tiered].T, 6), axis=1)
        w = np.bincount(nearest, weights=hours[rows], minlength=len(tiered))
        effective.append(float(w.sum() ** 2 / (w ** 2).sum()))
    frame = df.with_columns(pl.Series("tier_source", source.tolist()), pl.Series("tier", np.array(TIERS)[proba.argmax(axis=1)].tolist()),
                            *[pl.Series(f"p_{t}", proba[:, i]) for i, t in enumerate(TIERS)], pl.Series("_part", part.tolist()))
    return frame, effective


def one_tier_residual(frame: pl.DataFrame) -> list[float]:
    """For each topic reviewed as one tier: the share of its hours whose gold tier is another."""
    out = []
    for (_,), g in frame.filter(pl.col("_part") == "one tier").group_by("topic_id"):
        h = g["handle_time_seconds"].to_numpy()
        out.append(float(h[np.array(g["gold"].to_list()) != g["tier"][0]].sum() / h.sum()))
    return out


def coverage(frames: list[tuple[str, pl.DataFrame]], params: uncertainty.UncertaintyParams, rates: dict[str, float]) -> list[dict]:
    """Per (queue, tier): the published point, the truth, the interval and whether it holds the truth."""
    out = []
    for name, frame in frames:
        h = frame["handle_time_seconds"].to_numpy()
        proba = np.column_stack([frame[f"p_{t}"].to_numpy() for t in TIERS])
        gold = np.array(frame["gold"].to_list())
        points = {f"handle_time_share_{t}": float((proba[:, i] * h).sum() / h.sum()) for i, t in enumerate(TIERS)}
        fields = uncertainty.interval_fields(frame, rates, points, params)
        part = np.array(frame["_part"].to_list()) if "_part" in frame.columns else np.full(len(h), "other")
        for i, t in enumerate(TIERS):
            lo, hi, truth = fields[f"handle_time_share_{t}_low"], fields[f"handle_time_share_{t}_high"], float(h[gold == t].sum() / h.sum())
            # point - truth, summed over each part's rows: the parts add up to the pair's whole error
            err = (proba[:, i] - (gold == t)) * h / h.sum()
            out.append({"queue": name, "tier": t, "point": points[f"handle_time_share_{t}"], "truth": truth, "low": lo, "high": hi,
                        "inside": bool(lo - 1e-9 <= truth <= hi + 1e-9), "error_by_part": {k: float(err[part == k].sum()) for k in PARTS}})
    return out


def summary(pairs: list[dict]) -> dict:
    missed = [p for p in pairs if not p["inside"]]
    return {"pairs": len(pairs), "coverage": float(np.mean([p["inside"] for p in pairs])),
            "mean_width": float(np.mean([p["high"] - p["low"] for p in pairs])),
            "mean_error": float(np.mean([abs(p["point"] - p["truth"]) for p in pairs])),
            "max_error": float(max(abs(p["point"] - p["truth"]) for p in pairs)),
            # mean |error| each part leaves, over every pair and over the pairs the intervals miss
            "error_by_part": {k: float(np.mean([abs(p["error_by_part"][k]) for p in pairs])) for k in PARTS},
            "missed_error_by_part": {k: float(np.mean([abs(p["error_by_part"][k]) for p in missed])) if missed else 0.0 for k in PARTS}}


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    info = machine(["numpy", "polars", "onnxruntime"])
    started = time.perf_counter()
    queues, model = load_queues()
    params = uncertainty.calibration(model.version)
    rates = Config().scoring.default_rates
    frames, pure_frames, effective, reviewed_share, residual = [], [], [], [], []
    for queue in queues:
        df, _ = topic_rows(queue)
        frame, eff = reviewed(df, queue.vectors)
        frames.append((queue.name, frame))
        pure_frames.append((queue.name, reviewed(df, queue.vectors, "pure")[0]))
        effective += eff
        residual += one_tier_residual(frame)
        reviewed_share.append(float(frame.filter(pl.col("tier_source") == "review")["handle_time_seconds"].sum() / frame["handle_time_seconds"].sum()))
    shipped = uncertainty.SPLIT_EFFECTIVE
    runs = {}
    for label, value in ((f"SPLIT_EFFECTIVE {shipped:g} (shipped), reviewer who sees only the sheet", shipped),
                         (f"as a random sample of {uncertainty.SPLIT_SAMPLE}, the same reviewer", float(uncertainty.SPLIT_SAMPLE))):
        uncertainty.SPLIT_EFFECTIVE = value
        pairs = coverage(frames, params, rates)
        runs[label] = {"value": value, **summary(pairs), "pairs_detail": pairs}
    uncertainty.SPLIT_EFFECTIVE = shipped
    pairs = coverage(pure_frames, params, rates)  # the comparison reviewer, who knows every message's tier
    runs[f"SPLIT_EFFECTIVE {shipped:g}, reviewer who knows every message's tier (no person can)"] = {"value": shipped, **summary(pairs), "pairs_detail": pairs}
    e = np.array(effective)
    data = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - started, 1), "model_under_test": model.describe(),
            "pure_threshold": PURE, "shown": uncertainty.SPLIT_SAMPLE, "queues": len(frames), "reviewed_hours_share_mean": float(np.mean(reviewed_share)),
            "split_topics": len(e), "effective_sample": {"median": float(np.median(e)), "mean": float(e.mean()),
                                                         "q10": float(np.quantile(e, 0.1)), "q90": float(np.quantile(e, 0.9))},
            "one_tier_topics": {"topics": len(residual), "other_tier_hours_mean": float(np.mean(residual)),
                                "without_other_tier": float(np.mean(np.array(residual) == 0)),
                                "other_tier_hours_q90": float(np.quantile(residual, 0.9))},
            "runs": runs}
    write_results("review_coverage", data, _markdown(data))
    print(_markdown(data))
    shipped_run = next(iter(runs.values()))
    _ship(model.version, {"coverage": round(shipped_run["coverage"], 4), "checks": shipped_run["pairs"], "queues": len(frames),
                          "mean_width": round(shipped_run["mean_width"], 4), "mean_error": round(shipped_run["mean_error"], 4),
                          "max_error": round(shipped_run["max_error"], 4)})


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
    table = markdown_table(["inferred mix drawn as (reviewer)", "pairs", "coverage", "mean width, points", "mean |point - truth|, points", "largest, points"],
                           [[k, r["pairs"], f"{100 * r['coverage']:.0f}%", f"{100 * r['mean_width']:.1f}", f"{100 * r['mean_error']:.2f}",
                             f"{100 * r['max_error']:.1f}"] for k, r in d["runs"].items()])
    run = next(iter(d["runs"].values()))
    shipped = run["pairs_detail"]
    parts = [k for k in PARTS if k != "tiered"]  # a person's tiered messages are exact: no error
    by_part = markdown_table(["where the error comes from", "mean |error|, all pairs, points", "pairs the intervals miss, points"],
                             [[PARTS[k], f"{100 * run['error_by_part'][k]:.2f}", f"{100 * run['missed_error_by_part'][k]:.2f}"] for k in parts])
    misses = markdown_table(["queue", "tier", "point %", "truth %", "interval %", *[f"{PARTS[k]}, points" for k in parts]],
                            [[p["queue"], p["tier"], f"{100 * p['point']:.1f}", f"{100 * p['truth']:.1f}", f"{100 * p['low']:.1f}–{100 * p['high']:.1f}",
                              *[f"{100 * p['error_by_part'][k]:+.2f}" for k in parts]]
                             for p in shipped if not p["inside"]])
    one = d["one_tier_topics"]
    return "\n".join([
        "# 90% intervals after a full review, on real queues", "", machine_markdown(d["machine"]), "",
        f"- Model under test: {d['model_under_test']}", "",
        "Every queue of `benchmarks/_queues.py` (real phrasing, gold tiers, each scored by a head that never saw its source) "
        "goes through the real topic stage; a simulated reviewer then reviews every topic but `other`, knowing only what the "
        "sheet shows: one tier where every message the sheet shows is that tier, else `split`, tiering those messages and "
        "leaving the rest to `taxonomy.review.match`'s inference. A (queue, tier) pair is covered when the 90% interval holds "
        "the true hours share.", "",
        f"{d['queues']} queues; the reviewer reaches {100 * d['reviewed_hours_share_mean']:.0f}% of the hours on average (the rest is the "
        f"`other` topic). The last row's reviewer knows every message's tier, which no person does: a topic is one tier at "
        f"{100 * d['pure_threshold']:.0f}% of its hours, else split. The first row is what `after_review` records and the pages "
        "quote; the tables below are its.", "",
        f"**Effective sample of a split topic's tiered messages** ({d['split_topics']} split topics): median {e['median']:.1f}, "
        f"mean {e['mean']:.1f}, 10th-90th percentile {e['q10']:.1f}-{e['q90']:.1f}, of {d['shown']} shown.", "",
        table, "",
        "Still short of 90%. Where the error left after the review comes from (point minus truth, summed over each part's rows; "
        "the parts add up to the whole):", "", by_part, "",
        f"Of the {one['topics']} topics reviewed as one tier, {100 * one['without_other_tier']:.0f}% hold no message of another tier; "
        f"on average {100 * one['other_tier_hours_mean']:.1f}% of such a topic's hours are another tier (90th percentile "
        f"{100 * one['other_tier_hours_q90']:.1f}%). Pairs the shipped intervals miss:", "", misses, "",
        "Command: `.venv/bin/python -m benchmarks.review_coverage`.", ""])


if __name__ == "__main__":
    main()
