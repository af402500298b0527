"""Our topic stage against peers, side by side on the same embeddings (Banking77 training split).

Run from the repository root (BERTopic is a benchmark-only extra, never a runtime dependency)::

    .venv/bin/pip install 'bertopic>=0.17,<0.18'      # pulls umap-learn, hdbscan, numba
    .venv/bin/python -m benchmarks.peers_topics       # ~2-3 min on 2 shared cores

Three clusterers get the same vectors (``--backend``, torch by default; cached between runs):

- ``ours``: :func:`taxonomy.topics.cluster.discover_topics` (k from the data, small topics folded,
  "other" for the rest), including its c-TF-IDF labelling;
- ``bertopic``: ``BERTopic()`` with its defaults (UMAP 5-d cosine + HDBSCAN, c-TF-IDF), the UMAP
  given a ``random_state`` per round so a run can be repeated (BERTopic's own advice);
- ``kmeans_true_k``: scikit-learn k-means told the true number of intents (an oracle for k).

Per clusterer: wall time (median of rounds, interleaved), NMI and ARI against the intents with
outliers counted as one more cluster (what a reader of the report sees), NMI on the rows not
left as outliers, the share of outliers and the number of topics. Goal (issue 7): better NMI
than BERTopic with no outlier bucket, at >= 10x less clustering time.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from benchmarks._common import (
    ATTRIBUTION, banking77_sample, cached_vectors, machine, machine_markdown, markdown_table, stamp_end,
    write_results,
)

PACKAGES = ["bertopic", "umap-learn", "hdbscan", "scikit-learn", "numpy", "polars", "torch", "onnxruntime"]
Clusterer = Callable[[list[str], np.ndarray, int], np.ndarray]


def run_ours(texts: list[str], vectors: np.ndarray, seed: int) -> np.ndarray:
    """Labels from the project's topic stage; "other" becomes -1."""
    from taxonomy.config import TopicsConfig
    from taxonomy.topics import discover_topics

    frame = pl.DataFrame({"conversation_id": [f"c{i:06d}" for i in range(len(texts))], "text": texts})
    result = discover_topics(frame, vectors, config=TopicsConfig(seed=seed))
    ids = result.assignments["topic_id"].to_list()
    codes = {t: i for i, t in enumerate(sorted(set(ids) - {"other"}))}
    return np.array([codes.get(t, -1) for t in ids])


def run_bertopic(texts: list[str], vectors: np.ndarray, seed: int) -> np.ndarray:
    """Labels from BERTopic with its default UMAP (seeded) and HDBSCAN; -1 = outlier."""
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    topics, _ = BERTopic(umap_model=umap_model).fit_transform(texts, vectors)
    return np.asarray(topics)


def run_kmeans(k: int) -> Clusterer:
    """k-means told the true number of intents."""
    def cluster(_texts: list[str], vectors: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=k, random_state=seed).fit(vectors).labels_
    return cluster


def scores(labels: np.ndarray, intents: np.ndarray) -> dict[str, float]:
    """NMI/ARI (outliers as one cluster), NMI on non-outliers, outlier share, topic count."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    kept = labels >= 0
    return {
        "nmi": float(normalized_mutual_info_score(intents, labels)),
        "ari": float(adjusted_rand_score(intents, labels)),
        "nmi_non_outliers": float(normalized_mutual_info_score(intents[kept], labels[kept])) if kept.any() else 0.0,
        "outlier_share": float(1 - kept.mean()),
        "topics": int(len(set(labels[kept].tolist()))),
    }


def compare(clusterers: dict[str, Clusterer], texts: list[str], vectors: np.ndarray, intents: np.ndarray,
            rounds: int, seed: int) -> dict[str, Any]:
    """Interleaved rounds (order rotating); per clusterer the per-round seconds and scores and their medians."""
    names = list(clusterers)
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            started = time.perf_counter()
            labels = clusterers[name](texts, vectors, seed + r)
            runs[name].append({"seconds": time.perf_counter() - started, **scores(labels, intents)})
    out = {}
    for name in names:
        keys = runs[name][0].keys()
        out[name] = {"rounds": runs[name], **{f"median_{k}": float(np.median([x[k] for x in runs[name]])) for k in keys}}
    return out


def warm_up(clusterers: dict[str, Clusterer], texts: list[str], vectors: np.ndarray) -> dict[str, float]:
    """One small untimed run each, so numba's JIT compilation is not billed to BERTopic's rounds."""
    seconds = {}
    for name, cluster in clusterers.items():
        started = time.perf_counter()
        cluster(texts[:1000], vectors[:1000], 0)
        seconds[name] = time.perf_counter() - started
    return seconds


def run(n: int | None, backend: str, rounds: int, seed: int, only: list[str] | None) -> dict[str, Any]:
    """The whole benchmark; returns the results record."""
    from taxonomy.embed import get_embedder

    info = machine(PACKAGES)
    sample = banking77_sample(n, seed=seed)
    texts, intents = sample["text"].to_list(), sample["intent"].to_numpy()
    embedder = get_embedder(backend)
    vectors, embed_seconds = cached_vectors(embedder, texts)
    clusterers: dict[str, Clusterer] = {"ours": run_ours, "bertopic": run_bertopic,
                                        "kmeans_true_k": run_kmeans(len(set(intents.tolist())))}
    clusterers = {k: v for k, v in clusterers.items() if not only or k in only}
    warm = warm_up(clusterers, texts, vectors)
    results = compare(clusterers, texts, vectors, intents, rounds, seed)
    if "bertopic" in results:  # median of per-round ratios: a load spike hits one round, not one clusterer
        bert = [r["seconds"] for r in results["bertopic"]["rounds"]]
        for name in results:
            ratios = [b / r["seconds"] for b, r in zip(bert, results[name]["rounds"])]
            results[name]["time_vs_bertopic_per_round"] = ratios
            results[name]["time_vs_bertopic"] = float(np.median(ratios))
    return {
        "benchmark": "peers_topics", "machine": stamp_end(info), "data": ATTRIBUTION,
        "settings": {"rows": len(texts), "intents": int(len(set(intents.tolist()))), "rounds": rounds, "seed": seed,
                     "embeddings": embedder.version, "embed_seconds": embed_seconds},
        "warm_up_seconds": warm, "results": results,
    }


def to_markdown(result: dict[str, Any]) -> str:
    """The results page."""
    s, res = result["settings"], result["results"]
    rows = [[name, r["median_seconds"], f"{r['time_vs_bertopic']:.1f}x" if "time_vs_bertopic" in r else "n/a",
             r["median_nmi"], r["median_ari"], r["median_nmi_non_outliers"], f"{100 * r['median_outlier_share']:.1f}%",
             int(r["median_topics"])] for name, r in res.items()]
    table = markdown_table(["clusterer", "seconds (median)", "faster than BERTopic", "NMI", "ARI",
                            "NMI non-outliers", "outliers", "topics"], rows)
    return "\n".join([
        "# Topic stage vs peers (same embeddings)", "", machine_markdown(result["machine"]),
        f"- Sample: {s['rows']} texts, {s['intents']} intents; embeddings {s['embeddings']}; {s['rounds']} interleaved "
        "rounds, medians shown (speed: median of per-round ratios); NMI/ARI count outliers as one cluster.",
        f"- {result['data']}", "", table, "",
        "Command: `.venv/bin/python -m benchmarks.peers_topics` (see benchmarks/README.md).",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=None, help="rows of the training split (default: all)")
    parser.add_argument("--backend", default="torch", help="embedding backend (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per clusterer (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", default=None, help="comma-separated subset of ours,bertopic,kmeans_true_k")
    parser.add_argument("--name", default="peers_topics", help="results file stem (default: %(default)s)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = run(args.sample, args.backend, args.rounds, args.seed, args.only.split(",") if args.only else None)
    json_path, md_path = write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    print(f"\nwrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
