"""Schemas of every dataset the pipeline reads or writes, in one place.

Every stage reads and writes through these. Column order is the order here.

Canonical conversation (``CONVERSATION``), produced by ingestion from any export:

- ``customer_id``: the tenant, a company whose queue we analyse. Must match
  ``CUSTOMER_ID_PATTERN`` (it becomes a path segment, so nothing else is allowed).
- ``conversation_id``: unique within a customer.
- ``created_at``: when the end-user opened the conversation, UTC.
- ``updated_at``: last change in the source system, UTC (null if unknown); on
  duplicate ``(customer_id, conversation_id)`` rows the latest update wins.
- ``text``: the end-user's opening request, plain text, HTML stripped,
  whitespace normalised, PII redacted.
- ``handle_time_seconds``: agent handling time, float >= 0, null when the source has none.
- ``channel``, ``automated`` (resolved without a human; null when unknown),
  ``csat``, ``language``, ``transcript``: optional, null when the source lacks them.
- ``source_file``, ``source_row``: lineage, the export file and 1-based row.
"""

from __future__ import annotations

import re

import polars as pl

TIERS: tuple[str, ...] = ("informational", "personalized", "action_led")
OTHER_TOPIC_ID = "other"  # the topic of small mixed requests (taxonomy.topics.cluster); no shared context
# Share of a topic's mean in a message's tier probabilities when its tier is read in context
# (taxonomy.tiers.context; taxonomy.topics names a topic for the tier read that way). 0: the message alone.
TOPIC_WEIGHT = 0.5
# The automation lever each tier needs (TIERS.md: knowledge content, data connectors, procedures).
TIER_LEVERS: dict[str, str] = {
    "informational": "knowledge_content",
    "personalized": "data_connector",
    "action_led": "procedure",
}

CUSTOMER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
UTC_DATETIME = pl.Datetime("us", "UTC")
EMBEDDING_DIM = 384

CONVERSATION: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "conversation_id": pl.String(),
    "created_at": UTC_DATETIME,
    "updated_at": UTC_DATETIME,
    "text": pl.String(),
    "handle_time_seconds": pl.Float64(),
    "channel": pl.String(),
    "automated": pl.Boolean(),
    "csat": pl.Float64(),
    "language": pl.String(),
    "transcript": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
}
REQUIRED_COLUMNS: tuple[str, ...] = ("customer_id", "conversation_id", "created_at", "text")
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    c for c in CONVERSATION if c not in REQUIRED_COLUMNS and c not in ("source_file", "source_row")
)

# Rows ingestion refused, with why. customer_id is the raw value as a string (it may be
# invalid, so quarantine is never partitioned by it).
QUARANTINE: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "customer_id": pl.String(),
    "conversation_id": pl.String(),
    "field": pl.String(),
    "reason": pl.String(),
    "record": pl.String(),  # the offending record as JSON, PII-redacted, truncated
    "ingested_at": UTC_DATETIME,
}

# Canonical conversation plus what enrichment adds (embedding and tier).
TIER_COLUMNS: dict[str, pl.DataType] = {
    "tier": pl.String(),
    "tier_confidence": pl.Float64(),
    "p_informational": pl.Float64(),
    "p_personalized": pl.Float64(),
    "p_action_led": pl.Float64(),
    "tier_source": pl.String(),  # "model", "override" or "review"
    "model_version": pl.String(),
}
ENRICHED: dict[str, pl.DataType] = {
    **CONVERSATION,
    **TIER_COLUMNS,
    "embedding": pl.Array(pl.Float32(), EMBEDDING_DIM),
}

# Published outputs, partitioned as_of=YYYY-MM-DD/customer_id=ID/.
CONVERSATIONS_OUT: dict[str, pl.DataType] = {
    "conversation_id": pl.String(),
    "customer_id": pl.String(),
    "created_at": UTC_DATETIME,
    "text": pl.String(),
    "handle_time_seconds": pl.Float64(),
    "automated": pl.Boolean(),
    "tier": pl.String(),
    "tier_confidence": pl.Float64(),
    "tier_source": pl.String(),
    "topic_id": pl.String(),
    # Detected language (ISO 639-1, taxonomy.language); outside the embedder's languages the
    # topic is per language and tier_confidence is lowered.
    "language": pl.String(),
}
TOPICS_OUT: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "topic_id": pl.String(),
    "label": pl.String(),
    "keywords": pl.List(pl.String()),
    "tier": pl.String(),
    "share_informational": pl.Float64(),
    "share_personalized": pl.Float64(),
    "share_action_led": pl.Float64(),
    "conversations": pl.Int64(),
    "handle_time_seconds": pl.Float64(),
    "volume_share": pl.Float64(),
    "handle_time_share": pl.Float64(),
    "current_automation_rate": pl.Float64(),
    "automation_potential": pl.Float64(),
    "hours_to_win": pl.Float64(),
    "example_conversation_ids": pl.List(pl.String()),
    "next_best_action": pl.String(),
    "action_kind": pl.String(),
    "rank": pl.Int64(),
    # Issue 16: the topic's language, and the structure behind next_best_action (taxonomy.actions).
    "language": pl.String(),
    "language_supported": pl.Boolean(),  # False: the embedder does not cover it, tiers less sure
    "nba_questions": pl.List(pl.String()),  # informational: questions help content must answer
    "nba_records": pl.List(pl.String()),  # personalized (and action-led): records to read
    "nba_checks": pl.List(pl.String()),  # action-led: checks the requests mention
    "nba_action": pl.String(),  # action-led: the action to automate
    "hours_share": pl.Float64(),  # share of the customer's hours to win that sits in this topic
    "nba_hours_to_win": pl.Float64(),  # of hours_to_win, the part in the conversations of the topic's tier (its lever's)
}
SCORES_OUT: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "as_of": pl.Date(),
    "window_start": pl.Date(),
    "window_end": pl.Date(),
    "conversations": pl.Int64(),
    "handle_time_hours": pl.Float64(),
    "missing_handle_time_share": pl.Float64(),
    **{f"volume_share_{t}": pl.Float64() for t in TIERS},
    **{f"handle_time_share_{t}": pl.Float64() for t in TIERS},
    "automation_potential": pl.Float64(),
    "automation_potential_volume": pl.Float64(),
    "automation_potential_hours_per_month": pl.Float64(),
    "potential_knowledge_only": pl.Float64(),
    "potential_with_data_connectors": pl.Float64(),
    "potential_with_procedures": pl.Float64(),
    "current_automation_rate": pl.Float64(),
    "automation_gap": pl.Float64(),
    "other_topic_share": pl.Float64(),
    "rates_source": pl.String(),
    "model_version": pl.String(),
    "pipeline_version": pl.String(),
    "run_id": pl.String(),
    # The achievable rate used for each tier (see rates_source), so a back-test can replay the prediction.
    **{f"achievable_rate_{t}": pl.Float64() for t in TIERS},
    # Issue 16: conversations per detected language, and the share outside the embedder's languages.
    "language_shares": pl.List(pl.Struct({"language": pl.String(), "share": pl.Float64()})),
    "non_english_share": pl.Float64(),
    "unsupported_language_share": pl.Float64(),
    # 90% intervals (taxonomy.uncertainty) and what a person has confirmed (taxonomy review).
    **{f"handle_time_share_{t}_{side}": pl.Float64() for t in TIERS for side in ("low", "high")},
    "automation_potential_low": pl.Float64(),
    "automation_potential_high": pl.Float64(),
    "reviewed_hours_share": pl.Float64(),
    "reviews_applied": pl.Int64(),
    "reviews_unmatched": pl.Int64(),
}
TRENDS_OUT: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "week": pl.Date(),
    "tier": pl.String(),
    "topic_id": pl.String(),
    "conversations": pl.Int64(),
    "handle_time_seconds": pl.Float64(),
}

# Back-tests (taxonomy.proving.backtest), partitioned as_of=<achieved-at>/customer_id=ID/: did the
# potential published at predicted_at come true in the window ending the day before as_of? One row
# per ``level``: "topic" (by stable topic id; ``status`` matched, vanished, new or split), "tier",
# and one "customer" summary. Rates are by conversation count (automated / with a known outcome),
# as ``current_automation_rate`` is; ``predicted_rate`` is the achievable rate the prediction used.
BACKTEST_OUT: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "as_of": pl.Date(),  # the achieved-at date
    "predicted_at": pl.Date(),
    "level": pl.String(),
    "topic_id": pl.String(),
    "label": pl.String(),
    "tier": pl.String(),
    "status": pl.String(),
    "split_from": pl.String(),
    "predicted_rate": pl.Float64(),
    "baseline_rate": pl.Float64(),  # automated rate in the predicted-at window
    "achieved_rate": pl.Float64(),
    "conversations": pl.Int64(),  # in the achieved-at window
    "with_outcome": pl.Int64(),
    "hours": pl.Float64(),  # agent hours in the achieved-at window
    "predicted_conversations": pl.Int64(),
    "predicted_potential": pl.Float64(),
    "achieved_potential": pl.Float64(),
    "absolute_error": pl.Float64(),
    "predicted_potential_shipped": pl.Float64(),
    "levers_shipped": pl.List(pl.String()),
    "rates_source": pl.String(),
}
# Reviews of a labelled run against production or another label (taxonomy.proving.compare),
# partitioned as_of=/against=/customer_id= under the label: one "customer" row, then one row per
# topic added, removed, renamed or re-tiered.
COMPARE_OUT: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "as_of": pl.Date(),
    "label": pl.String(),
    "against": pl.String(),
    "change": pl.String(),
    "topic_id": pl.String(),
    "label_before": pl.String(),
    "label_after": pl.String(),
    "tier_before": pl.String(),
    "tier_after": pl.String(),
    "value_before": pl.Float64(),  # potential (customer row) or hours (topic rows)
    "value_after": pl.Float64(),
    "delta": pl.Float64(),
    **{f"delta_share_{t}": pl.Float64() for t in TIERS},
}

# Dataset name -> schema. Paths are built by taxonomy.storage from these names.
DATASETS: dict[str, dict[str, pl.DataType]] = {
    "conversations_raw": CONVERSATION,
    "quarantine": QUARANTINE,
    "enriched": ENRICHED,
    "conversations": CONVERSATIONS_OUT,
    "topics": TOPICS_OUT,
    "scores": SCORES_OUT,
    "trends": TRENDS_OUT,
    "backtest": BACKTEST_OUT,
    "compare": COMPARE_OUT,
}


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Return ``df`` with exactly the schema's columns, in order, cast to its types.

    Columns the schema has and ``df`` lacks are added as nulls; extra columns are dropped.

    Args:
        df: Any frame holding (some of) the schema's columns.
        schema: One of the schemas above.

    Returns:
        A frame whose ``schema`` equals ``schema``.
    """
    if df.width == 0:
        # select() of literals alone would make one row of nulls.
        return pl.DataFrame(schema=schema).clear(n=df.height) if df.height else pl.DataFrame(schema=schema)
    cols = [
        (pl.col(name) if name in df.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return df.select(cols)


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)
