"""The two training sources tier-clf-v9 added to the tier corpus: Haptik's telecom support queries
(``haptik_reader.read_haptik_queries``) and the Bot Framework skills' LUIS examples
(``lu_reader.read_lu``), each reader on a small inline fixture (no fetched file), the sources' specs
and mappings, and (where built) that their rows are training rows."""

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


def test_haptik_is_a_permissive_training_source_and_maps_every_intent_with_a_reason() -> None:
    spec = SOURCES["haptik_telecom"]
    assert spec.get("train", True) is True and spec["licence"].startswith("ODbL 1.0") and spec["reader"] == "haptik_queries"
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


LU = b"""> # Intent definitions

## FindCalendarEntry
- what's on my calendar {FromDate=today}
- find the meeting with {ContactName=judith}
- ^(show|find) [my] {Subject}^
- (show|find) my meetings [with {personName}]

## CreateCalendarEntry
- book a meeting with {ContactName=tom chen} {FromDate=tomorrow}
"""


def test_lu_reader_reduces_entities_and_skips_templates() -> None:
    rows = list(build.READERS["lu"]("x/calendarskill/en-us/Calendar.lu", LU, {"industry": "personal_productivity"}))
    assert [r[:4] for r in rows] == [
        ("what's on my calendar today", "calendar/FindCalendarEntry", "personal_productivity", "line4"),
        ("find the meeting with judith", "calendar/FindCalendarEntry", "personal_productivity", "line5"),
        ("book a meeting with tom chen tomorrow", "calendar/CreateCalendarEntry", "personal_productivity", "line10"),
    ]  # the two template lines (a '^' pattern, alternatives and an optional slot) are not rows
    assert len({r[4] for r in rows}) == 3


def test_botframework_is_a_permissive_training_source_reading_ones_records_as_personalized() -> None:
    spec = SOURCES["botframework"]
    assert spec.get("train", True) is True and spec["licence"] == "MIT" and spec["reader"] == "lu"
    assert {p.rsplit("/", 1)[-1] for p in spec["include"]} == {"Calendar.lu", "Email.lu", "ToDo.lu"}
    intents = build.load_mapping("botframework")
    assert all(len(e["reason"]) >= 10 for e in intents.values())
    for read in ("calendar/FindCalendarEntry", "email/CheckMessages", "email/ReadAloud", "todo/ShowToDo"):
        assert intents[read]["tier"] == "personalized"
    for change in ("calendar/CreateCalendarEntry", "email/SendEmail", "todo/AddToDo"):
        assert intents[change]["tier"] == "action_led"
    for act in ("calendar/RejectCalendar", "email/ConfirmMessages", "todo/ShowNextPage", "calendar/CheckAvailability"):
        assert intents[act]["tier"] == "ambiguous"


@pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)
def test_their_rows_are_training_rows() -> None:
    evaluation, training = load_evaluation_corpus(), load_corpus()
    built = set(training["source"].unique().to_list())
    if not {"haptik_telecom", "botframework"} <= built:
        pytest.skip("corpus built before tier-clf-v9's sources were added: run models/tier-corpus/build.py")
    assert not {"haptik_telecom", "botframework"} & set(evaluation["source"].unique().to_list())
    rows = training.filter(training["source"] == "haptik_telecom")
    pattern = r"hellohaptik/haptik_open_datasets@[0-9a-f]{40}:intent_identification/telecom_support_queries/(?:train|test)\.csv#row\d+"
    assert all(re.fullmatch(pattern, p) for p in rows["provenance"].to_list())
    assert set(rows["industry"].unique().to_list()) == {"telecom_mobile"}
    lu = training.filter(training["source"] == "botframework")
    assert all(re.fullmatch(r"microsoft/botframework-solutions@[0-9a-f]{40}:\S+\.lu#line\d+", p) for p in lu["provenance"].to_list())
    assert not any(re.search(r"[{}\[\]^|]", t) for t in lu["text"].to_list())
    assert lu.group_by("intent").len()["len"].max() <= SOURCES["botframework"]["cap_per_intent"]
