"""NLU++ in the tier corpus: the label-set rules of ``mappings/nlupp.yaml`` and ``build.read_nlupp``,
on a small inline fixture (no network, no fetched file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from taxonomy.schema import TIERS
from tests.tiers._corpus_build import CORPUS, SOURCES, build

SPEC = SOURCES["nlupp"]

FOLD = [  # (text, labels, expected intent, expected tier or None when left out)
    ("How can I cancel my room?", ["booking", "cancel_close_leave_freeze", "how"], "how-to", "informational"),
    ("Somebody stole my card this morning, how can I block it?", ["card", "cancel_close_leave_freeze", "how", "lost_stolen"],
     "lost-stolen", "action_led"),
    ("please just cancel that booking for murad", ["booking", "cancel_close_leave_freeze"], "action", "action_led"),
    ("Indeed, I'd like to freeze my account", ["account", "affirm", "cancel_close_leave_freeze"], "action", "action_led"),
    ("No, I didn't forget it", ["deny", "lost_stolen"], "answer-no-or-unsure", None),
    ("can I open account in zloty or koronas?", ["account", "international", "make_open_apply_setup_get_activate", "request_info"],
     "can-i-action", "informational"),
    ("when will you unblock my credit card finally?", ["card", "credit", "make_open_apply_setup_get_activate", "when"],
     "action-question", None),
    ("why was my transfer declined?", ["transfer_payment_deposit", "why", "wrong_notworking_notshowing"], "why-went-wrong", "personalized"),
    ("That transaction is still pending", ["transfer_payment_deposit", "wrong_notworking_notshowing"], "payment-went-wrong", "personalized"),
    ("my card doesn't work", ["card", "wrong_notworking_notshowing"], "other-problem", None),
    ("hello, what is my balance?", ["balance", "greet", "how_much"], "balance", "personalized"),
    ("It arrived yesterday", ["arrival"], "other", None),
    ("how much did I spend at uber in last 10 months", ["how_much", "transfer_payment_deposit"], "own-spending", "personalized"),
    ("Do you charge extra for cash withdrawals outside the EU?", ["fees_interests", "international", "request_info", "withdrawal"],
     "product-question", "informational"),
    ("What's my current mortgage rate?", ["fees_interests", "mortgage", "request_info"], "other", None),
    ("Let me talk to a person", ["handoff"], "handoff", None),
    ("two adults and no kids", [], "no-label", None),
    ("thanks, bye", ["end_call", "thank"], "other", None),
]
HOTEL_FOLD = [
    ("Is WiFi free?", ["how_much", "wifi"], "facility-question", "informational"),
    ("how long did I book that room for?", ["booking", "how_long"], "other", None),
    ("the hairdryer is broken", ["room_ammenities", "wrong_notworking_notshowing"], "broken-in-stay", "action_led"),
    ("I cancelled 2 rooms 5 days ago and still no refund", ["refund", "wrong_notworking_notshowing"], "refund-missing", "personalized"),
    ("I want to book a room for October 18 until the 22nd", ["booking", "make_open_apply_setup_get_activate"], "action", "action_led"),
]


def _fold(examples: list[tuple]) -> bytes:
    return json.dumps([{"text": t, **({"intents": labels} if labels else {})} for t, labels, *_ in examples]).encode()


@pytest.mark.parametrize(("domain", "examples"), [("banking", FOLD), ("hotels", HOTEL_FOLD)])
def test_reader_maps_label_sets_by_the_first_matching_rule(domain: str, examples: list[tuple]) -> None:
    path = f"nlupp/data/{domain}/fold3.json"
    rows = list(build.read_nlupp(path, _fold(examples), SPEC))
    mapping = build.load_mapping("nlupp")
    assert len(rows) == len(examples)  # every row meets one rule (the last has no condition)
    for (text, intent, industry, where, group), (want_text, _, want_rule, want_tier), i in zip(rows, examples, range(len(rows))):
        assert (text, intent, where, group) == (want_text, f"{domain}/{want_rule}", f"row{i}", f"{domain}-fold3-{i}")
        assert industry == {"banking": "banking", "hotels": "hospitality"}[domain]
        assert mapping[intent]["tier"] == (want_tier or "ambiguous"), text


def test_mapping_is_complete_reasoned_and_names_only_known_labels() -> None:
    mapping = build.load_mapping("nlupp")
    domains, rules = build.label_set_rules("nlupp")
    assert set(mapping) == {f"{d}/{r['name']}" for r in rules for d in domains if r.get("domain", d) == d}
    assert all(e["tier"] in (*TIERS, "ambiguous") and len(e["reason"]) >= 20 for e in mapping.values())
    assert {e["tier"] for e in mapping.values()} == {*TIERS, "ambiguous"}
    ontology = json.dumps({"intents": {label: {} for label in ("how", "why")}}).encode()
    with pytest.raises(SystemExit, match="names labels not in"):  # a label the ontology lacks stops the build
        list(build.read_nlupp("nlupp/data/ontology.json", ontology, SPEC))


def test_a_rule_list_whose_last_rule_has_a_condition_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mappings").mkdir()
    bad = {"source": "x", "domains": ["banking"], "rules": [{"name": "a", "any": ["how"], "tier": "informational", "reason": "how-to"}]}
    (tmp_path / "mappings" / "x.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    monkeypatch.setattr(build, "HERE", tmp_path)
    with pytest.raises(SystemExit, match="last rule must have no condition"):
        build.label_set_rules("x")


def test_source_entry_reads_only_nlupp_never_the_banking77_split() -> None:
    assert SPEC["licence"] == "CC BY 4.0" and "NLU++" in SPEC["attribution"]
    assert all(p.startswith("nlupp/") for p in SPEC["include"])  # banking_data/ (Banking77, test split reserved) is never read
    pins = (CORPUS / "pins" / "nlupp.tsv").read_text(encoding="utf-8").splitlines()
    assert len(pins) == 41 and all(line.startswith("nlupp/data/") for line in pins)


def test_evaluation_only_rows_are_scored_per_source_and_industry() -> None:
    import numpy as np
    import polars as pl

    from taxonomy.tiers.evaluate import evaluate_unseen

    frame = pl.DataFrame({"source": ["nlupp"] * 6, "industry": ["banking"] * 3 + ["hospitality"] * 3,
                          "intent": ["banking/action"] * 3 + ["hotels/facility-question"] * 3})
    tiers = np.array(["action_led", "action_led", "personalized", "informational", "informational", "action_led"])
    logits = np.eye(3)[[2, 2, 0, 0, 0, 2]] * 5.0  # one banking row wrong (personalized called informational)
    out = evaluate_unseen(frame, logits, 1.0, tiers)["nlupp"]
    assert out["n"] == 6 and out["accuracy"] == pytest.approx(5 / 6, abs=1e-3)
    assert out["per_industry"]["hospitality"]["macro_f1"] == 1.0 and out["per_industry"]["hospitality"]["n"] == 3
    assert out["per_industry"]["banking"]["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert 0 < out["shares"]["max_abs_error"] < 0.2


def test_without_an_evaluation_file_there_is_nothing_to_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taxonomy.tiers.corpus import COLUMNS, load_evaluation_corpus
    from taxonomy.tiers.model import evaluate_evaluation_sources

    monkeypatch.setenv("TAXONOMY_TIER_CORPUS", str(tmp_path))
    assert load_evaluation_corpus().is_empty() and tuple(load_evaluation_corpus().columns) == COLUMNS
    assert evaluate_evaluation_sources() == {}
