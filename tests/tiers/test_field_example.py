"""TIERS.md's field example, end to end through ``taxonomy run`` with the real embedder and tier model.

100 password-reset how-tos (five minutes each) and 10 refund disputes (thirty minutes each): the
"rare" disputes hold 30 of 80 minutes per 11 conversations, so ``handle_time_share_action_led``
must read 0.375 (issue 13: it read 0.688 with tier-clf-v2).

Met since tier-clf-v4 with un-tempered shares (v8 0.370, v7 0.371, v6 0.367, v5 0.373, v4 0.367; v4
with calibrated-probability shares 0.388, v3 0.557, v2 0.688): every how-to phrasing is informational,
nine of the ten disputes action_led (see the CURRENT model's MODEL_CARD.md; from v6 on "I forgot my
password, how do I get a new one?" is informational by a thin margin, v8 p 0.50 against 0.47, and "The
merchant never delivered and won't answer, I'm disputing the charge." personalized). The per-message test
below guards the tiers themselves.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from taxonomy.cli import main
from taxonomy.storage import Store

AS_OF = date(2026, 3, 1)
HOW_TOS = [  # ten phrasings; the first three are the ones tier-clf-v2 called action_led
    "What's the process for resetting a password?",
    "how can i reset my login password",
    "How do I recover access if I forgot my password?",
    "How do I reset my password?",
    "what are the steps to change my password",
    "I forgot my password, how do I get a new one?",
    "Where do I go to reset the password for my account?",
    "how do you reset a password on the app",
    "Is there a way to reset my password myself?",
    "can you explain how password reset works",
]
DISPUTES = [
    "I want to dispute a charge on my card, I never received the item. Please refund me.",
    "There's a payment I didn't authorise on my statement, I need it refunded.",
    "You charged me twice for the same order, refund the duplicate payment.",
    "I was billed for a subscription I cancelled last month, I want my money back.",
    "The merchant never delivered and won't answer, I'm disputing the charge.",
    "Please reverse the charge of 89.99 from yesterday, it's not mine.",
    "I returned the goods three weeks ago and still no refund, I want to open a dispute.",
    "Refund the amount you took from my account without my permission.",
    "I need to raise a dispute about a wrong amount charged at the hotel.",
    "My card was charged for something I didn't buy, please investigate and refund it.",
]


@pytest.mark.model
def test_field_example_handle_time_share(tmp_path: Path) -> None:
    landing, out = tmp_path / "landing", tmp_path / "out"
    day = AS_OF - timedelta(days=1)
    folder = landing / "field" / day.isoformat()
    folder.mkdir(parents=True)
    rows = [(HOW_TOS[i % 10], 300) for i in range(100)] + [(text, 1800) for text in DISPUTES]
    with open(folder / "export.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["conversation_id", "created_at", "text", "handle_time_seconds", "automated"])
        for i, (text, seconds) in enumerate(rows):
            ts = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc) + timedelta(minutes=i)
            writer.writerow([f"field-{i}", ts.isoformat(), text, seconds, "false"])
    assert main(["run", "--input", str(landing), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 0
    store = Store(str(out))
    scores = store.read_partition(store.partition("scores", as_of=AS_OF, customer_id="field"))
    share = scores["handle_time_share_action_led"][0]
    assert share == pytest.approx(0.375, abs=0.01), share
    # listed tiers (adapted to the queue, then in context: taxonomy.tiers.adapt) say the same
    listed = store.read_partition(store.partition("conversations", as_of=AS_OF, customer_id="field")).sort("conversation_id")
    tier_of = dict(zip(listed["conversation_id"].to_list(), listed["tier"].to_list()))
    how_tos = [tier_of[f"field-{i}"] for i in range(100)]
    disputes = [tier_of[f"field-{i}"] for i in range(100, 110)]
    assert how_tos == ["informational"] * 100, [(HOW_TOS[i % 10], t) for i, t in enumerate(how_tos) if t != "informational"]
    assert disputes.count("action_led") >= 9, list(zip(DISPUTES, disputes))


@pytest.mark.model
def test_field_example_messages_get_their_tiers() -> None:
    """TIERS.md: "How do I reset my password?" is informational, disputes are action_led."""
    from taxonomy.embed import get_embedder
    from taxonomy.tiers import load_classifier

    texts = HOW_TOS + DISPUTES
    tiers = load_classifier().predict(texts, get_embedder("onnx").encode(texts))["tier"].to_list()
    assert tiers[:10] == ["informational"] * 10, list(zip(HOW_TOS, tiers[:10]))
    assert tiers[10:].count("action_led") >= 9, list(zip(DISPUTES, tiers[10:]))
