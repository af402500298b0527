"""A message's tier read in its topic's context (taxonomy/tiers/context.py) and the analyse stage using it."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from taxonomy.config import Config
from taxonomy.pipeline import run
from taxonomy.samples import write_sample
from taxonomy.schema import TIERS
from taxonomy.storage import Store
from taxonomy.tiers.adapt import adapt_to_queue
from taxonomy.tiers.context import TOPIC_WEIGHT, tiers_in_context
from taxonomy.tiers.model import temperature_of
from taxonomy.window import load_window


def _frame(rows: list[tuple[str | None, str, list[float] | None]]) -> pl.DataFrame:
    """(topic_id, tier_source, probabilities) per row; tier and confidence as the model gives them."""
    p = [r[2] for r in rows]
    return pl.DataFrame({
        "conversation_id": [f"c{i}" for i in range(len(rows))],
        "topic_id": [r[0] for r in rows],
        "tier": [None if q is None else TIERS[int(np.argmax(q))] for q in p],
        "tier_confidence": [None if q is None else max(q) for q in p],
        **{f"p_{t}": [None if q is None else q[i] for q in p] for i, t in enumerate(TIERS)},
        "tier_source": [r[1] for r in rows],
    }, schema_overrides={"topic_id": pl.String, "tier": pl.String, "tier_confidence": pl.Float64,
                         **{f"p_{t}": pl.Float64 for t in TIERS}})


def test_a_message_its_topic_disagrees_with_takes_the_topics_tier() -> None:
    leaning_info = [0.45, 0.15, 0.40]  # alone: informational, narrowly
    action = [0.05, 0.05, 0.90]
    frame = _frame([("t1", "model", leaning_info), ("t1", "model", action), ("t1", "model", action),
                    ("t2", "model", leaning_info)])
    out = tiers_in_context(frame)
    assert out["tier"].to_list() == ["action_led", "action_led", "action_led", "informational"]
    mean = (np.array(leaning_info) + 2 * np.array(action)) / 3
    q = (1 - TOPIC_WEIGHT) * np.array(leaning_info) + TOPIC_WEIGHT * mean
    assert out["tier_confidence"][0] == pytest.approx(q.max())
    # the probabilities stay the model's for the message alone: shares and intervals sum them
    for t in TIERS:
        assert out[f"p_{t}"].to_list() == frame[f"p_{t}"].to_list()
    assert out.columns == frame.columns


def test_pinned_blank_and_topicless_rows_are_left_alone_and_do_not_count() -> None:
    info = [0.80, 0.10, 0.10]
    narrow = [0.40, 0.35, 0.25]
    frame = _frame([
        ("t1", "model", narrow),
        ("t1", "override", [0.0, 1.0, 0.0]),  # a pinned personalized row: not part of the topic's mean
        ("t1", "review", [0.0, 1.0, 0.0]),
        ("t1", "model", info),
        (None, "model", [0.1, 0.2, 0.7]),  # no topic
        ("t1", "model", None),  # blank text: no tier
        ("other", "model", [0.1, 0.45, 0.45]),  # the small mixed requests share no context
        ("other", "model", [0.0, 0.0, 1.0]),
    ])
    out = tiers_in_context(frame)
    assert out["tier"].to_list() == ["informational", "personalized", "personalized", "informational", "action_led", None,
                                     "personalized", "action_led"]
    assert out["tier_confidence"][1:3].to_list() == [1.0, 1.0]
    assert out["tier_confidence"][4] == 0.7
    assert out["tier_confidence"][5] is None
    assert out["tier_confidence"][6] == 0.45


def test_weight_zero_changes_nothing_and_a_bad_weight_is_refused() -> None:
    frame = _frame([("t1", "model", [0.45, 0.15, 0.40]), ("t1", "model", [0.05, 0.05, 0.90])])
    assert tiers_in_context(frame, 0.0).equals(frame)
    assert tiers_in_context(frame, 1.0)["tier"].to_list() == ["action_led", "action_led"]
    assert tiers_in_context(frame.head(0)).height == 0
    with pytest.raises(ValueError, match="weight"):
        tiers_in_context(frame, 1.5)


def test_the_published_tiers_are_the_adapted_topic_context_ones(tmp_path: Path) -> None:
    """The analyse stage reads each model row through its window's correction (taxonomy.tiers.adapt):
    its p_<tier>, which shares sum, are the adapted ones, and its tier is those read in its topic's
    context."""
    write_sample(str(tmp_path / "landing"), customers=2, conversations=600, days=7, seed=3)
    cfg = dataclasses.replace(Config(), window_days=7)
    result = run(str(tmp_path / "landing"), str(tmp_path / "out"), config=cfg, progress=False)
    as_of: date = result.as_of
    store = Store(str(tmp_path / "out"))

    def read(dataset: str, customer: str) -> pl.DataFrame:
        return pl.read_parquet(tmp_path / "out" / dataset / f"as_of={as_of}" / f"customer_id={customer}" / "part-0.parquet")

    moved_by_adaptation = moved_by_context = 0
    customers = sorted(p.name.split("=", 1)[1] for p in (tmp_path / "out" / "analysis" / f"as_of={as_of}").glob("customer_id=*"))
    assert len(customers) == 2
    for customer in customers:
        window = load_window(store, customer, as_of, cfg.window_days)  # what the analyse stage read
        staged = read("analysis", customer)  # its output, in the same row order
        assert staged["conversation_id"].to_list() == window["conversation_id"].to_list()
        assert read("conversations", customer).sort("conversation_id").select("conversation_id", "tier").equals(
            staged.sort("conversation_id").select("conversation_id", "tier"))
        probas = [f"p_{t}" for t in TIERS]
        embeddings = np.asarray(window["embedding"].to_list(), dtype=np.float32)
        listed = adapt_to_queue(window, embeddings, temperature_of)
        assert np.allclose(staged.select(probas).to_numpy(), listed.select(probas).to_numpy())  # what shares sum
        assert not np.allclose(staged.select(probas).to_numpy(), window.select(probas).to_numpy())
        listed = listed.with_columns(staged["topic_id"])
        head = window.select(probas).to_numpy().argmax(axis=1)
        a = listed.select(probas).to_numpy()
        moved_by_adaptation += int((a.argmax(axis=1) != head).sum())
        model = (listed["tier_source"] == "model") & (listed["topic_id"] != "other")
        conversations, adapted_rows = listed.filter(model), staged.filter(model)
        p = conversations.select(probas).to_numpy()
        mean = conversations.select([pl.col(f"p_{t}").mean().over("topic_id") for t in TIERS]).to_numpy()
        q = (1 - TOPIC_WEIGHT) * p + TOPIC_WEIGHT * mean
        assert adapted_rows["tier"].to_list() == [TIERS[i] for i in q.argmax(axis=1)]
        assert np.allclose(adapted_rows["tier_confidence"].to_numpy(), q.max(axis=1))
        other = (listed["tier_source"] == "model") & (listed["topic_id"] == "other")
        alone = listed.filter(other).select(probas).to_numpy()  # small mixed requests: no context
        assert staged.filter(other)["tier"].to_list() == [TIERS[i] for i in alone.argmax(axis=1)]
        moved_by_context += int((q.argmax(axis=1) != p.argmax(axis=1)).sum())
    assert moved_by_adaptation > 0 and moved_by_context > 0
