"""Learning from reviews, safely: the labelled store of every customer's reviewed messages.

``taxonomy train-tiers --reviews OUTPUT`` adds the reviewed messages of every customer under
``OUTPUT/review_messages/`` to the public training rows. The artifact is shared between
customers, so nothing in it may come from a customer's text:

- reviewed rows enter **through their embeddings only**: their text is never read (the store has
  none), their n-gram block is empty, and the n-gram vocabulary and IDF are fitted on the public
  corpus alone (:func:`taxonomy.tiers.head.fit_head` fits the vocabulary on non-empty texts);
- customers appear in ``metrics.json`` only as ``customer-1``, ``customer-2``... (ordered by a hash
  of the id), never by id.

The model card then gets ``leave_one_customer_out``: for each customer, a head trained on the
public rows and every *other* customer's reviews, scored on that customer's reviewed messages,
next to the public-only head on the same messages.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from taxonomy.schema import TIERS
from taxonomy.storage import Store
from taxonomy.tiers.evaluate import _scores
from taxonomy.tiers.head import TrainSettings, fit_head, sample_weights

REVIEWED_INDUSTRY = "reviewed"


def load_reviewed_store(uri: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings, tiers and anonymous customer names of every reviewed message under ``uri``.

    Only the reviews in force count (a superseded answer is not a label any more).
    """
    store = Store(uri)
    vectors, tiers, who = [], [], []
    for cid in store.list_partitions("review_messages", "customer_id"):
        messages = store.read_partition(store.partition("review_messages", customer_id=cid))
        reviews = store.read_partition(store.partition("reviews", customer_id=cid))
        if messages is None or reviews is None:
            continue
        live = reviews.filter(pl.col("superseded_by").is_null())["review_id"]
        messages = messages.filter(pl.col("review_id").is_in(live) & pl.col("tier").is_in(list(TIERS)))
        messages = messages.sort("review_id", "conversation_id")
        vectors.append(np.asarray(messages["embedding"].to_list(), dtype=np.float64).reshape(messages.height, -1))
        tiers += messages["tier"].to_list()
        who += [hashlib.sha256(cid.encode()).hexdigest()] * messages.height
    if not tiers:
        return np.zeros((0, 384)), np.array([], dtype=object), np.array([], dtype=object)
    order = {h: f"customer-{i}" for i, h in enumerate(sorted(set(who)), start=1)}
    return np.vstack(vectors), np.array(tiers, dtype=object), np.array([order[h] for h in who], dtype=object)


def with_reviews(data, embeddings: np.ndarray, reviewed: tuple[np.ndarray, np.ndarray, np.ndarray]):
    """Public training data plus the reviewed rows (empty text, embedding only, industry ``reviewed``)."""
    from taxonomy.tiers.train import TrainingData

    vectors, tiers, who = reviewed
    n = len(tiers)
    combined = TrainingData(
        texts=list(data.texts) + [""] * n,
        tiers=np.concatenate([data.tiers, tiers.astype(str)]),
        sources=np.concatenate([data.sources, np.array(["reviewed"] * n)]),  # one more source, weighted like the others
        industries=np.concatenate([data.industries, np.array([REVIEWED_INDUSTRY] * n)]),
        intents=np.concatenate([data.intents, np.array(["reviewed"] * n)]),
        groups=np.concatenate([data.groups, who.astype(str)]),
        kinds=np.concatenate([data.kinds, np.array(["reviewed"] * n)]),
        files={**data.files, "reviews": f"{n} reviewed messages, {len(set(who.tolist()))} customers, embeddings only"},
        fit_tiers=None if data.fit_tiers is None else np.concatenate([data.fit_tiers, tiers.astype(str)]),
    )
    return combined, np.vstack([embeddings, vectors]) if n else embeddings


def leave_one_customer_out(data, embeddings: np.ndarray, reviewed: tuple, settings: TrainSettings) -> dict:
    """Per customer: trained on public + the others' reviews vs public only, scored on its reviews."""
    vectors, tiers, who = reviewed
    public = fit_head(data.texts, data.fit_labels, embeddings, sample_weights(data.sources, settings.source_power), settings)
    out: dict = {"customers": {}}
    pooled_truth, pooled_with, pooled_without = [], [], []
    for name in sorted(set(who.tolist()), key=lambda s: int(s.split("-")[1])):
        test = who == name
        others = (vectors[~test], tiers[~test], who[~test])
        train, x = with_reviews(data, embeddings, others)
        head = fit_head(train.texts, train.fit_labels, x, sample_weights(train.sources, settings.source_power), settings)
        blank = [""] * int(test.sum())
        with_pred = np.array(TIERS)[head.logits(blank, vectors[test]).argmax(axis=1)]
        without_pred = np.array(TIERS)[public.logits(blank, vectors[test]).argmax(axis=1)]
        out["customers"][name] = {"with_other_customers_reviews": _scores(tiers[test], with_pred),
                                  "public_only": _scores(tiers[test], without_pred)}
        pooled_truth += tiers[test].tolist()
        pooled_with += with_pred.tolist()
        pooled_without += without_pred.tolist()
    truth = np.array(pooled_truth, dtype=object)
    out["pooled"] = {"with_other_customers_reviews": _scores(truth, np.array(pooled_with, dtype=object)),
                     "public_only": _scores(truth, np.array(pooled_without, dtype=object))}
    out["note"] = ("reviewed messages enter through embeddings only (no text, no n-grams); their own text block is "
                   "empty, so these figures are for the embedding part of the model")
    return out
