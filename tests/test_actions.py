"""Next best actions quote whole requests (issue 16): every quoted question is a whole sentence or
clause of one of the topic's messages, never one cut mid-clause, never with an end-user's detail."""

from __future__ import annotations

import re

from taxonomy.actions import distinct_questions, topic_actions
from taxonomy.wording import FUNCTION, private_free, request_core, spans, whole_units

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


def ends_a_clause(quoted: str, messages: list[str]) -> bool:
    """``quoted`` starts a sentence or clause of one of ``messages`` and runs to its end mark, comma
    or end, or (a declarative one) up to the preposition that introduces an end-user's detail."""
    core = re.escape(quoted.rstrip("?.!").lower())
    start = r"(?:^|[.?!,;:]\s+|\b(?:hi|hello|dear support|but|and|so|please),?\s+)"
    end = r"(?:,?\s+(?:please|thanks|thank you))?\s*(?:[?.!,;]|$)"
    before_detail = r"\s+(?:for|to|in|on|at|with|from|of|by)\b"
    declarative = quoted.split()[0].lower() not in {"is", "are", "can", "could", "why", "how", "has", "hasn't", "do"}
    return any(re.search(start + core + end, m.lower()) or (declarative and re.search(start + core + before_detail, m.lower()))
               for m in messages)


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


def test_a_detail_cuts_back_to_a_whole_clause_or_drops_the_sentence() -> None:
    assert private_free("I haven't received a confirmation email for booking XX7B5V") == \
        "I haven't received a confirmation email"
    assert private_free("Is my booking <REF> confirmed") is None  # nothing whole before the detail
    assert private_free("Where is my parcel") == "Where is my parcel"


def test_units_cores_and_spans_stand_alone() -> None:
    units = whole_units("Hello, if I travel abroad next summer with the kids, can I hold euros? Thanks")
    assert units == ["Can I hold euros?"]  # the sentence is too long, the "if" clause depends on it
    assert request_core("How can I exchange currencies with this app?") == "Exchange currencies with this app"
    assert request_core("Where is my refund?") is None
    found = spans("Why hasn't my money transfer arrived", 2, 5)
    assert not any(s.endswith("transfer") or s == "money transfer arrived" for s in found)
    found = spans("My card hasn't arrived yet", 2, 5)
    assert "card hasn't arrived" in found
    for s in spans("What does pending payment mean when I pay by card", 2, 5):
        words = s.split()
        assert words[0] not in FUNCTION and words[-1] not in FUNCTION and s != "pending payment mean"
