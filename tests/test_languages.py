"""Issue 16: languages found, not scrambled; next best actions with structure.

A mixed-language export (an English customer plus German, Spanish, French and Portuguese
requests, each repeated a few times) runs through the whole pipeline (hashing embedder: fast;
language detection is the real py3langid model).
"""

from __future__ import annotations

import csv
import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from taxonomy.actions import checks_needed, records_needed, topic_actions
from taxonomy.config import Config
from taxonomy.language import detect_language, detect_languages, plainly_english
from taxonomy.pipeline import run
from taxonomy.quotes import distinct_questions

AS_OF = date(2026, 3, 1)
ENGLISH = [
    ("How long does standard delivery take?", 300),
    ("What is your returns policy for sale items?", 300),
    ("Where is my order 4471? It has not arrived yet.", 600),
    ("Has my refund for the returned jacket been processed?", 600),
    ("Please cancel my order, it has not shipped yet and I was charged twice.", 1200),
    ("I want to change the delivery address on my order before it ships.", 1200),
]
FOREIGN = {
    "de": ["Wo ist meine Bestellung? Sie ist noch nicht angekommen.", "Bitte stornieren Sie meine Bestellung sofort.",
           "Wann bekomme ich meine Rückerstattung für die Rücksendung?"],
    "es": ["¿Dónde está mi pedido? Todavía no ha llegado.", "Quiero cancelar mi pedido, por favor.",
           "¿Cuándo recibiré el reembolso de mi devolución?"],
    "fr": ["Où est ma commande ? Elle n'est toujours pas arrivée.", "Je voudrais annuler ma commande, s'il vous plaît.",
           "Quand vais-je recevoir le remboursement de mon retour ?"],
    "pt": ["Onde está a minha encomenda? Ainda não chegou.", "Quero cancelar a minha encomenda, por favor.",
           "Quando vou receber o reembolso da minha devolução?"],
}
REPEATS = 3


def write_mixed(root: Path, days: int = 6) -> dict[str, str]:
    """One customer's CSV exports; returns conversation id -> the language it was written in."""
    truth: dict[str, str] = {}
    for d in range(days):
        day = AS_OF - timedelta(days=days - d)
        folder = root / "mixed" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        rows = [(text, seconds, "en") for text, seconds in ENGLISH] * 2
        if d < REPEATS:
            rows += [(text, 900, code) for code, texts in FOREIGN.items() for text in texts]
        with open(folder / "export.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["conversation_id", "created_at", "text", "handle_time_seconds"])
            for i, (text, seconds, code) in enumerate(rows):
                cid = f"m-{d}-{i:03d}"
                truth[cid] = code
                ts = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc) + timedelta(minutes=i)
                w.writerow([cid, ts.isoformat(), text, seconds])
    return truth


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("mixed")
    truth = write_mixed(root / "landing")
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
    run(str(root / "landing"), str(root / "out"), as_of=AS_OF, config=cfg, progress=False)
    return root / "out", truth


def _published(out: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(out / name / f"as_of={AS_OF}" / "customer_id=mixed" / "part-0.parquet")


def test_every_non_english_conversation_gets_its_language(mixed_run: tuple[Path, dict[str, str]]) -> None:
    out, truth = mixed_run
    conversations = _published(out, "conversations")
    got = dict(zip(conversations["conversation_id"].to_list(), conversations["language"].to_list()))
    assert got == truth


def test_no_topic_mixes_languages(mixed_run: tuple[Path, dict[str, str]]) -> None:
    out, _ = mixed_run
    conversations = _published(out, "conversations")
    per_topic = conversations.group_by("topic_id").agg(pl.col("language").n_unique().alias("n"))
    assert per_topic["n"].max() == 1
    topics = _published(out, "topics")
    foreign = topics.filter(pl.col("language") != "en")
    assert sorted(foreign["language"].unique().to_list()) == ["de", "es", "fr", "pt"]
    assert not any(foreign["language_supported"].to_list())
    # Their tiers carry less confidence than the same model gives English rows.
    lowered = conversations.filter(pl.col("language") != "en")["tier_confidence"]
    assert lowered.max() <= 0.5 * 1.0 + 0.5 / 3 + 1e-9


def test_non_english_share_is_right_to_the_conversation(mixed_run: tuple[Path, dict[str, str]]) -> None:
    out, truth = mixed_run
    scores = _published(out, "scores").row(0, named=True)
    foreign = sum(1 for code in truth.values() if code != "en")
    assert scores["conversations"] == len(truth)
    assert scores["non_english_share"] == foreign / len(truth)
    assert scores["unsupported_language_share"] == foreign / len(truth)
    shares = {s["language"]: s["share"] for s in scores["language_shares"]}
    assert shares == {code: sum(1 for c in truth.values() if c == code) / len(truth) for code in set(truth.values())}


def test_next_best_actions_have_structure(mixed_run: tuple[Path, dict[str, str]]) -> None:
    out, _ = mixed_run
    topics = _published(out, "topics")
    assert topics.height
    for t in topics.iter_rows(named=True):
        assert t["next_best_action"] and "agent hours/month to win" in t["next_best_action"]
        if t["tier"] == "informational":
            assert 1 <= len(t["nba_questions"]) <= 5
        elif t["tier"] == "personalized":
            assert t["nba_records"] and t["nba_questions"]
        elif t["tier"] == "action_led":
            assert t["nba_action"] and t["nba_checks"] and 0 <= t["hours_share"] <= 1


def test_detection_on_short_texts_and_placeholders() -> None:
    assert detect_languages(["ok", "", None, "Hi <EMAIL> thanks"]) == ["en"] * 4
    assert detect_language("Ist meine Buchung <REF> bestätigt?") == "de"
    assert detect_language("Can I request a card?") == "en"


def test_plain_english_is_settled_without_the_model_and_nothing_else_is() -> None:
    assert plainly_english("Where is my order? It has not arrived yet.")
    assert plainly_english("I can’t log in to my account")  # curly apostrophe
    # Too few English words, an accent, or another language's function word: the model decides.
    assert not plainly_english("Cash Bonus")
    assert not plainly_english("Mi cuenta online no funciona, can you help")  # "mi"
    assert not plainly_english("Mein Account ist gesperrt, what can I do")  # "mein", "ist"
    assert not plainly_english("Je voudrais annuler ma commande")
    assert not plainly_english("Wo ist meine Bestellung? my order")
    assert not plainly_english("¿Dónde está my order?")
    for code, texts in FOREIGN.items():
        for text in texts:
            assert not plainly_english(text)
            assert detect_language(text) == code


def test_action_structure_from_requests() -> None:
    texts = ["Please cancel my order, it shipped yesterday and I was charged twice.",
             "I need to cancel order 12345678 within the 14 days.", "Cancel my order please, wrong item."] * 3
    result = topic_actions("action_led", "Cancel my order", texts, 12.5, 0.25)
    assert result["nba_action"] == "cancel the order"
    assert any(c.startswith("time window") for c in result["nba_checks"])
    assert any(c.startswith("amount") for c in result["nba_checks"])
    assert records_needed(texts)[0] == "order"
    assert "25% of the customer's hours still to win" in result["next_best_action"]
    # A sentence holding a long number (an order id) or a placeholder is never quoted.
    assert all("12345678" not in q for q in distinct_questions(texts))
    assert distinct_questions(["Where is my refund?", "where is my refund?", "Where is my refund??"])[:1]
    assert checks_needed(["What is your policy?"]) == ["eligibility: is the request allowed under the policy (eligibility)"]


def test_one_language_splits_by_request() -> None:
    from taxonomy.topics.languages import cluster_language

    where = ["Wo ist meine Bestellung? Sie ist noch nicht angekommen.", "Meine Bestellung ist noch nicht angekommen"]
    cancel = ["Bitte stornieren Sie meine Bestellung sofort.", "Ich möchte meine Bestellung stornieren"]
    texts = (where + cancel) * 4
    labels = cluster_language(texts, min_topic_size=5)
    assert len(set(labels)) == 2
    assert all(labels[i] == labels[0] for i, t in enumerate(texts) if t in where)
    assert cluster_language(texts[:6], min_topic_size=5).tolist() == [0] * 6  # too few: one topic


def test_a_topic_in_another_language_keeps_its_words_as_typed() -> None:
    """English casing ("i" -> "I") is for English names only: in Italian "i" is an article."""
    import numpy as np
    import polars as pl

    from taxonomy.topics import discover_topics

    italian = ["quando arrivano i soldi sul conto?", "Quando arrivano i soldi sul mio conto?"] * 4
    english = ["where is my refund? i paid", "Where is my refund, it is late"] * 4
    df = pl.DataFrame({"conversation_id": [f"c{i:02d}" for i in range(16)], "text": italian + english,
                       "language": ["it"] * 8 + ["en"] * 8})
    x = np.random.default_rng(0).standard_normal((16, 384)).astype(np.float32)
    labels = dict(discover_topics(df, x).topics.select("language", "label").iter_rows())
    assert labels["it"] == "Quando arrivano i soldi sul conto? (Italian)"
    assert labels["en"] == "Where is my refund?"
