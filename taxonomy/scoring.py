"""Automation potential per customer, weighted by agent handle time.

Definitions (one customer, one window; "hours" figures use only rows with a handle time):

- ``volume_share_<tier>``: share of conversations in the tier (all rows).
- ``handle_time_share_<tier>``: share of known handle time in the tier.
- "In the tier" is a weight per row, not a hard label: a model-tiered row counts in each tier
  with the head's un-tempered probability (:func:`~taxonomy.tiers.shares.for_shares`; summing them keeps
  the classifier's errors from piling up on one side), a reviewed row with its review's probabilities
  (:mod:`taxonomy.review.match`: one-hot, or inferred in a split topic), an overridden row fully in its tier,
  a row without a tier in none (no ``p_<tier>`` columns: by label); ``rate`` = ``sum(weight(tier) x rate(tier))``.
- ``automation_potential`` = sum(handle_time x rate(tier)) / sum(handle_time): the share of
  agent hours automation can remove. ``automation_potential_volume``: the same by count.
- ``automation_potential_hours_per_month``: potential x handle hours, scaled from the window
  to 30 days.
- The ladder: ``potential_knowledge_only`` counts informational rows only (knowledge
  content), ``potential_with_data_connectors`` adds personalized, ``potential_with_procedures``
  adds action-led and equals ``automation_potential``.
- ``current_automation_rate``: automated / conversations with a known outcome, **by volume**:
  an automated conversation has little or no agent time, so a handle-time weighted rate
  would read near zero whatever the bot does. Null when no row has an outcome. Peer rates
  (:func:`achievable_rates`) are measured the same way, so ``automation_gap`` compares like
  with like: ``automation_potential_volume - current_automation_rate`` (null when the
  current rate is). A negative gap means the customer already beats the achievable rate.
- Topics: ``hours_to_win`` = hours per month automation could still take in the topic:
  handle time x rate(tier) over its conversations not already automated, scaled to 30 days.
  Topics are ranked by it; ``action_kind`` is the lever of the topic's majority tier, and its next
  best action quotes the topic's conversations of that tier only and says the hours they hold
  (:func:`taxonomy.actions.add_actions`).
- Rows without handle time count in every volume figure and in no hours figure;
  ``missing_handle_time_share`` says how many there were. With no handle time at all the
  hours-based figures are null.

Rates sources (``rates_source`` in every score row):

- ``"peers:p75:n=5"``: every tier's rate is the 75th percentile (``peer_percentile``) of the
  observed automated rate of the 5 peer customers in this run;
- ``"peers:p75:n=5;default:action_led"``: as above, but too few peers had outcome data in
  the tiers listed after ``default:`` and those use the configured default;
- ``"default"``: fewer than ``peer_min_customers`` peers; all configured defaults;
- ``"calibrated:informational=4;peers:p75:n=5"``: a prefix naming the tiers whose rate was
  calibrated on what customers who shipped the lever achieved, with how many customers
  (:mod:`taxonomy.calibrate`); the rest of the string covers the other tiers.

The rate used for each tier is written too (``achievable_rate_<tier>``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from taxonomy.config import ScoringConfig
from taxonomy.schema import CONVERSATIONS_OUT, OTHER_TOPIC_ID, SCORES_OUT, TIER_LEVERS, TIERS, TOPICS_OUT, TRENDS_OUT, conform, empty

__all__ = ["ScoreResult", "achievable_rates", "customer_tier_stats", "score_customer"]

DAYS_PER_MONTH = 30.0
TIER_STATS_SCHEMA: dict[str, pl.DataType] = {
    "tier": pl.String(),
    "conversations": pl.Int64(),
    "with_outcome": pl.Int64(),
    "automated": pl.Int64(),
    "with_handle_time": pl.Int64(),
    "handle_time_seconds": pl.Float64(),
}


@dataclass
class ScoreResult:
    """What :func:`score_customer` returns, each frame conformed to its output schema."""

    scores: pl.DataFrame  # one row, SCORES_OUT
    topics: pl.DataFrame  # TOPICS_OUT, by rank
    trends: pl.DataFrame  # TRENDS_OUT


def customer_tier_stats(conversations: pl.DataFrame) -> pl.DataFrame:
    """Per-tier counts of one customer, the input of peer rates.

    Args:
        conversations: One customer's window with ``tier``, ``automated`` (nullable) and
            ``handle_time_seconds`` (nullable).

    Returns:
        One row per tier of ``TIERS`` (zeros where absent): ``tier, conversations,
        with_outcome, automated, with_handle_time, handle_time_seconds``.
    """
    frame = conform(conversations, CONVERSATIONS_OUT) if conversations.height else empty(CONVERSATIONS_OUT)
    stats = frame.group_by("tier").agg(
        pl.len().cast(pl.Int64).alias("conversations"),
        pl.col("automated").is_not_null().sum().cast(pl.Int64).alias("with_outcome"),
        pl.col("automated").fill_null(False).sum().cast(pl.Int64).alias("automated"),
        pl.col("handle_time_seconds").is_not_null().sum().cast(pl.Int64).alias("with_handle_time"),
        pl.col("handle_time_seconds").sum().cast(pl.Float64).alias("handle_time_seconds"),
    )
    frame = pl.DataFrame({"tier": list(TIERS)}).join(stats, on="tier", how="left")
    return frame.fill_null(0).select(list(TIER_STATS_SCHEMA)).cast(TIER_STATS_SCHEMA)


def achievable_rates(stats: dict[str, pl.DataFrame], config: ScoringConfig) -> tuple[dict[str, float], str]:
    """Achievable automation rate per tier from the best peers in the run, else defaults.

    A peer is a customer with at least ``peer_min_conversations`` conversations with a known
    outcome. With at least ``peer_min_customers`` peers, a tier's rate is the
    ``peer_percentile`` quantile (linear interpolation) of the peers' automated rates in that
    tier, over the peers with outcome data in it; a tier with too few such peers keeps its
    default. See the module docstring for the ``rates_source`` strings.

    Args:
        stats: customer_id -> :func:`customer_tier_stats` of that customer.
        config: Defaults, peer thresholds and percentile.

    Returns:
        (rate per tier, rates_source).
    """
    defaults = {t: float(config.default_rates[t]) for t in TIERS}
    peers = [
        cid for cid in sorted(stats)
        if int(stats[cid]["with_outcome"].sum()) >= config.peer_min_conversations
    ]
    if len(peers) < config.peer_min_customers:
        return defaults, "default"
    rates: dict[str, float] = {}
    fallback: list[str] = []
    for tier in TIERS:
        observed = []
        for cid in peers:
            row = stats[cid].filter(pl.col("tier") == tier)
            with_outcome = int(row["with_outcome"].sum())
            if with_outcome > 0:
                observed.append(int(row["automated"].sum()) / with_outcome)
        if len(observed) >= config.peer_min_customers:
            rates[tier] = float(np.quantile(np.array(observed), config.peer_percentile))
        else:
            rates[tier] = defaults[tier]
            fallback.append(tier)
    source = f"peers:p{round(config.peer_percentile * 100):d}:n={len(peers)}"
    if fallback:
        source += ";default:" + ",".join(fallback)
    return rates, source


def _share(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else float(part) / float(whole)


def _window_days(window_start: date, window_end: date) -> int:
    """Days in the window; ``window_end`` is the last day, inclusive."""
    return max((window_end - window_start).days + 1, 1)


def score_customer(
    conversations: pl.DataFrame, topics: pl.DataFrame, rates: dict[str, float], rates_source: str, *,
    customer_id: str, as_of: date, window_start: date, window_end: date, model_version: str,
    pipeline_version: str, run_id: str, review_counts: dict[str, int] | None = None,
) -> ScoreResult:
    """Scores, ranked topics and weekly trends of one customer's window.

    Args:
        conversations: The window's rows, columns of ``schema.CONVERSATIONS_OUT`` (``tier``,
            ``topic_id``, ``handle_time_seconds`` and ``automated`` nullable).
        topics: ``TopicResult.topics`` (``topic_id, label, keywords, example_conversation_ids``).
        rates: Achievable rate per tier (from :func:`achievable_rates`); unknown tiers count 0.
        rates_source: Written into the score row.
        customer_id, as_of, window_start, window_end: Window identity; ``window_end`` inclusive.
        model_version, pipeline_version, run_id: Lineage, written into the score row.
        review_counts: ``reviews_applied`` and ``reviews_unmatched`` of the analysis (None: unknown).

    Returns:
        ScoreResult with ``scores`` (one row, ``SCORES_OUT``), ``topics`` (``TOPICS_OUT``,
        ranked) and ``trends`` (``TRENDS_OUT``).
    """
    from taxonomy.tiers.model import temperature_of
    from taxonomy.tiers.shares import for_shares

    shared = for_shares(conversations, temperature_of)  # the probabilities shares and intervals sum
    rows = _with_rates(conversations, shared, rates)
    per_month = DAYS_PER_MONTH / _window_days(window_start, window_end)
    scores = _score_row(rows, per_month, rates)
    scores.update(_intervals(shared, rows, rates, scores, model_version))
    scores.update(review_counts or {})
    scores.update(
        customer_id=customer_id, as_of=as_of, window_start=window_start, window_end=window_end,
        rates_source=rates_source, model_version=model_version, pipeline_version=pipeline_version, run_id=run_id,
        **{f"achievable_rate_{t}": float(rates.get(t, 0.0)) for t in TIERS},
    )
    return ScoreResult(
        scores=conform(pl.DataFrame([scores]), SCORES_OUT),
        topics=score_topics(rows, topics, customer_id=customer_id, per_month=per_month),
        trends=weekly_trends(rows, customer_id=customer_id),
    )


def _with_rates(conversations: pl.DataFrame, shared: pl.DataFrame, rates: dict[str, float]) -> pl.DataFrame:
    """Add ``w_<tier>`` (:func:`~taxonomy.tiers.shares.tier_weights` of ``shared``), ``rate`` (expected achievable rate) and ``ht``."""
    from taxonomy.tiers.shares import tier_weights

    weights = tier_weights(shared)
    # Absent optional columns become nulls (an empty frame gets the full empty schema: literals would invent a row).
    frame = conform(conversations, CONVERSATIONS_OUT) if conversations.height else empty(CONVERSATIONS_OUT)
    rate = weights @ np.array([float(rates.get(t, 0.0)) for t in TIERS]) if len(weights) else np.zeros(0)
    return frame.with_columns(
        *[pl.Series(f"w_{t}", weights[:, i], dtype=pl.Float64) for i, t in enumerate(TIERS)],
        pl.Series("rate", rate, dtype=pl.Float64),
        pl.col("handle_time_seconds").cast(pl.Float64).alias("ht"),
        pl.col("topic_id").fill_null(OTHER_TOPIC_ID),  # a row without a topic is counted as "other"
    )


def _intervals(shared: pl.DataFrame, rows: pl.DataFrame, rates: dict[str, float], points: dict,
               model_version: str) -> dict:
    """90% intervals and ``reviewed_hours_share`` (:mod:`taxonomy.uncertainty`) from ``shared``'s probabilities."""
    from taxonomy.uncertainty import interval_fields

    probas = [f"p_{t}" for t in TIERS if f"p_{t}" in shared.columns]
    frame = rows.select("topic_id", "tier", "tier_source", "handle_time_seconds")
    if probas and shared.height == rows.height:
        frame = pl.concat([frame, shared.select(probas)], how="horizontal")
    return interval_fields(frame, rates, points, model_version=model_version)


def _score_row(rows: pl.DataFrame, per_month: float, rates: dict[str, float]) -> dict:
    """The numeric fields of the score row (see the module docstring)."""
    n = rows.height
    has_ht = rows.filter(pl.col("ht").is_not_null())
    total_ht = float(has_ht["ht"].sum()) if has_ht.height else None
    out: dict = {"conversations": n, "handle_time_hours": None if total_ht is None else total_ht / 3600.0}
    out["missing_handle_time_share"] = _share(n - has_ht.height, n)
    ladder = 0.0
    ht = rows["ht"].fill_null(0.0)
    for tier in TIERS:
        weight = rows[f"w_{tier}"]
        out[f"volume_share_{tier}"] = _share(float(weight.sum()), n)
        out[f"handle_time_share_{tier}"] = _share(float((ht * weight).sum()), total_ht)
        ladder += float((ht * weight).sum()) * float(rates.get(tier, 0.0))
        out[{"informational": "potential_knowledge_only", "personalized": "potential_with_data_connectors",
             "action_led": "potential_with_procedures"}[tier]] = _share(ladder, total_ht)
    out["automation_potential"] = out["potential_with_procedures"]
    out["automation_potential_volume"] = _share(float(rows["rate"].sum()), n)
    out["automation_potential_hours_per_month"] = (
        None if total_ht is None else float((has_ht["ht"] * has_ht["rate"]).sum()) / 3600.0 * per_month
    )
    known = rows.filter(pl.col("automated").is_not_null())
    out["current_automation_rate"] = _share(int(known["automated"].sum()), known.height) if known.height else None
    current, potential = out["current_automation_rate"], out["automation_potential_volume"]
    out["automation_gap"] = None if current is None or potential is None else potential - current
    out["other_topic_share"] = _share(int((rows["topic_id"] == OTHER_TOPIC_ID).sum()), n)
    out.update(language_figures(rows))
    return out


def language_figures(rows: pl.DataFrame) -> dict:
    """``language_shares`` (conversations per detected language, largest first), ``non_english_share``
    and ``unsupported_language_share`` (languages the embedder does not cover: less sure topics and tiers)."""
    from taxonomy.language import DEFAULT_LANGUAGE, embedder_covers

    n = rows.height
    if not n or "language" not in rows.columns:
        return {"language_shares": [], "non_english_share": None, "unsupported_language_share": None}
    counts = Counter(code or DEFAULT_LANGUAGE for code in rows["language"].to_list())
    shares = [{"language": code, "share": c / n} for code, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {
        "language_shares": shares,
        "non_english_share": sum(c for code, c in counts.items() if code != "en") / n,
        "unsupported_language_share": sum(c for code, c in counts.items() if not embedder_covers(code)) / n,
    }


_SUGGESTIONS = {
    "knowledge_content": 'Publish help-centre content that answers "{label}" requests',
    "data_connector": 'Connect the records behind "{label}" so the assistant can look them up and explain them',
    "procedure": 'Automate the "{label}" procedure end to end, with its checks and approvals',
}


def next_best_action(label: str, action_kind: str, hours_to_win: float | None) -> str:
    """One line telling a CSM what to build for a topic, e.g. for a procedure topic.

    Args:
        label: The topic label.
        action_kind: ``knowledge_content``, ``data_connector`` or ``procedure``.
        hours_to_win: Agent hours per month it could still win (None: unknown).
    """
    text = _SUGGESTIONS.get(action_kind, 'Review "{label}" requests').format(label=label)
    if hours_to_win is None:
        return text + "."
    return f"{text} (~{hours_to_win:.1f} agent hours/month to win)."


def score_topics(rows: pl.DataFrame, topics: pl.DataFrame, *, customer_id: str, per_month: float) -> pl.DataFrame:
    """Per-topic figures, ranked by hours to win (the "other" topic always last).

    Args:
        rows: Conversations with ``rate`` and ``ht`` (see :func:`_with_rates`).
        topics: ``TopicResult.topics`` (labels, keywords, examples).
        customer_id: Written into every row.
        per_month: 30 / window days.

    Returns:
        A frame conformed to ``TOPICS_OUT``, one row per topic with conversations.
    """
    from taxonomy.actions import add_actions  # imports scikit-learn (wording): only when topics are scored

    n = rows.height
    total_ht = rows["ht"].sum() if rows["ht"].is_not_null().any() else None
    not_automated = pl.col("automated").fill_null(False).not_()
    per_topic = rows.group_by("topic_id").agg(
        pl.len().cast(pl.Int64).alias("conversations"),
        *[(pl.col("tier") == t).sum().alias(f"_n_{t}") for t in TIERS],
        pl.col("ht").sum().alias("handle_time_seconds"),
        pl.col("ht").is_not_null().any().alias("_has_ht"),
        (pl.col("ht") * pl.col("rate")).sum().alias("_potential_seconds"),
        (pl.col("ht") * pl.col("rate")).filter(not_automated).sum().alias("_win_seconds"),
        *[(pl.col("ht") * pl.col("rate")).filter(not_automated & (pl.col("tier") == t)).sum().alias(f"_win_{t}") for t in TIERS],
        pl.col("automated").is_not_null().sum().alias("_with_outcome"),
        pl.col("automated").fill_null(False).sum().alias("_automated"),
    )
    meta_columns = ["topic_id", "label", "keywords", "example_conversation_ids"] + (["language"] if "language" in topics.columns else [])
    meta = topics.select(meta_columns) if topics.height else None
    if meta is not None:
        per_topic = per_topic.join(meta, on="topic_id", how="left")
    # Each conversation's own tier (the largest of its tier weights, before the topic's context) beside the
    # listed one: a next best action quotes the requests both put in its tier (taxonomy.actions.add_actions).
    weights = rows.select([f"w_{t}" for t in TIERS]).to_numpy() if rows.height else np.zeros((0, len(TIERS)))
    own = np.where(weights.sum(axis=1) > 0, np.array(TIERS, dtype=object)[weights.argmax(axis=1)], None) if len(weights) else []
    texts = rows.select("topic_id", "text", "tier").with_columns(pl.Series("_own", own, dtype=pl.String))
    per_topic = per_topic.join(texts.group_by("topic_id").agg(_texts=pl.col("text"), _tiers=pl.col("tier"), _own=pl.col("_own")),
                               on="topic_id", how="left")
    records = [_topic_record(row, n, total_ht, customer_id, per_month) for row in per_topic.to_dicts()]
    add_actions(records)
    records.sort(key=lambda r: (r["topic_id"] == OTHER_TOPIC_ID, -(r["hours_to_win"] or 0.0), -r["conversations"], r["topic_id"]))
    for rank, record in enumerate(records, start=1):
        record["rank"] = rank
    if not records:
        return empty(TOPICS_OUT)
    return conform(pl.DataFrame(records, infer_schema_length=None), TOPICS_OUT)


def _topic_record(row: dict, n: int, total_ht: float | None, customer_id: str, per_month: float) -> dict:
    """One topic's output fields from its aggregates (see :func:`score_topics`)."""
    counts = {t: row[f"_n_{t}"] for t in TIERS}
    # Majority tier; a tie goes to the tier that needs the heavier lever (action_led first).
    tier = max(TIERS, key=lambda t: (counts[t], TIERS.index(t))) if any(counts.values()) else None
    has_ht = bool(row["_has_ht"])
    hours = row["_win_seconds"] / 3600.0 * per_month if has_ht else None
    win = {t: row.pop(f"_win_{t}") / 3600.0 * per_month for t in TIERS}  # each tier's share of ``hours``
    label = row.get("label") or row["topic_id"]
    kind = TIER_LEVERS.get(tier) if tier else None
    return {
        **row, "customer_id": customer_id, "label": label, "tier": tier,
        **{f"share_{t}": counts[t] / row["conversations"] for t in TIERS},
        "handle_time_seconds": row["handle_time_seconds"] if has_ht else None,
        "volume_share": row["conversations"] / n,
        "handle_time_share": _share(row["handle_time_seconds"], total_ht) if has_ht else None,
        "current_automation_rate": _share(row["_automated"], row["_with_outcome"]),
        "automation_potential": _share(row["_potential_seconds"], row["handle_time_seconds"]) if has_ht else None,
        "hours_to_win": hours, "action_kind": kind, "_win": win if has_ht else None,
        "next_best_action": next_best_action(label, kind, hours) if kind else None,
    }


def weekly_trends(rows: pl.DataFrame, *, customer_id: str) -> pl.DataFrame:
    """Conversations and handle time per ISO week (starting Monday), tier and topic.

    ``handle_time_seconds`` is the sum of known handle times, null when a group has none.
    """
    if rows.height == 0:
        return empty(TRENDS_OUT)
    trends = (
        rows.with_columns(pl.col("created_at").dt.truncate("1w").dt.date().alias("week"))
        .group_by("week", "tier", "topic_id")
        .agg(
            pl.len().cast(pl.Int64).alias("conversations"),
            pl.when(pl.col("ht").is_not_null().any()).then(pl.col("ht").sum()).alias("handle_time_seconds"),
        )
        .with_columns(pl.lit(customer_id).alias("customer_id"))
        .sort("week", "tier", "topic_id", nulls_last=True)
    )
    return conform(trends, TRENDS_OUT)
