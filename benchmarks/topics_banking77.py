"""Topic discovery quality and speed on Banking77 with the real all-MiniLM-L6-v2 embeddings.

Run from the repository root::

    .venv/bin/python -m benchmarks.topics_banking77                  # ~3 min on 2 shared cores
    .venv/bin/python -m benchmarks.topics_banking77 --cohesion 0.60 0.63 0.66   # tuning sweep

The target customer is one whose export is the Banking77 *test* split (3,080 messages,
77 intents, 40 each). We only hold the training split (8,399 rows, the 63 clearly-tiered
intents), so each scenario below mimics it from there, intents hidden from the method:

- ``random3080``: seeded random 3,080-row subsets (63 intents, about 49 rows each);
- ``balanced40``: 40 rows per intent, like the test split (2,520 rows);
- ``intents15``: all rows of 15 random intents: the number of topics must follow the data;
- ``full``: all 8,399 rows (Ward on a sample, as for every window above ``MAX_EXACT_ROWS``,
  2,500 rows: ``random3080`` and ``balanced40`` take that path too).

For each run: NMI and ARI between topics and intents ("other" counts as one topic), the
number of topics chosen, the share in "other", and the wall time of ``discover_topics``
(clustering, labels and id matching, embeddings precomputed). The reference is k-means
told the true number of intents (``n_init=10``) on the same rows.

Embeddings are cached in ``.cache/banking77/`` (git-ignored), computed once with
``SentenceTransformerEmbedder`` when missing. Writes ``benchmarks/results/topics_banking77.{json,md}``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks._common import (
    ATTRIBUTION, BANKING77, ROOT, machine, machine_markdown, markdown_table, stamp_end, write_results,
)
from taxonomy.config import TopicsConfig
from taxonomy.topics import COHESION, OTHER_TOPIC_ID, discover_topics

CACHE = ROOT / ".cache" / "banking77" / "train_minilm.npy"
PACKAGES = ["scikit-learn", "scipy", "numpy", "polars", "sentence-transformers", "torch"]


def load() -> tuple[pl.DataFrame, np.ndarray]:
    """The training split with a row index, and its MiniLM embeddings (cached)."""
    frame = pl.read_csv(BANKING77, columns=["text", "intent"]).with_row_index("row")
    if CACHE.exists():
        vectors = np.load(CACHE)
        if len(vectors) == frame.height:
            return frame, vectors
    from taxonomy.embed import SentenceTransformerEmbedder

    vectors = SentenceTransformerEmbedder(batch_size=64).encode(frame["text"].to_list())
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    np.save(CACHE, vectors)
    return frame, vectors


def scenarios(frame: pl.DataFrame, repeats: int) -> list[tuple[str, int, pl.DataFrame]]:
    """(name, seed, rows) for every evaluated subset."""
    out = []
    for seed in range(repeats):
        out.append(("random3080", seed, frame.sample(n=3080, seed=seed, shuffle=True)))
        balanced = frame.filter(pl.int_range(pl.len()).shuffle(seed=seed).over("intent") < 40)
        out.append(("balanced40", seed, balanced))
        intents = frame["intent"].unique().sort().sample(n=15, seed=seed)
        out.append(("intents15", seed, frame.filter(pl.col("intent").is_in(intents.implode()))))
    out.append(("full", 0, frame))
    return out


def evaluate(rows: pl.DataFrame, vectors: np.ndarray, cohesion: float, seed: int) -> dict[str, Any]:
    """Run discover_topics on ``rows`` and score it against the hidden intents."""
    df = rows.select(pl.format("c{}", pl.col("row")).alias("conversation_id"), "text", "intent")
    emb = vectors[rows["row"].to_numpy()]
    start = time.perf_counter()
    result = discover_topics(df.select("conversation_id", "text"), emb, config=TopicsConfig(), cohesion=cohesion)
    seconds = time.perf_counter() - start
    topics = result.assignments["topic_id"].to_numpy()
    intents = df["intent"].to_numpy()
    n_intents = len(set(intents))
    km = KMeans(n_clusters=n_intents, n_init=10, random_state=seed).fit(emb)
    return {
        "rows": df.height,
        "intents": n_intents,
        "topics": int(result.topics.filter(pl.col("topic_id") != OTHER_TOPIC_ID).height),
        "other_share": float((topics == OTHER_TOPIC_ID).mean()),
        "nmi": float(normalized_mutual_info_score(intents, topics)),
        "ari": float(adjusted_rand_score(intents, topics)),
        "seconds": seconds,
        "kmeans_true_k_nmi": float(normalized_mutual_info_score(intents, km.labels_)),
        "kmeans_true_k_ari": float(adjusted_rand_score(intents, km.labels_)),
    }


def embedding_rate(texts: list[str]) -> dict[str, float]:
    """Messages/s of the real embedder on ``texts`` (after a warm-up), for the time ratio."""
    from taxonomy.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(batch_size=64)
    embedder.encode(texts[:64])  # load and warm up
    start = time.perf_counter()
    embedder.encode(texts)
    seconds = time.perf_counter() - start
    return {"embed_rows": len(texts), "embed_seconds": seconds, "embed_messages_per_s": len(texts) / seconds}


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean (and min NMI) per cohesion and scenario."""
    frame = pl.DataFrame(runs)
    return (
        frame.group_by("cohesion", "scenario", maintain_order=True)
        .agg(
            pl.len().alias("runs"), pl.col("rows").mean(), pl.col("intents").mean(), pl.col("topics").mean(),
            pl.col("nmi").mean().alias("nmi"), pl.col("nmi").min().alias("nmi_min"), pl.col("ari").mean(),
            pl.col("other_share").mean(), pl.col("seconds").median().alias("seconds_median"),
            pl.col("kmeans_true_k_nmi").mean(), pl.col("kmeans_true_k_ari").mean(),
        )
        .to_dicts()
    )


def _embed_line(embed: dict[str, float], summary: list[dict[str, Any]]) -> str:
    """Topic time against embedding time for the same 3,080 rows, same machine and load."""
    if not embed:
        return ""
    topic_s = next(s["seconds_median"] for s in summary if s["scenario"] == "random3080")
    return (
        f"Embedding the same 3,080 texts with all-MiniLM-L6-v2 (torch, CPU) took {embed['embed_seconds']:.1f} s "
        f"({embed['embed_messages_per_s']:.0f} msg/s); topic discovery adds {topic_s:.1f} s "
        f"({topic_s / embed['embed_seconds']:.0%} of the embedding time).\n\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohesion", type=float, nargs="+", default=[COHESION])
    parser.add_argument("--repeats", type=int, default=3, help="seeds per scenario")
    parser.add_argument("--no-embed-timing", action="store_true", help="skip timing the real embedder")
    args = parser.parse_args(argv)
    info = machine(PACKAGES)
    frame, vectors = load()
    runs = []
    for name, seed, rows in scenarios(frame, args.repeats):
        for cohesion in args.cohesion:
            run = {"scenario": name, "seed": seed, "cohesion": cohesion, **evaluate(rows, vectors, cohesion, seed)}
            print({k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()}, flush=True)
            runs.append(run)
    summary = summarise(runs)
    first = next(rows for name, _, rows in scenarios(frame, 1) if name == "random3080")
    embed = embedding_rate(first["text"].to_list()) if not args.no_embed_timing else {}
    stamp_end(info)
    header = ["cohesion", "scenario", "runs", "rows", "intents", "topics", "NMI", "NMI min", "ARI",
              "other share", "seconds (median)", "k-means true k NMI", "k-means true k ARI"]
    table = markdown_table(header, [list(s.values()) for s in summary])
    markdown = (
        "# Topic discovery on Banking77 (train split)\n\n" + machine_markdown(info) + "\n\n"
        "Command: `.venv/bin/python -m benchmarks.topics_banking77 "
        + "--cohesion " + " ".join(str(c) for c in args.cohesion) + f" --repeats {args.repeats}`\n\n"
        + table + "\n\nNMI/ARI: topics (\"other\" as one topic) against the hidden intents; seconds: "
        "`discover_topics` wall time with embeddings precomputed. Reference: k-means told the true "
        "number of intents.\n\n" + _embed_line(embed, summary) + ATTRIBUTION + "\n"
    )
    write_results("topics_banking77", {"machine": info, "summary": summary, "embedding": embed, "runs": runs}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
