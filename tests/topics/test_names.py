"""Topic names (issue 16): requests in the customer's words, deterministic, never one end-user's details,
stable across runs with the topic id."""

from __future__ import annotations

import numpy as np
import polars as pl

from taxonomy.embed import HashingEmbedder
from taxonomy.topics import discover_topics
from taxonomy.topics.names import message_name, name_topics, phrase_candidates

EMBEDDER = HashingEmbedder()
REFUND = ["Where is my refund for order {n}?", "My refund hasn't arrived yet, order {n}",
          "Hi, my refund hasn't arrived. Thanks, Anna", "Refund still not in my account"]
PASSWORD = ["How do I reset my password?", "I forgot my password, how can I reset it?",
            "Password reset link does not work", "Can't log in, need to reset my password"]


def corpus(repeats: int = 6) -> pl.DataFrame:
    texts = [t.format(n=4400 + i) for i in range(repeats) for t in REFUND + PASSWORD]
    return pl.DataFrame({"conversation_id": [f"c{i:03d}" for i in range(len(texts))], "text": texts})


def test_phrases_start_and_end_on_telling_words() -> None:
    found = phrase_candidates("Hi, my card hasn't arrived yet. Call me on <PHONE> please")
    assert "card hasn't arrived" in found
    assert not any(p.split()[0] in {"my", "hi", "yet"} or p.split()[-1] in {"yet", "please", "on"} for p in found)
    assert not any("phone" in p.lower() for p in found)


def test_message_name_drops_greetings_and_personal_details() -> None:
    assert message_name("Dear support, I haven't received a confirmation email for booking XX7B5V. Thanks") == \
        "I haven't received a confirmation email for booking"
    assert message_name("Hello, my email is <EMAIL>. Where is my parcel?") == "Where is my parcel?"
    assert message_name("Wo ist meine Bestellung?", english=False) == "Wo ist meine Bestellung?"


def test_names_are_requests_from_shared_words_and_deterministic() -> None:
    df = corpus()
    x = EMBEDDER.encode(df["text"].to_list())
    first = discover_topics(df, x, embed=EMBEDDER.encode)
    again = discover_topics(df.reverse(), x[::-1], embed=EMBEDDER.encode)
    assert first.topics.sort("topic_id").equals(again.topics.sort("topic_id"))
    for name in first.topics["label"].to_list():
        assert 2 <= len(name.split()) <= 10 and name[:1].isupper()
        assert not any(ch.isdigit() for ch in name) and "Anna" not in name and "<" not in name


def test_name_is_kept_while_the_topic_stays_put_and_renamed_when_it_moves() -> None:
    df = corpus()
    x = EMBEDDER.encode(df["text"].to_list())
    first = discover_topics(df, x, embed=EMBEDDER.encode)
    state = first.centroids.with_columns(pl.lit("A name from last run").alias("label"))
    kept = discover_topics(df, x, previous=state, embed=EMBEDDER.encode)
    assert set(kept.topics["label"]) == {"A name from last run"}
    assert kept.centroids.filter(pl.col("conversations") > 0)["label"].to_list() == ["A name from last run"] * kept.topics.height
    # The centroid it was named at moved away: the topic is named again from today's messages.
    flipped = -np.asarray(state["label_centroid"].to_list(), dtype=np.float32)
    moved = state.with_columns(pl.Series("label_centroid", flipped, dtype=state.schema["label_centroid"]))
    renamed = discover_topics(df, x, previous=moved, embed=EMBEDDER.encode)
    assert "A name from last run" not in set(renamed.topics["label"])
    assert renamed.topics.sort("topic_id")["topic_id"].equals(kept.topics.sort("topic_id")["topic_id"])


def test_state_before_names_still_matches() -> None:
    df = corpus()
    x = EMBEDDER.encode(df["text"].to_list())
    first = discover_topics(df, x, embed=EMBEDDER.encode)
    old = first.centroids.select("topic_id", "centroid", "conversations")  # a state written before issue 16
    again = discover_topics(df, x, previous=old, embed=EMBEDDER.encode)
    assert set(again.topics["topic_id"]) == set(first.topics["topic_id"])


def test_name_topics_without_embedder_uses_the_central_message() -> None:
    names = name_topics([["Where is my refund?"] * 3], np.ones((1, 4)) / 2, [["Where is my refund?"]], None)
    assert names == ["Where is my refund?"]
