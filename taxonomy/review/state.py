"""A customer's review state: every recorded answer, who gave it, when, and what they saw.

Two datasets under the output root (a labelled run reads the same ones):

- ``reviews/customer_id=<id>/part-0.parquet``: one row per reviewed topic (``REVIEWS_SCHEMA``):
  the tier given (or ``split``), who and when, the proposal it replaced, and what the reviewer saw:
  the topic's centroid and the ids of its conversations. ``superseded_by`` names a later review
  of the same topic (the later one wins; the earlier one stays on record).
- ``review_messages/customer_id=<id>/part-0.parquet``: labelled messages (``MESSAGES_SCHEMA``):
  the message-level tiers of a ``split`` topic, and a spread sample of every reviewed topic's
  messages with its tier. Embeddings only, no text: this is the labelled store
  ``taxonomy train-tiers --reviews`` learns from.
"""

from __future__ import annotations

import polars as pl

from taxonomy.schema import EMBEDDING_DIM, UTC_DATETIME
from taxonomy.storage import Store, validate_customer_id

SPLIT = "split"
REVIEWS_SCHEMA: dict[str, pl.DataType] = {
    "review_id": pl.String(),
    "customer_id": pl.String(),
    "as_of": pl.Date(),
    "topic_id": pl.String(),
    "label": pl.String(),
    "tier": pl.String(),  # a tier, or "split" (message-level tiers in review_messages)
    "reviewer": pl.String(),
    "reviewed_at": UTC_DATETIME,
    "note": pl.String(),
    "proposed_tier": pl.String(),
    "proposed_confidence": pl.Float64(),
    "hours": pl.Float64(),
    "centroid": pl.Array(pl.Float32(), EMBEDDING_DIM),
    "members": pl.List(pl.String()),
    "superseded_by": pl.String(),
}
MESSAGES_SCHEMA: dict[str, pl.DataType] = {
    "review_id": pl.String(),
    "conversation_id": pl.String(),
    "tier": pl.String(),
    "labelled": pl.Boolean(),  # True: a person tiered this message; False: it carries its topic's tier
    "embedding": pl.Array(pl.Float32(), EMBEDDING_DIM),
}


def state_store(store: Store) -> Store:
    """The unlabelled store at ``store``'s root (review state is shared by labelled runs)."""
    return Store(store.uri(store.root))


def _folder(store: Store, name: str, customer_id: str) -> str:
    return state_store(store).partition(name, customer_id=validate_customer_id(customer_id))


def load_reviews(store: Store, customer_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The customer's reviews and labelled messages (empty frames when none)."""
    root = state_store(store)
    reviews = root.read_partition(_folder(store, "reviews", customer_id))
    messages = root.read_partition(_folder(store, "review_messages", customer_id))
    return (reviews if reviews is not None else pl.DataFrame(schema=REVIEWS_SCHEMA),
            messages if messages is not None else pl.DataFrame(schema=MESSAGES_SCHEMA))


def save_reviews(store: Store, customer_id: str, reviews: pl.DataFrame, messages: pl.DataFrame) -> None:
    """Write both datasets atomically (messages first: a reviews row never lacks its messages)."""
    root = state_store(store)
    order = ["review_id", "conversation_id"]
    root.write_partition(messages.select(list(MESSAGES_SCHEMA)).cast(MESSAGES_SCHEMA).sort(order),
                         _folder(store, "review_messages", customer_id))
    root.write_partition(reviews.select(list(REVIEWS_SCHEMA)).cast(REVIEWS_SCHEMA).sort("reviewed_at", "review_id"),
                         _folder(store, "reviews", customer_id))


def active(reviews: pl.DataFrame) -> pl.DataFrame:
    """Reviews not superseded by a later review of the same topic, oldest first."""
    return reviews.filter(pl.col("superseded_by").is_null()).sort("reviewed_at", "review_id")
