"""Real-phrased queues the tier model has not seen, for the uncertainty benchmarks.

- **Corpus queues**: two per source of the public multi-source tier corpus
  (``/work/data/tier-corpus/corpus.parquet``, issue 13; rebuilt by its reader, never committed),
  each a random half of the source's intents (so tiers mix, as in a real queue), 300 to 2,500 rows
  (seeded sample); a source neither of whose halves reaches 300 rows is one queue of all its rows
  (``<source>/all``: Haptik's 427 telecom queries), so no training source drops out of the evidence.
- **Banking77 queues**: the Banking77 *training* split (CC BY 4.0) cut into 3 queues of 30 random
  intents each.
- **Evaluation-only queues**: one per evaluation-only source of the same build
  (``evaluation.parquet`` beside the corpus: sources no model version is trained on), all its rows
  (up to 2,500), however few: the shipped head has never seen them.

The model under test is the CURRENT tier model, and a queue is never scored by a head that saw its
source: a source the model was trained on (Banking77 always, the corpus sources from
``tier-clf-v3`` on) is scored by a head trained the same way without that source
(:mod:`benchmarks._heldout`, leave-one-source-out).

Handle times are synthetic and seeded: each intent gets a base time by tier (median 5, 10 and 25
minutes for informational, personalized and action-led, times a log-normal factor per intent), each
message a log-normal factor around it. Gold tiers come from the reviewed intent -> tier mappings.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks._common import BANKING77, cached_vectors
from benchmarks._heldout import ModelUnderTest, model_under_test
from taxonomy.tiers.corpus import EVALUATION_FILE, corpus_path
from taxonomy.tiers.head import softmax

CORPUS = Path(os.environ.get("TIER_CORPUS") or corpus_path())  # the file the tier model trains on
MIN_ROWS, MAX_ROWS = 300, 2500
BASE_MINUTES = {"informational": 5.0, "personalized": 10.0, "action_led": 25.0}


@dataclass
class Queue:
    """One queue: texts, gold tiers and intents, handle times, vectors and the model's probabilities."""

    name: str
    source: str
    texts: list[str]
    tiers: np.ndarray
    intents: np.ndarray
    seconds: np.ndarray
    vectors: np.ndarray
    proba: np.ndarray


def handle_times(intents: np.ndarray, tiers: np.ndarray, seed: str) -> np.ndarray:
    """Seeded synthetic handle times (seconds): a base per intent, a factor per message."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    base = {}
    for intent, tier in sorted(set(zip(intents.tolist(), tiers.tolist()))):
        base[intent] = BASE_MINUTES[tier] * float(np.exp(rng.normal(0, 0.5))) * 60
    return np.array([base[i] for i in intents.tolist()]) * np.exp(rng.normal(0, 0.35, size=len(intents)))


def _intent_halves(frame: pl.DataFrame, name: str, parts: int, size: int | None = None) -> list[pl.DataFrame]:
    """``parts`` queues of random intent subsets (halves by default): mixed tiers, like a real queue."""
    intents = sorted(frame["intent"].unique().to_list())
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = []
    for q in range(parts):
        chosen = rng.choice(intents, size=size or max(len(intents) // 2, 1), replace=False).tolist()
        part = frame.filter(pl.col("intent").is_in(chosen))
        if part.height > MAX_ROWS:
            part = part.sample(n=MAX_ROWS, seed=zlib.crc32(f"{name}/{q}".encode()))
        out.append(part)
    return out


def _frames() -> list[tuple[str, str, pl.DataFrame]]:
    out = []
    corpus = pl.read_parquet(CORPUS)
    for (source,), frame in sorted(corpus.group_by(["source"]), key=lambda kv: kv[0]):
        halves = [(f"{source}/q{q}", part) for q, part in enumerate(_intent_halves(frame.select("text", "intent", "tier"), source, 2), start=1)
                  if part.height >= MIN_ROWS]
        if not halves:  # a small source: all of it as one queue
            halves = [(f"{source}/all", frame.select("text", "intent", "tier"))]
        out += [(name, source, part) for name, part in halves]
    bank = pl.read_csv(BANKING77, columns=["text", "intent", "tier"])
    for q, part in enumerate(_intent_halves(bank, "banking77", 3, size=30), start=1):
        out.append((f"banking77/q{q}", "banking77", part))
    evaluation = CORPUS.parent / EVALUATION_FILE
    if evaluation.is_file():
        for (source,), frame in sorted(pl.read_parquet(evaluation).group_by(["source"]), key=lambda kv: kv[0]):
            part = frame.select("text", "intent", "tier")
            if part.height > MAX_ROWS:
                part = part.sample(n=MAX_ROWS, seed=zlib.crc32(source.encode()))
            out.append((f"{source}/all", source, part))
    return out


def load_queues() -> tuple[list[Queue], ModelUnderTest]:
    """Every queue with the vectors (ONNX, the production backend) and the probabilities of a head
    that never saw its source (:func:`benchmarks._heldout.model_under_test`), and that model."""
    from taxonomy.embed import get_embedder

    embedder = get_embedder("onnx")
    frames = _frames()
    model = model_under_test({source for _, source, _ in frames})
    queues = []
    for name, source, frame in frames:
        texts = frame["text"].to_list()
        vectors, _ = cached_vectors(embedder, texts)
        # un-tempered, as scoring sums them for shares and intervals (taxonomy.tiers.shares.for_shares)
        proba = softmax(model.head_for(source).logits(texts, np.asarray(vectors, dtype=np.float64)))
        tiers, intents = np.array(frame["tier"].to_list()), np.array(frame["intent"].to_list())
        queues.append(Queue(name, source, texts, tiers, intents, handle_times(intents, tiers, name),
                            np.asarray(vectors, dtype=np.float32), proba))
    return queues, model


def topic_rows(queue: Queue, adapted: bool = True) -> pl.DataFrame:
    """The queue through the real topic stage, as scoring sees it: model tiers and the un-tempered
    probabilities of the head adapted to the queue (:func:`taxonomy.tiers.adapt.adapt_logits`, what
    the analyse stage does before scoring sums them), or with ``adapted=False`` the head's own
    (``queue.proba``)."""
    from taxonomy.schema import TIERS
    from taxonomy.tiers.adapt import adapt_logits
    from taxonomy.topics import discover_topics

    ids = [f"c{i:06d}" for i in range(len(queue.texts))]
    df = pl.DataFrame({"conversation_id": ids, "text": queue.texts})
    topics = discover_topics(df, queue.vectors)
    proba = softmax(adapt_logits(np.log(np.clip(queue.proba, 1e-300, None)), queue.vectors)) if adapted else queue.proba
    tier = np.array(TIERS)[proba.argmax(axis=1)]
    return df.join(topics.assignments, on="conversation_id", how="left", maintain_order="left").with_columns(
        pl.Series("tier", tier.tolist()), pl.lit("model").alias("tier_source"),
        pl.Series("handle_time_seconds", queue.seconds), pl.Series("tier_confidence", proba.max(axis=1)),
        *[pl.Series(f"p_{t}", proba[:, i]) for i, t in enumerate(TIERS)],
        pl.Series("gold", queue.tiers.tolist()),
    ), topics
