"""Topic-name fidelity on Banking77 (training split): does a topic's name say what its messages ask?

Run from the repository root::

    .venv/bin/python -m benchmarks.topic_names_banking77        # ~2 min on 2 shared cores

Method (issue 16): seeded random 3,080-row subsets of the training split (like the size of the
Banking77 test split, which we never use), topics from ``discover_topics`` (onnx embeddings, the
default backend). Each topic's true intent is the majority intent of its messages. Every name
variant and the 77 Banking77 intent names (underscores as spaces; the 14 intents absent from our
tiered training file stay in as distractors) are embedded with the same model; a topic's name
scores top-1 when the nearest intent name is its true intent, top-3 when it is among the three
nearest. Both are weighted by topic size (share of conversations). Variants:

- ``keywords``: the c-TF-IDF label used before issue 16 ("came / want");
- ``central message``: the message closest to the topic centroid, whole;
- ``names``: :func:`taxonomy.topics.names.name_topics` (the published names);
- ``centroid`` (a reference, not a text): the centroid vector itself retrieving intent names.

Also timed: naming alone (the extra embedder pass over candidate phrases included) against
``discover_topics`` without names. Writes ``benchmarks/results/topic_names_banking77.{json,md}``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import polars as pl

from benchmarks._common import ATTRIBUTION, BANKING77, cached_vectors, machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.topics import discover_topics
from taxonomy.topics.cluster import _normalise
from taxonomy.topics.labels import label_from_keywords
from taxonomy.topics.names import name_topics

PACKAGES = ["numpy", "polars", "onnxruntime", "scikit-learn"]
# Banking77 intents that our tiered training file does not hold (names only: no text of theirs is used).
ABSENT_INTENTS = [
    "card_about_to_expire", "card_delivery_estimate", "card_linking", "card_not_working",
    "card_payment_wrong_exchange_rate", "contactless_not_working", "get_physical_card", "lost_or_stolen_phone",
    "passcode_forgotten", "top_up_reverted", "unable_to_verify_identity", "verify_top_up",
    "virtual_card_not_working", "wrong_exchange_rate_for_cash_withdrawal",
]


def fidelity(vectors: np.ndarray, intent_vectors: np.ndarray, targets: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """Size-weighted top-1 and top-3 retrieval of each topic's true intent name."""
    order = np.argsort(-(vectors @ intent_vectors.T), axis=1, kind="stable")
    top1 = order[:, 0] == targets
    top3 = (order[:, :3] == targets[:, None]).any(axis=1)
    w = sizes / sizes.sum()
    return float((w * top1).sum()), float((w * top3).sum())


def evaluate(frame: pl.DataFrame, vectors: np.ndarray, seed: int, embedder: Any, intents: list[str],
             intent_vectors: np.ndarray) -> dict[str, Any]:
    rows = frame.sample(n=3080, seed=seed, shuffle=True)
    df = rows.select(pl.format("c{}", pl.col("row")).alias("conversation_id"), "text", "intent")
    x = vectors[rows["row"].to_numpy()]
    started = time.perf_counter()
    plain = discover_topics(df.select("conversation_id", "text"), x)
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    named = discover_topics(df.select("conversation_id", "text"), x, embed=embedder.encode)
    named_s = time.perf_counter() - started
    members = df.with_row_index("i").join(named.assignments, on="conversation_id")
    per_topic = members.group_by("topic_id").agg(
        pl.col("intent").mode().sort().first().alias("true_intent"), pl.len().alias("n"), pl.col("i"), pl.col("text"))
    topics = named.topics.join(per_topic, on="topic_id").sort("topic_id")
    texts = dict(zip(df["conversation_id"].to_list(), df["text"].to_list()))
    centroids = _normalise(np.stack([x[np.array(i)].sum(axis=0) for i in topics["i"]]).astype(np.float64))
    targets = np.array([intents.index(t) for t in topics["true_intent"]])
    sizes = topics["n"].to_numpy().astype(np.float64)
    variants = {
        "keywords": embedder.encode([label_from_keywords(k) for k in topics["keywords"].to_list()]),
        "central message": embedder.encode([texts[e[0]] for e in topics["example_conversation_ids"]]),
        "names": embedder.encode(topics["label"].to_list()),
        "centroid": centroids,
    }
    started = time.perf_counter()
    name_topics(topics["text"].to_list(), centroids, [[texts[i] for i in e] for e in topics["example_conversation_ids"]],
                embedder.encode)
    naming_s = time.perf_counter() - started
    out: dict[str, Any] = {"seed": seed, "rows": df.height, "topics": topics.height, "discover_s": plain_s,
                           "discover_named_s": named_s, "naming_s": naming_s}
    for name, v in variants.items():
        out[f"{name} top1"], out[f"{name} top3"] = fidelity(np.asarray(v, dtype=np.float64), intent_vectors, targets, sizes)
    out["examples"] = [{"true_intent": t, "name": n} for t, n in zip(topics["true_intent"].to_list()[:15], topics["label"].to_list()[:15])]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="seeded 3,080-row subsets")
    args = parser.parse_args(argv)
    from taxonomy.embed import get_embedder

    info = machine(PACKAGES)
    frame = pl.read_csv(BANKING77, columns=["text", "intent"]).with_row_index("row")
    embedder = get_embedder("onnx")
    vectors, _ = cached_vectors(embedder, frame["text"].to_list())
    intents = sorted(set(frame["intent"].to_list()) | set(ABSENT_INTENTS))
    intent_vectors = np.asarray(embedder.encode([i.replace("_", " ").replace("?", "").strip() for i in intents]), dtype=np.float64)
    runs = []
    for seed in range(args.repeats):
        run = evaluate(frame, vectors, seed, embedder, intents, intent_vectors)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in run.items() if k != "examples"}, flush=True)
        runs.append(run)
    stamp_end(info)
    variants = ["keywords", "central message", "names", "centroid"]
    table = markdown_table(
        ["variant", "top-1 (size-weighted)", "top-3 (size-weighted)", "top-1 per seed"],
        [[v, float(np.mean([r[f"{v} top1"] for r in runs])), float(np.mean([r[f"{v} top3"] for r in runs])),
          ", ".join(f"{r[f'{v} top1']:.3f}" for r in runs)] for v in variants])
    timing = markdown_table(
        ["seed", "topics", "discover_topics without names (s)", "with names (s)", "naming alone (s)"],
        [[r["seed"], r["topics"], r["discover_s"], r["discover_named_s"], r["naming_s"]] for r in runs])
    examples = markdown_table(["true intent", "name"], [[e["true_intent"], e["name"]] for e in runs[0]["examples"]])
    markdown = (
        "# Topic-name fidelity on Banking77 (train split)\n\n" + machine_markdown(info) + "\n\n"
        f"Command: `.venv/bin/python -m benchmarks.topic_names_banking77 --repeats {args.repeats}`\n\n"
        "Each topic's name and the 77 intent names embedded with all-MiniLM-L6-v2 (onnx int8); a hit when "
        "the nearest intent name is the topic's majority intent; weighted by topic size.\n\n" + table
        + "\n\nCost of naming (3,080 rows, embeddings precomputed; naming embeds up to 20 candidate phrases "
        "per topic):\n\n" + timing + "\n\nFirst names of seed 0:\n\n" + examples + "\n\n" + ATTRIBUTION + "\n"
    )
    write_results("topic_names_banking77", {"machine": info, "runs": runs}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
