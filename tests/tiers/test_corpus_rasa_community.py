"""The Rasa community collection (RasaHQ/NLU-training-data, one folder per domain) and Carbon Bot in the
tier corpus, evaluation only: ``rasa_folder_reader.read_rasa_nlu_by_folder`` on a small inline fixture
(no fetched file), the two sources' specs and mappings, and (where built) that their rows stay out of
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

NEW = ("rasa_community", "rasa_carbon")

NLU_YML = b'''version: "2.0"
nlu:
- intent: lost_card
  examples: |
    - i've lost my [credit](card_type) card
    - My card is gone
- intent: greet
  examples: |
    - hi
'''


def test_folder_reader_prefixes_the_folder_and_takes_its_industry() -> None:
    spec = {"industries": {"banking": "banking", "car-purchase": "automotive"}}
    rows = list(build.READERS["rasa_nlu_by_folder"]("banking/nlu.yml", NLU_YML, spec))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("i've lost my credit card", "banking/lost_card", "banking", "line5"),  # entity reduced to its text
        ("My card is gone", "banking/lost_card", "banking", "line6"),
        ("hi", "banking/greet", "banking", "line9"),
    ]
    lines = NLU_YML.decode().split("\n")
    assert all(lines[int(r[3][4:]) - 1].lstrip().startswith("- ") for r in rows)
    assert len({r[4] for r in rows}) == len(rows) and all(r[4].startswith("banking-") for r in rows)
    other = list(build.READERS["rasa_nlu_by_folder"]("car-purchase/nlu.yml", NLU_YML, spec))
    assert {r[1].split("/")[0] for r in other} == {"car-purchase"} and {r[2] for r in other} == {"automotive"}
    assert not {r[4] for r in rows} & {r[4] for r in other}  # same lines, other folder: other groups


def test_folder_reader_refuses_a_folder_without_an_industry() -> None:
    with pytest.raises(SystemExit, match="no industry"):
        list(build.READERS["rasa_nlu_by_folder"]("weather/nlu.yml", NLU_YML, {"industries": {"banking": "banking"}}))
    with pytest.raises(SystemExit, match="no industry"):
        list(build.READERS["rasa_nlu_by_folder"]("nlu.yml", NLU_YML, {"industries": {"": "x"}}))


@pytest.mark.parametrize("name", NEW)
def test_new_sources_are_evaluation_only_permissive_and_map_every_intent_with_a_reason(name: str) -> None:
    spec = SOURCES[name]
    assert spec["train"] is False and spec["licence"] == "Apache-2.0" and spec["repo"].startswith("RasaHQ/")
    intents = build.load_mapping(name)
    assert all(len(e["reason"]) >= 10 for e in intents.values())
    tiers = {e["tier"] for e in intents.values()}
    assert {"informational", "action_led", "ambiguous"} <= tiers


def test_community_reads_only_support_folders_each_with_an_industry_and_mapped() -> None:
    spec = SOURCES["rasa_community"]
    folders = {p.split("/")[0] for p in spec["include"]}
    assert folders == set(spec["industries"])
    assert not folders & {"mood", "smalltalk", "weather", "education"}  # chit-chat / slot values: not read
    intents = build.load_mapping("rasa_community")
    assert {i.split("/")[0] for i in intents} == folders
    assert {e["tier"] for e in intents.values()} >= {"informational", "personalized", "action_led"}
    for slot_values in ("banking/currency", "banking/crypto_currency", "car-purchase/choose_budget"):
        assert intents[slot_values]["tier"] == "ambiguous"


def test_carbon_leaves_dialogue_acts_chit_chat_and_opinions_out() -> None:
    intents = build.load_mapping("rasa_carbon")
    left_out = {"greet", "farewell", "thank", "affirm", "deny", "inform", "insult", "vulgar", "restart", "help",
                "faq/deny-climate-change", "faq/oos_request", "faq/meta_inquire-ask_bot-challenge", "deny_flying"}
    assert all(intents[i]["tier"] == "ambiguous" for i in left_out)
    assert intents["buy_offsets"]["tier"] == "action_led" and intents["faq/inquire-cost"]["tier"] == "informational"


@pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)
def test_new_rows_are_evaluation_rows_never_training_rows() -> None:
    evaluation, training = load_evaluation_corpus(), load_corpus()
    built = set(evaluation["source"].unique().to_list())
    if not set(NEW) <= built:
        pytest.skip(f"corpus built before {', '.join(NEW)} were added: run models/tier-corpus/build.py")
    assert not set(training["source"].unique().to_list()) & set(NEW)
    rows = evaluation.filter(evaluation["source"].is_in(list(NEW)))
    assert all(re.fullmatch(r"RasaHQ/[\w.-]+@[0-9a-f]{40}:[\w/.-]+/nlu\.yml#line\d+", p) for p in rows["provenance"].to_list())
    community = rows.filter(rows["source"] == "rasa_community")
    assert set(community["industry"].unique().to_list()) <= set(SOURCES["rasa_community"]["industries"].values())
    assert all(i.split("/")[0] in SOURCES["rasa_community"]["industries"] for i in community["intent"].to_list())
    assert not any(re.search(r"[\[\]{}]", t) for t in rows["text"].to_list())  # entity annotations stripped
