"""Next best actions quote whole requests (issue 16): every quoted question is a whole sentence or
clause of one of the topic's messages, never one cut mid-clause, never with an end-user's detail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from taxonomy.actions import topic_actions
from taxonomy.quotes import distinct_questions
from taxonomy.wording import (
    bare,
    clauses,
    private_free,
    request_core,
    sentences,
    strip_edges,
    whole_units,
)

BOOKING = [
    "Is my booking <REF> confirmed for the trip to Lisbon on Friday?",
    "Hi, I haven't received a confirmation email for booking XX7B5V. Thanks, Maria",
    "I haven't received the confirmation email for my booking yet",
    "Can you check if my booking is confirmed? I paid yesterday and the app shows nothing at all "
    "under my trips, which is really worrying because we fly very soon",
    "Where is my booking confirmation?",
    "My booking is not showing in the app, can you resend the confirmation email please",
    "Why haven't I got a booking confirmation?",
    "Is my booking confirmed?",
]


# Words a quoted request may leave out of its source sentence: greetings and fillers, and the phrase
# that carried an end-user's detail (its preposition, determiners, the word labelling the detail).
DROPPABLE = {"hi", "hello", "hey", "hiya", "dear", "support", "team", "good", "morning", "afternoon", "please",
             "thanks", "thank", "you", "ty", "for", "to", "in", "on", "at", "of", "from", "with", "by", "via", "the",
             "a", "an", "my", "our", "your", "this", "that", "and", "so", "or", "but", "because", "booking", "trip", "order", "flight",
             "ticket", "reference", "ref", "number", "card", "account", "invoice", "days", "weeks", "hours", "today",
             "asap", "now", "already", "again", "urgently", "pls", "plz", "years", "year", "months", "month", "minutes",
             "day", "week", "times", "pounds", "euros", "dollars", "just", "also", "ok", "okay", "well", "um", "oh",
             "then", "yes", "urgent", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} | {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december"}
# Words a request core leaves at the start ("Can you help me" book a train ticket).
PREAMBLE = {"can", "could", "would", "will", "you", "i", "i'd", "me", "help", "how", "do", "like", "want", "need",
            "is", "it", "possible", "tell", "show", "let", "am", "able", "be", "there", "way", "wanna", "may"}


def is_detail(token: str) -> bool:
    return bool(re.search(r"\d|<[A-Z_]+>|[£$€]", token)) or bool(re.fullmatch(r"[A-Z][a-zß-ÿ]+\W*", token))


def ends_a_clause(quoted: str, messages: list[str], said_anyway: tuple[str, ...] = ()) -> bool:
    """``quoted`` is one sentence or clause of a message, in order, leaving out only greetings,
    fillers, a request preamble at its start and the phrases that carried an end-user's detail: it
    runs to the end of its source (never stops mid-clause, never "Is my booking..."). A sentence of
    ``said_anyway`` (lower-case words, digits left out) may end a sentence that no full stop ended."""
    want = [w.lower().strip("?.!,") for w in quoted.split() if w.strip("?.!,")]
    ending = [re.compile(r"[\W\d_]+".join(map(re.escape, s.split())) + r"[\W\d_]*$", re.IGNORECASE) for s in said_anyway]
    for message in messages:
        sentences = re.split(r"(?<=[.?!])\s+|\n+", message)
        sentences += [e.sub("", s) for s in sentences for e in ending if e.search(s)]
        clauses = [c for sentence in sentences for c in re.split(
            r",\s+|;\s+|\s(?=(?:but|because)\s)|\s(?=or\s+(?:is|are|do|does|can|will|would|should)\s)", sentence)]
        for source in sentences + clauses:
            kept = re.split(r"\s+(?:thanks|thank you|cheers|kind regards|best|many thanks)\b", source, flags=re.I)[0]
            tokens = [t for t in kept.split() if t.strip("?.!,")]
            pos, matched = 0, []
            for i, t in enumerate(tokens):
                if pos < len(want) and t.lower().strip("?.!,") == want[pos]:
                    matched.append(i)
                    pos += 1
            if pos < len(want) or not matched:
                continue
            head = tokens[: matched[0]]
            rest = [t for i, t in enumerate(tokens) if i > matched[0] and i not in matched]
            if all(is_detail(t) or t.lower().strip("?.!,") in DROPPABLE | PREAMBLE for t in head) and \
                    all(is_detail(t) or t.lower().strip("?.!,") in DROPPABLE for t in rest):
                return True
    return False


def test_quoted_questions_are_whole_requests() -> None:
    questions = distinct_questions(BOOKING * 2, keywords=["booking", "confirmation", "confirmed"])
    assert 3 <= len(questions) <= 5
    for q in questions:
        assert "..." not in q and "<" not in q and not re.search(r"\d", q), q
        assert "Lisbon" not in q and "Maria" not in q
        assert ends_a_clause(q, BOOKING), q
        assert len(q.split()) <= 16


def test_the_action_text_quotes_only_whole_requests() -> None:
    for tier in ("informational", "personalized"):
        result = topic_actions(tier, "Booking confirmation", BOOKING * 2, 3.0, 0.1, ["booking", "confirmation"])
        quoted = re.findall(r'"([^"]+)"', str(result["next_best_action"]))[1:]  # the first is the name
        assert quoted == result["nba_questions"] and quoted
        assert all(ends_a_clause(q, BOOKING) for q in quoted)


def test_a_detail_leaves_with_its_phrase_or_drops_the_sentence() -> None:
    assert private_free("I haven't received a confirmation email for booking XX7B5V") == \
        "I haven't received a confirmation email"
    assert private_free("Is my booking <REF> confirmed?") == "Is my booking confirmed?"
    assert private_free("Can you check if my hotel in Rome is booked?") == "Can you check if my hotel is booked?"
    assert private_free("Why was I charged $792.20 for order SW-5748568?") == "Why was I charged?"
    assert private_free("The tracking for SW-4894995 hasn't moved in 8 days.") == "The tracking hasn't moved."
    assert private_free("how do i turn on 2fa") == "how do i turn on 2fa"  # a short term, no reference
    assert private_free("how do i turn on 445512") is None  # "on" is the verb's particle: never "how do i turn"
    assert private_free("Need to change the delivery address to Hauptstraße 5") == "Need to change the delivery address"
    # The place written in lower case after an address placeholder goes with it; other words stay.
    assert private_free("I need to change the delivery address on order #2341355 to <ADDRESS>, bangkok.") == (
        "I need to change the delivery address.")
    assert private_free("I have moved to <ADDRESS>, new york") == "I have moved"
    assert private_free("Send it to <ADDRESS>, can you help") == "Send it, can you help"
    # A phrase that goes on past its detail leaves no whole clause ("Downgrade us plan" was quoted).
    assert private_free("Downgrade us to the Starter plan please.") is None
    assert private_free("My flight to Paris tomorrow was cancelled") == "My flight tomorrow was cancelled"
    assert strip_edges("How many seats are we using right now?") == "How many seats are we using right now?"
    assert strip_edges("Send it now") == "Send it"
    assert private_free("My name is Maria Silva") is None
    assert private_free("Where is my parcel") == "Where is my parcel"
    # A booking code of capital letters only is a detail after its label; capitals elsewhere are not.
    assert private_free("What's the address of my hotel for booking TCGLXD?") == "What's the address of my hotel?"
    assert private_free("Is my booking TCGLXD confirmed?") == "Is my booking confirmed?"
    assert private_free("The SWIFT transfer failed") == "The SWIFT transfer failed"
    assert private_free("PLEASE CANCEL MY ORDER NOW") == "PLEASE CANCEL MY ORDER NOW"


def test_units_cores_and_bare_clauses_stand_alone() -> None:
    units = whole_units("Hello, if I travel abroad next summer with the kids, can I hold euros? Thanks")
    assert units == ["Can I hold euros?"]  # the sentence is too long, the "if" clause depends on it
    assert request_core("How can I exchange currencies with this app?") == "Exchange currencies with this app"
    assert request_core("Can you please help me book a train ticket?") == "Book a train ticket"
    assert request_core("Can you help me with a PIN change?") is None  # never "With a PIN change"
    assert request_core("Where is my refund?") is None
    assert bare("My transfer failed") == "Transfer failed" and bare("I lost my card") == "Lost my card"
    assert bare("I can't get cash") is None and bare("Is my card blocked?") is None
    # A clause leaning on another ("..., have since requested a refund") and closings are no units.
    assert clauses("I returned the shoes, have since requested a refund") == ["I returned the shoes"]
    assert sentences("There is a strange payment on my card. Cheers, Zoe") == ["There is a strange payment on my card."]
    assert private_free("Thanks so much, Zoe") is None


def test_a_big_topic_is_read_through_a_bounded_sample_that_keeps_its_ranking() -> None:
    from taxonomy.quotes import MAX_READ
    from taxonomy.wording import evenly

    # 1,000 messages: "Is my booking confirmed?" asked most, then two other phrasings, then rare ones.
    texts = (["Is my booking confirmed?"] * 500 + ["Why haven't I got a booking confirmation?"] * 300
             + ["Where is my booking confirmation?"] * 150 + [f"My booking {i} is weird" for i in range(50)])
    sample = evenly(texts, MAX_READ)
    assert len(sample) == MAX_READ and evenly(list(reversed(texts)), MAX_READ) == sample  # bounded, any row order
    assert sample.count("Is my booking confirmed?") == MAX_READ // 2
    result = topic_actions("informational", "Booking confirmation", texts, 3.0, 0.1, ["booking", "confirmation"])
    whole = distinct_questions(texts, keywords=["booking", "confirmation"])  # every message read
    assert result["nba_questions"] == whole and whole[0] == "Is my booking confirmed?"
    assert evenly(BOOKING, MAX_READ) == BOOKING  # a small topic is read whole


def test_a_typo_copy_of_a_question_is_the_same_question() -> None:
    texts = ["Was my discount code applied?"] * 5 + ["Was my discount code applid?", "Was my discouunt code applied?",
                                                       "Do you have a student discount?", "Do you have a student discount?"]
    assert distinct_questions(texts) == ["Was my discount code applied?", "Do you have a student discount?"]
    # Different words stay different questions.
    assert len(distinct_questions(["Where is my refund?"] * 3 + ["Where is my return?"] * 3)) == 2


def test_an_action_led_text_quotes_requests_of_its_tier_beside_the_name() -> None:
    # The name is chosen among all of a topic's messages; the action quotes the requests of its tier.
    exchange = ["Can I exchange these jeans for a bigger size?", "I want to exchange the jeans, they are too small.",
                "Please exchange my jeans for a size 34.", "The jeans don't fit, can I swap them for another size?"] * 3
    result = topic_actions("action_led", "Is the denim jeans machine washable?", exchange, 5.3, 0.08, ["jeans", "exchange"])
    quoted = re.findall(r'"([^"]+)"', str(result["next_best_action"]))
    assert result["nba_action"] == "exchange"  # the messages name no record: no "exchange the account"
    assert quoted[:2] == [result["nba_action"], "Is the denim jeans machine washable?"]
    assert quoted[2:] == result["nba_questions"] and quoted[2:]
    assert all(ends_a_clause(q, exchange) for q in quoted[2:])


@pytest.mark.parametrize(("texts", "action"), [
    # A noun after "a" names the action; it acts on the record after it.
    (["I want a refund for my order.", "Can I get a refund for this item?", "i need a refund for my order"], "refund the order"),
    # "it" is what the sentence is about; the object is the whole run of object words.
    (["The passenger name on my ticket is wrong, please correct it.", "The passenger name is wrong, correct it please"],
     "correct the passenger name"),
    (["I need to change my delivery address.", "Please change the delivery address on my parcel"], "change the delivery address"),
    (["Please book a return flight to Rome", "Can you book me a return flight?"], "book the flight"),  # not "return"
    # A verb's word used as an adjective or a noun is no action: the topic's name stands.
    (["The amount of cash I received is not correct.", "I did not get the correct amount"] * 2, "Wrong cash amount"),
    (["Only one box of order 4648728 arrived, is the rest coming?"] * 3, "Wrong cash amount"),
    # A word that is a record and an action, opening a clause, is its subject when what happened to it follows
    # ("Order #123 came with a torn jacket" orders nothing); as an order it acts ("Order a new card for me").
    (["Order #1155770 came with a torn rain jacket.", "Order SW-8359976 came with torn sheets", "order 3577784 never arrived",
      "Transfer to my savings failed", "Refund for order 123 not received"], "Wrong cash amount"),
    (["Order a new card for me", "Order me a new card, mine is broken.", "Please order a new card"], "order the card"),
    (["Refund my order please", "Refund the order, it never came", "refund my order"], "refund the order"),
    # A contact detail the message gives is not what the action is about.
    (["I ordered the wrong size, can you cancel it before it ships? My email is <EMAIL>."] * 3, "cancel"),
    # One message is not enough to name the topic's action.
    (["I was charged twice.", "Two charges for one coffee", "Please refund the second charge"], "Wrong cash amount"),
])
def test_the_action_is_a_verb_the_requests_use_and_what_they_ask_it_done_to(texts: list[str], action: str) -> None:
    from taxonomy.actions import main_action

    assert main_action(texts, "Wrong cash amount") == action
    result = topic_actions("action_led", "Wrong cash amount", texts, 2.0, 0.1)
    doing = "the topic" if action == "Wrong cash amount" else f'"{action}" end to end for the topic'
    assert str(result["next_best_action"]).startswith(f'Automate {doing} "Wrong cash amount"')


def test_what_end_users_write_whatever_they_ask_is_never_quoted() -> None:
    from taxonomy.quotes import BOILERPLATE_TOPICS, common_sentences, request_sentence

    asks = ["Where is my refund?", "How do I reset my password?", "Cancel my subscription", "Why was I charged twice?",
            "Can I change my delivery address?"]  # five topics
    said = ["My colleague told me to contact you.", "I've been a customer for {} years.", "Third time asking!"]
    # Each topic: the request then a said-anyway sentence, once run on without a full stop.
    topics = [[f"{ask} {said[0]}", f"{ask} {said[1].format(i + 2)}", f"{ask.rstrip('?')}, {said[1].format(i + 7)}",
               f"{ask} {said[2]}"] * 2 for i, ask in enumerate(asks)]
    boilerplate = common_sentences(topics)
    keys = {k for ks in boilerplate.values() for k in ks}
    # In more than BOILERPLATE_TOPICS topics: the three said-anyway sentences ("for 2 years", "for 5 years" are one).
    assert keys == {"my colleague told me to contact you", "i've been a customer for years", "third time asking"}
    assert len(asks) > BOILERPLATE_TOPICS
    for ask, texts in zip(asks, topics):
        quoted = topic_actions("action_led", ask, texts, 1.0, 0.2, boilerplate=boilerplate)["nba_questions"]
        assert quoted and not any(k in q.lower() for q in quoted for k in ("colleague", "customer for", "third time"))
        # Cut where it ends a request that no full stop ended; without the customer's boilerplate it stays.
        assert request_sentence(texts[2], boilerplate=boilerplate) == ask.rstrip("?")
        assert "customer" in str(request_sentence(texts[2]))
    # A message of nothing else quotes nothing (without the boilerplate it would be quoted).
    nothing = ["My colleague told me to contact you. Third time asking!"] * 3
    assert topic_actions("action_led", "x", nothing, 1.0, 0.2, boilerplate=boilerplate)["nba_questions"] == []
    assert topic_actions("action_led", "x", nothing, 1.0, 0.2)["nba_questions"] == ["My colleague told me to contact you"]
    # Only where it ends a sentence: "What should I do" is never cut out of the question it opens.
    what = common_sentences([["What should I do?"]] * (BOILERPLATE_TOPICS + 1))
    assert request_sentence("What should I do if someone used my card?", boilerplate=what) == (
        "What should I do if someone used my card?")
    assert request_sentence("Someone used my card, what should I do?", boilerplate=what) == "Someone used my card"
    assert common_sentences([["What should I do?"]] * BOILERPLATE_TOPICS) == {}


def test_the_bundled_samples_quotes_leave_out_what_is_said_whatever_the_request(tmp_path: Path) -> None:
    """With the real model, as `make demo` runs it: the generator's decorations ("My colleague told
    me to contact you", "Third time asking!") are added to requests of every topic; none is quoted,
    alone or run on after a request, and every quote still ends a clause of its messages."""
    import shutil

    import polars as pl

    from taxonomy.config import load_config
    from taxonomy.pipeline import run
    from taxonomy.samples.texts import ANGER, CONTEXT

    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "landing" / "shopwave", landing / "shopwave")
    result = run(str(landing), str(tmp_path / "out"), config=load_config(None, embedding_backend="onnx"), progress=False)
    part = f"as_of={result.as_of}/customer_id=shopwave/part-0.parquet"
    topics = pl.read_parquet(tmp_path / "out" / "topics" / part)
    texts = dict(pl.read_parquet(tmp_path / "out" / "conversations" / part).group_by("topic_id").agg("text").iter_rows())
    decorations = [re.sub(r"\s*\{\w+\}.*|[.!]+$", "", d).lower() for d in CONTEXT + ANGER]
    quoted = [(q, t["topic_id"]) for t in topics.iter_rows(named=True) for q in t["nba_questions"] or []]
    assert len(quoted) > 3 * topics.height // 2
    assert not [q for q, _ in quoted if any(d in q.lower() for d in decorations)]
    said = tuple(d for d in decorations if d.count(" ") >= 2)
    assert all(ends_a_clause(q, texts[topic], said) for q, topic in quoted)


def test_redaction_placeholders_name_no_record_or_check() -> None:
    from taxonomy.actions import checks_needed, records_needed

    signed = ["Where is my refund? Kind regards, <NAME>", "My refund is late, call me on <PHONE>", "Refund please <NAME>"]
    assert records_needed(signed) == ["refund"]
    assert not any(c.startswith("identity") for c in checks_needed(signed))  # "<NAME>" is a signature
    # A detail the writer gives ("The card is <CARD>", "My name is <NAME>", "Account holder: <NAME>") is no
    # record and raises no check; the word itself still counts where the request is about it.
    assert records_needed(["The card is <CARD>, where is my refund?"] * 2) == ["refund"]
    assert "card" in records_needed(["My card <CARD> was declined, where is my refund?"] * 2)
    given = ["My name is <NAME>, please cancel my booking", "Account holder: <NAME>, <EMAIL>. Cancel my booking"]
    assert not any(c.startswith("identity") for c in checks_needed(given * 2))
    assert records_needed(["Send it to <EMAIL>, where is my refund?"] * 2) == ["refund"]
    assert any(c.startswith("identity") for c in checks_needed(["Please verify my name, it is wrong"] * 2))


def test_a_capitalised_word_many_end_users_write_is_the_business_not_a_name() -> None:
    # "Slack" in 4 of 5 messages: a product, kept; "Trello" and the cities, one message each: cut as names.
    texts = ["Does LoopDesk integrate with Slack?", "Can LoopDesk integrate with Slack", "Is there a Slack integration?",
             "Do you integrate with Slack?", "Does it work with Trello?"]
    quoted = distinct_questions(texts)
    assert any("Slack" in q for q in quoted) and not any("Trello" in q for q in quoted)
    cities = distinct_questions(["My hotel in Rome is not booked", "My hotel in Paris is not booked",
                                 "My hotel in Lisbon is not booked"])
    assert cities == ["My hotel is not booked"]


def test_other_languages_quote_and_name_no_end_users_name_or_booking_code() -> None:
    from taxonomy.topics.names import central_name
    from taxonomy.wording import shared_words

    german = ["Mein Name ist falsch geschrieben, bitte korrigieren: Quentin Kowalski.", "Kann ich meinen Hund mitnehmen?",
              "Mein Name ist falsch geschrieben, bitte korrigieren: Wen Larsen.", "Kann ich meinen Hund mitnehmen?",
              "Kann ich meinen Hund mitnehmen?", "Mein Name ist falsch geschrieben, bitte korrigieren: Wen Müller."]
    quoted = distinct_questions(german)
    assert "Kann ich meinen Hund mitnehmen?" in quoted  # German nouns many messages use stay
    assert not any(n in q for q in quoted for n in ("Quentin", "Kowalski", "Larsen", "Müller"))
    assert "Kowalski" not in central_name(german, shared=shared_words(german))
    spanish = ["¿Está confirmada mi reserva LXHKVJ?", "¿Está confirmada mi reserva QWERTY?", "¿Cuál es la política?"] * 2
    assert not any("LXHKVJ" in q or "QWERTY" in q for q in distinct_questions(spanish))


def test_help_centre_answers_quote_the_tiers_questions_not_the_other_tiers_keywords() -> None:
    """A topic of product questions and damaged-item complaints: its keywords are the complaints'
    ("came torn", "photos"), but the help-centre text of its informational messages quotes their
    questions; one complaint the model read as informational is not what a help-centre page answers."""
    products = ["wool jumper", "backpack", "blender", "rain jacket", "phone case"]
    informational = [f"Hi, how does the {p} fit, should I size up?" for p in products] \
        + [f"Will the {p} be back in stock in medium?" for p in products[:3]] \
        + [f"Does the {p} come with a warranty?" for p in products[:3]] \
        + [f"Order #{1000 + i} came with a torn {p}. I have photos." for i, p in enumerate(products)]
    keywords = ["came", "came torn", "torn", "photos", "need exchange", "wrong colour"]
    out = topic_actions("informational", "How does the wool jumper fit", informational, 3.0, 0.1, keywords)
    assert out["nba_questions"] and all(q.endswith("?") for q in out["nba_questions"])
    assert not any("torn" in q for q in out["nba_questions"])
    before = distinct_questions(informational, keywords=keywords)  # quoting by keywords alone: the complaints
    assert before and all("torn" in q for q in before)
    # an action-led text keeps quoting requests whatever their form
    complaints = [t for t in informational if "torn" in t]
    assert any("torn" in q for q in topic_actions("action_led", "Came with a torn backpack", complaints, 3.0, 0.1, keywords)["nba_questions"])


def test_english_quotes_and_names_read_as_written_for_a_reader_other_languages_as_typed() -> None:
    """A CSM pastes the quotes into an e-mail: English ones get "I" and no shouted function word; the
    words of another language stay as typed (the Italian "i" is an article, not "I")."""
    from taxonomy.topics.names import central_name

    english = ["how do i get a refund for an item i bought?", "How do i get a refund for an item i bought?",
               "WHY IS my refund not here, i'm waiting"] * 2
    quoted = topic_actions("informational", "Refunds", english, 1.0, 0.1)
    assert "How do I get a refund for an item I bought?" in quoted["nba_questions"]
    assert all(q in quoted["next_best_action"] for q in quoted["nba_questions"])
    assert not any(" i " in f" {q} " or "IS" in q.split() for q in quoted["nba_questions"])
    italian = ["quando arrivano i soldi sul conto?", "Quando arrivano i soldi sul conto?"] * 3
    kept = topic_actions("personalized", "Soldi", italian, 1.0, 0.1, english=False)["nba_questions"]
    assert kept == ["Quando arrivano i soldi sul conto?"]
    assert central_name(italian, casing=False) == "Quando arrivano i soldi sul conto?"
    assert central_name(english) == "How do I get a refund for an item I bought?"
