"""TIERS.md's form rules on training labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taxonomy.tiers.rules import apply_rules, load_rules

TEXTS = [
    "How do I activate my card?",                                # opening how-to, mapped action_led
    "Hi, what's the process for cancelling an order",            # greeting, then how-to
    "My card was charged twice. How do I get it voided?",        # reports its own problem first: kept
    "activate my card please",                                   # a request to act: kept
    "How can I see where my parcel is",                          # how-to, mapped personalized
    "How do I reset my password?",                               # already informational
]
MAPPED = np.array(["action_led", "action_led", "action_led", "action_led", "personalized", "informational"])


def test_shipped_rules_follow_tiers_md() -> None:
    ruled, fired = apply_rules(TEXTS, MAPPED, load_rules())
    assert ruled.tolist() == ["informational", "informational", "action_led", "action_led", "informational", "informational"]
    assert fired.tolist() == ["opening-how-to", "opening-how-to", "", "", "opening-how-to", ""]
    assert MAPPED[0] == "action_led"  # the input is not changed in place


def test_a_bad_rule_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - {name: x, match: '^how', from: [action_led], to: urgent, reason: r}\n")
    with pytest.raises(ValueError, match="rule 1 needs name, match, reason and known tiers"):
        load_rules(bad)
