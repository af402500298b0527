"""Haptik's telecom support queries in the tier corpus, evaluation only: ``haptik_reader.read_haptik_queries``
on a small inline fixture (no fetched file), the source's spec and mapping, and (where built) that its
rows stay out of ``corpus.parquet``."""

from __future__ import annotations

import re

import pytest

from taxonomy.tiers.corpus import MISSING_REASON, corpus_available, load_corpus, load_evaluation_corpus
from tests.tiers._corpus_build import SOURCES, build

CSV = (b"sentence_english,sentence_marathi,sentence_hindi,intent\n"
       b"show me my account statement,x,y,view my statement v1\n"
       b"\" I want to pay my bill \",x,y,pay my bill v1\n"
       b",x,y,view my bill v1\n"
       b"details of my past bills,x,y,postpaid bill payment  v1\n")


def test_reader_takes_the_english_sentence_and_the_intent_as_written() -> None:
    rows = list(build.READERS["haptik_queries"]("intent_identification/telecom_support_queries/test.csv", CSV,
                                                {"industry": "telecom_mobile"}))
    assert [r[:4] for r in rows] == [
        ("show me my account statement", "view my statement v1", "telecom_mobile", "row1"),
        ("I want to pay my bill", "pay my bill v1", "telecom_mobile", "row2"),
        ("details of my past bills", "postpaid bill payment  v1", "telecom_mobile", "row4"),  # an empty sentence is no row
    ]
    assert [r[4] for r in rows] == ["haptik-test-1", "haptik-test-2", "haptik-test-4"]


def test_reader_refuses_a_file_without_its_columns() -> None:
    with pytest.raises(SystemExit, match="sentence_english and intent"):
        list(build.READERS["haptik_queries"]("train.csv", b"text,label\nhi,greet\n", {}))


def test_source_is_evaluation_only_permissive_and_maps_every_intent_with_a_reason() -> None:
    spec = SOURCES["haptik_telecom"]
    assert spec["train"] is False and spec["licence"].startswith("ODbL 1.0") and spec["reader"] == "haptik_queries"
    assert re.fullmatch(r"[0-9a-f]{40}", spec["commit"])
    intents = build.load_mapping("haptik_telecom")
    assert all(len(e["reason"]) >= 10 for e in intents.values())
    assert {e["tier"] for e in intents.values()} == {"informational", "personalized", "action_led", "ambiguous"}
    # One's own bill, statement and usage are read from one's records (TIERS.md); faults and device
    # state are not one tier; the dataset's out-of-scope rows are left out.
    for own in ("view my bill v1", "view my statement v1", "data usage v1", "postpaid bill payment  v1"):
        assert intents[own]["tier"] == "personalized"
    assert intents["browse plans v1"]["tier"] == "informational" and intents["pay my bill v1"]["tier"] == "action_led"
    for left_out in ("none", "check signal strength v2", "check airplane mode v1", "recharge with 4g data voucher v1"):
        assert intents[left_out]["tier"] == "ambiguous"


@pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)
def test_its_rows_are_evaluation_rows_never_training_rows() -> None:
    evaluation, training = load_evaluation_corpus(), load_corpus()
    if "haptik_telecom" not in set(evaluation["source"].unique().to_list()):
        pytest.skip("corpus built before haptik_telecom was added: run models/tier-corpus/build.py")
    assert "haptik_telecom" not in set(training["source"].unique().to_list())
    rows = evaluation.filter(evaluation["source"] == "haptik_telecom")
    pattern = r"hellohaptik/haptik_open_datasets@[0-9a-f]{40}:intent_identification/telecom_support_queries/(?:train|test)\.csv#row\d+"
    assert all(re.fullmatch(pattern, p) for p in rows["provenance"].to_list())
    assert set(rows["industry"].unique().to_list()) == {"telecom_mobile"}
