"""Rasa demo assistants in the tier corpus (evaluation only): ``rasa_reader.read_rasa_nlu`` on a small
inline fixture (no fetched file), their mappings, and (where built) that their rows stay out of
``corpus.parquet``."""

from __future__ import annotations

import re

import pytest

from taxonomy.tiers.corpus import (
    MISSING_REASON,
    corpus_available,
    load_corpus,
    load_evaluation_corpus,
)
from tests.tiers._corpus_build import SOURCES, build

RASA = sorted(n for n, s in SOURCES.items() if s["reader"] == "rasa_nlu")
DIALOGUE_ACTS = {"greet", "goodbye", "thank", "thankyou", "affirm", "deny", "inform", "out_of_scope",
                 "bot_challenge", "check_human", "help", "human_handoff"}

NLU_YML = b'''version: "3.1"
nlu:
- intent: transfer_money
  examples: |
    - I want to transfer $100 to [Bob](PERSON)
    - pay [Katy  Parrow]{"entity": "PERSON", "value": "katy"} $40 please

    - send money
- synonym: credit
  examples: |
    - credit card
- intent: greet
  examples: |
    - hi
'''


def test_reader_strips_entities_and_locates_each_example_by_line() -> None:
    rows = list(build.READERS["rasa_nlu"]("data/nlu.yml", NLU_YML, {"industry": "banking"}))
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("I want to transfer $100 to Bob", "transfer_money", "line5"),
        ("pay Katy Parrow $40 please", "transfer_money", "line6"),
        ("send money", "transfer_money", "line8"),
        ("hi", "greet", "line14"),  # the synonym's example is not a row
    ]
    lines = NLU_YML.decode().split("\n")
    assert all(lines[int(r[3][4:]) - 1].lstrip().startswith("- ") for r in rows)
    assert {r[2] for r in rows} == {"banking"} and len({r[4] for r in rows}) == len(rows)


def test_reader_refuses_a_file_it_cannot_read() -> None:
    with pytest.raises(SystemExit, match="no `nlu:` list"):
        list(build.READERS["rasa_nlu"]("data/nlu.yml", b"version: '3.1'\nstories: []\n", {}))
    with pytest.raises(SystemExit, match="literal block"):
        list(build.READERS["rasa_nlu"]("x.yml", b"nlu:\n- intent: a\n  examples: '- hi'\n", {}))


@pytest.mark.parametrize("name", RASA)
def test_rasa_sources_are_evaluation_only_and_leave_dialogue_acts_out(name: str) -> None:
    assert RASA and SOURCES[name]["train"] is False and SOURCES[name]["licence"] in {"Apache-2.0", "MIT"}
    intents = build.load_mapping(name)
    assert all(intents[i]["tier"] == "ambiguous" for i in DIALOGUE_ACTS & set(intents))
    assert any(e["tier"] != "ambiguous" for e in intents.values())


@pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)
def test_evaluation_rows_never_reach_the_training_corpus() -> None:
    evaluation = load_evaluation_corpus()
    assert set(RASA) <= set(evaluation["source"].unique().to_list())
    training = load_corpus()
    assert not set(training["source"].unique().to_list()) & set(RASA)
    assert not set(training["provenance"].to_list()) & set(evaluation["provenance"].to_list())
    rasa = evaluation.filter(evaluation["source"].is_in(RASA))
    assert all(re.fullmatch(r"RasaHQ/[\w.-]+@[0-9a-f]{40}:[\w/.-]+\.yml#line\d+", p) for p in rasa["provenance"].to_list())
    assert not any(re.search(r"[\[\]{}]", t) for t in rasa["text"].to_list())  # entity annotations stripped


def test_unseen_shares_are_also_summed_from_untempered_probabilities() -> None:
    import numpy as np
    import polars as pl

    from taxonomy.tiers.evaluate import evaluate_unseen

    frame = pl.DataFrame({"source": ["rasa_x"] * 4, "industry": ["banking"] * 4, "intent": ["a", "a", "b", "b"]})
    tiers = np.array(["action_led", "action_led", "personalized", "personalized"])
    logits = np.eye(3)[[2, 2, 1, 1]] * 4.0  # all right and confident
    out = evaluate_unseen(frame, logits, 3.0, tiers)["rasa_x"]
    sharp, flat = out["shares_untempered"], out["shares"]  # temperature 3 flattens every row toward 1/3
    assert sharp["max_abs_error"] < 0.05 < flat["max_abs_error"]
    assert sharp["estimated"]["informational"] < flat["estimated"]["informational"]
    assert out["per_industry"]["banking"]["max_share_error_untempered"] == sharp["max_abs_error"]
