"""The NLU Evaluation Corpora (Braun et al. 2017) in the tier corpus, evaluation only:
``braun_reader.read_braun_sentences`` on small inline records (no fetched file), its mapping, and
``build.py --with-evaluation-sources SOURCE ...`` promoting only the named sources in a trial build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from taxonomy.tiers.corpus import (
    MISSING_REASON,
    corpus_available,
    load_corpus,
    load_evaluation_corpus,
)
from tests.tiers._corpus_build import CORPUS, SOURCES, build

SPEC = SOURCES["braun2017"]
READ = build.READERS["braun_sentences"]


def corpus_file(*sentences: dict) -> bytes:
    return json.dumps({"name": "x", "lang": "en", "sentences": list(sentences)}).encode()


def test_reader_keeps_text_and_intent_only_with_the_corpus_as_prefix() -> None:
    data = corpus_file(
        {"author": "someone", "url": "https://example.org/q/1", "text": "How do I  delete my\naccount?",
         "intent": "Delete Account", "entities": [{"entity": "WebService", "start": 0, "stop": 1}], "training": True},
        {"text": "Alternatives to a mail app", "intent": "Find Alternative", "entities": [], "training": False},
    )
    rows = list(READ("WebApplicationsCorpus.json", data, SPEC))
    assert rows == [
        ("How do I delete my account?", "webapplications/Delete Account", "web_services", "sentence0", "webapplications-0"),
        ("Alternatives to a mail app", "webapplications/Find Alternative", "web_services", "sentence1", "webapplications-1"),
    ]
    assert not any("someone" in part or "example.org" in part for row in rows for part in row)
    transport = list(READ("ChatbotCorpus.json", corpus_file({"text": "next bus from the station", "intent": "DepartureTime"}), SPEC))
    assert transport[0][1:3] == ("chatbot/DepartureTime", "public_transport")


@pytest.mark.parametrize(("path", "data", "message"), [
    ("Other.json", corpus_file(), "not an NLU Evaluation Corpora file"),
    ("NewCorpus.json", corpus_file(), "no industry"),
    ("ChatbotCorpus.json", b'{"sentences": {}}', "no `sentences` list"),
    ("ChatbotCorpus.json", b"[]", "no `sentences` list"),
    ("ChatbotCorpus.json", corpus_file({"text": "next bus", "intent": " "}), "sentence 0: no text or no intent"),
    ("ChatbotCorpus.json", corpus_file({"intent": "DepartureTime"}), "sentence 0: no text or no intent"),
])
def test_reader_refuses_what_it_cannot_read(path: str, data: bytes, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        list(READ(path, data, SPEC))


def test_source_is_evaluation_only_permissive_and_every_intent_has_a_reason() -> None:
    assert SPEC["train"] is False and SPEC["licence"] == "CC BY-SA 3.0" and SPEC["reader"] == "braun_sentences"
    assert not re.search(r"\b(NC|ND|GPL)\b", SPEC["licence"])
    assert set(SPEC["industries"]) == {"askubuntu", "webapplications", "chatbot"}
    intents = build.load_mapping("braun2017")
    assert {i.split("/")[0] for i in intents} == set(SPEC["industries"])
    catch_all = {i for i in intents if i.endswith("/None")}
    assert catch_all == {"askubuntu/None", "webapplications/None"}
    assert all(intents[i]["tier"] == "ambiguous" for i in catch_all)
    assert {intents[i]["tier"] for i in set(intents) - catch_all} == {"informational"}


def _fake_build_source(name: str, spec: dict, pin: bool) -> tuple[list[dict], dict]:
    row = {"text": f"a message of {name}", "intent": "x", "tier": "informational", "source": name,
           "industry": "i", "provenance": f"{spec['repo']}@{spec['commit']}:f#row0", "group": f"{name}:0"}
    return [row], {"files": 1, "left_out": {}}


def test_naming_evaluation_sources_promotes_only_those(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXONOMY_TIER_CORPUS", str(tmp_path))
    monkeypatch.setattr(build, "build_source", _fake_build_source)
    committed = (CORPUS / "counts.json").read_bytes()
    held = sorted(n for n, s in SOURCES.items() if s.get("train", True) is False)
    assert "braun2017" in held and len(held) > 1
    assert build.main(["--with-evaluation-sources", "braun2017"]) == 0
    training = set(pl.read_parquet(tmp_path / "corpus.parquet")["source"].to_list())
    evaluation = set(pl.read_parquet(tmp_path / "evaluation.parquet")["source"].to_list())
    assert "braun2017" in training and evaluation == set(held) - {"braun2017"}
    assert json.loads((tmp_path / "counts.json").read_text())["evaluation_only"] == sorted(evaluation)
    assert build.main(["--with-evaluation-sources"]) == 0  # no names: every source trains, no evaluation file
    assert set(held) <= set(pl.read_parquet(tmp_path / "corpus.parquet")["source"].to_list())
    assert not (tmp_path / "evaluation.parquet").exists()
    assert (CORPUS / "counts.json").read_bytes() == committed  # a trial never rewrites the committed counts


@pytest.mark.parametrize("argv", [["braun2017"], ["--pin", "--with-evaluation-sources", "braun2017"],
                                  ["--with-evaluation-sources", "no_such_source"], ["--train", "braun2017"]])
def test_usage_errors_name_the_choices(argv: list[str]) -> None:
    with pytest.raises(SystemExit, match="usage: build.py"):
        build.main(argv)


@pytest.mark.skipif(not corpus_available(), reason=MISSING_REASON)
def test_built_rows_stay_out_of_training_with_provenance_per_sentence() -> None:
    evaluation = load_evaluation_corpus()
    rows = evaluation.filter(evaluation["source"] == "braun2017")
    if rows.is_empty():
        pytest.skip("the tier corpus on this machine was built before braun2017 was added (rebuild with build.py)")
    assert "braun2017" not in set(load_corpus()["source"].to_list())
    assert set(rows["tier"].to_list()) == {"informational"}
    assert set(rows["industry"].to_list()) == set(SPEC["industries"].values())
    pattern = r"sebischair/NLU-Evaluation-Corpora@[0-9a-f]{40}:(AskUbuntu|WebApplications|Chatbot)Corpus\.json#sentence\d+"
    assert all(re.fullmatch(pattern, p) for p in rows["provenance"].to_list())
    assert rows.group_by("intent").len()["len"].max() <= SPEC["cap_per_intent"]
