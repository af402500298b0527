"""Next best actions a CSM can paste into a customer e-mail, with their structure (issue 16).

Per topic, by its tier (TIERS.md: the lever each tier needs):

- ``informational``: the questions help-centre content must answer: the topic's distinct request
  phrasings (first whole request of each message, near-duplicates merged, requests asked as
  questions first, then most asked first, up to 5, fewer when the topic is asked in fewer ways);
- ``personalized``: the records the assistant must read (order, refund, booking, balance...: the
  record words the requests use, most mentioned first) and the questions it must answer from them;
- ``action_led``: the action (the verb most requests use and what they ask it done to, e.g. "cancel
  the booking", "change the delivery address"), the checks the messages mention (eligibility, time
  windows, identity, amounts, ...) and the share of the customer's hours still to win that sits in
  the topic.

Each text says the agent hours per month its lever could still win: those of the topic's conversations
of its tier (``nba_hours_to_win``), not the whole topic's, and names the hours the topic's other tiers hold
where one holds ``REST_SHARE`` of the topic's or more (a topic of jeans-fit questions whose returns hold
most of the hours gets help-centre answers for the questions and a word on the returns). Everything comes from this customer's own
(redacted) messages of the topic, at most ``MAX_READ`` of them (:func:`taxonomy.wording.evenly`: the
cost per topic stays bounded at scale, and shares of a sample that size rank phrasings, records and
checks as the whole topic would); a quoted request is always a whole sentence or clause of a message,
without an end-user's detail or what the customer's end-users write whatever they ask
(:mod:`taxonomy.quotes`). Deterministic: ties break alphabetically.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from taxonomy.language import DEFAULT_LANGUAGE, embedder_covers
from taxonomy.quotes import (
    MAX_READ,
    MIN_MENTION_SHARE,
    MIN_SUPPORT,
    common_sentences,
    distinct_questions,
    english_case,
    lower_words,
    split_sentences,
)
from taxonomy.wording import PLACEHOLDER_RE, clauses, evenly

# Another tier's hours in a topic are named in its action from this share of the topic's hours to win.
REST_SHARE = 0.25
_NEEDS = {"informational": "help-centre content", "personalized": "data connectors", "action_led": "a procedure"}

# Record -> words that name it in a request.
RECORDS: dict[str, tuple[str, ...]] = {
    "order": ("order", "orders", "purchase", "item", "items", "parcel", "package"),
    "delivery / tracking": ("delivery", "delivered", "shipping", "shipped", "tracking", "courier", "arrive", "arrived"),
    "refund": ("refund", "refunds", "refunded", "reimbursement", "money back"),
    "booking": ("booking", "reservation", "flight", "hotel", "ticket", "trip", "seat", "itinerary", "check-in"),
    "balance": ("balance", "funds"),
    "account": ("account", "login", "log in", "profile", "password", "email", "user", "users", "workspace", "details"),
    "card": ("card", "cards", "pin"),
    "payment / transaction": ("payment", "transaction", "charge", "charged", "debit", "payments"),
    "transfer": ("transfer", "transfers", "transferred"),
    "top-up": ("top up", "top-up", "topup", "topping up"),
    "subscription / plan": ("subscription", "plan", "renewal", "billing", "trial", "seats", "licence", "license",
                            "usage", "upgrade", "downgrade"),
    "invoice": ("invoice", "invoices", "receipt", "bill"),
    "statement": ("statement",),
    "withdrawal": ("withdrawal", "withdraw", "atm"),
}
# Check -> (words that raise it, what the procedure must verify).
CHECKS: dict[str, tuple[tuple[str, ...], str]] = {
    "eligibility": (("eligible", "allowed", "policy", "can i", "able to", "possible", "qualify", "rules"),
                    "is the request allowed under the policy (eligibility)"),
    "time window": (("days", "within", "deadline", "yesterday", "hours", "week", "weeks", "late", "still", "yet",
                     "already", "before", "after"), "is it inside the time window the policy allows"),
    "identity": (("verify", "verification", "identity", "id", "passport", "name", "account holder", "password",
                  "security"), "is the person asking the account holder (identity)"),
    "amount": (("amount", "fee", "fees", "charge", "charged", "twice", "price", "cost", "£", "$", "€", "money"),
               "is the amount right (fees, duplicates, limits)"),
    "status": (("shipped", "dispatched", "pending", "declined", "failed", "cancelled", "canceled", "blocked",
                "status"), "what state is the record in now (shipped, pending, declined)"),
}
ACTION_VERBS: tuple[str, ...] = (
    "cancel", "refund", "return", "change", "update", "reset", "block", "unblock", "freeze", "close", "delete",
    "upgrade", "downgrade", "rebook", "reschedule", "activate", "replace", "exchange", "correct", "remove",
    "add", "transfer", "verify", "order", "reverse", "dispute", "unlock", "book", "reserve", "schedule", "pay",
    "buy", "renew",
)
_VERBS = frozenset(ACTION_VERBS)
# What an action acts on: the records' nouns and the details a request changes. Fixed words only, so an
# action never quotes an end-user's detail.
OBJECT_WORDS = frozenset({
    "account", "address", "appointment", "balance", "bill", "booking", "card", "cards", "charge", "check-in",
    "courier", "date", "dates", "delivery", "details", "email", "flight", "funds", "hotel", "invoice", "invoices",
    "item", "items", "itinerary", "licence", "license", "limit", "login", "member", "members", "membership", "money",
    "name", "number", "order", "orders", "owner", "ownership", "package", "parcel", "password", "payee", "payment",
    "payments", "photo", "pin", "plan", "profile", "project", "purchase", "receipt", "refund", "refunds",
    "reimbursement", "reservation", "seat", "seats", "shipping", "statement", "subscription", "ticket", "top-up",
    "topup", "tracking", "transaction", "transfer", "transfers", "trip", "withdrawal", "workspace",
})
# An end-user's own details: what a request changes, never the record an action is about when the message
# only mentions them ("My email is <EMAIL>").
_DETAIL_WORDS = frozenset({"address", "details", "email", "login", "name", "number", "password", "pin", "profile"})
# Words that open an object only right before one ("phone number", "home address"; "phone case" is no object).
_OBJECT_MODIFIERS = frozenset({"billing", "contact", "home", "passenger", "phone"})
_SINGULAR = {"cards": "card", "invoices": "invoice", "items": "item", "members": "member", "orders": "order",
             "payments": "payment", "refunds": "refund", "seats": "seat", "transfers": "transfer"}
# Actions named by a noun after "a" ("I want a refund", "I need an exchange").
_NOMINAL_ACTIONS = {"refund": "refund", "return": "return", "exchange": "exchange", "replacement": "replace",
                    "cancellation": "cancel", "reversal": "reverse"}
_ARTICLES = frozenset({"a", "an", "another"})
# After these a verb's word is a noun or an adjective ("the correct amount", "is not correct", "my order").
_NOT_A_VERB_AFTER = frozenset({"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that",
                               "is", "was", "are", "were", "be", "been", "not", "no", "any"})
# A word that is both an action and a record ("order", "refund", "transfer") is the action only after these.
_VERB_OPENERS = frozenset({"to", "please", "pls", "can", "could", "you", "i", "we", "and", "me", "us"})
_PRONOUNS = frozenset({"it", "them"})
# Such a word opening a clause is its subject, not an order to act, when a word saying what happened to it
# follows ("Order #1155770 came with a torn jacket", "Transfer to my savings failed"; "Refund my order" acts).
_SUBJECT_OF = frozenset({"came", "arrived", "failed", "declined", "bounced", "is", "was", "has", "hasn't", "isn't",
                         "wasn't", "never", "not", "didn't", "still", "went", "got", "shows", "showed", "says", "said"})
_OBJECT_OPENERS = _ARTICLES | {"the", "my", "your", "our", "their", "this", "that", "these", "those", "me", "us",
                               "please", "pls"} | _PRONOUNS
# A label that gives an end-user's detail ("My name is <NAME>", "Account holder: <NAME>", "The card is
# <CARD>"): the writer identifying themselves, not a request about their name, identity or card.
_GIVEN_DETAIL_RE = re.compile(r"(?i)\b(?:(?:account|card)[ \t]?holder|(?:full[ \t]+|first[ \t]+|last[ \t]+)?name|e-?mail|"
                              r"phone|number|card|iban|address)(?:[ \t]+(?:is|was)|[ \t]*:)[ \t]*(?=<[A-Z_]+>)")


def _plain_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` without redaction placeholders nor the labels that give them: "Kind
    regards, <NAME>" and "My name is <NAME>" name no identity check, "My email is <EMAIL>" no e-mail
    record."""
    return lower_words(PLACEHOLDER_RE.sub(" ", _GIVEN_DETAIL_RE.sub(" ", text)) if "<" in text else text)


def _mentions(texts: list[str], table: dict[str, tuple[str, ...]]) -> list[str]:
    """Keys of ``table`` whose words the messages mention, most mentioned first."""
    pattern, owner = _mention_re(tuple(table.items()))
    counts: Counter[str] = Counter()
    for t in texts:
        lowered = " " + " ".join([*_plain_words(t), *(c for c in t if c in "£$€")]) + " "
        counts.update({owner[m.group()] for m in pattern.finditer(lowered)})
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [k for i, k in enumerate(ranked) if i == 0 or counts[k] >= MIN_MENTION_SHARE * len(texts)]


@lru_cache(maxsize=8)
def _mention_re(table: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for a whole table: a word or phrase between spaces (the spaces not consumed, so
    neighbours match too), or a one-character one (a currency sign) anywhere; and each match's key.
    No word of a table is part of another of its phrases, so one scan finds what one search per key
    would."""
    owner = {w: key for key, words in table for w in words}
    longest = sorted(owner, key=lambda w: (-len(w), w))
    said = "|".join(re.escape(w) for w in longest if len(w) > 1)
    signs = "".join(re.escape(w) for w in longest if len(w) == 1)
    return re.compile(f"(?<= )(?:{said})(?= )" + (f"|[{signs}]" if signs else "")), owner


def records_needed(texts: list[str], limit: int = 3) -> list[str]:
    """Records the requests name (``RECORDS`` keys), most mentioned first; the customer's ``account``
    when they name none (whatever is personal sits behind it)."""
    return _mentions(texts, RECORDS)[:limit] or ["account"]


def checks_needed(texts: list[str]) -> list[str]:
    """The checks (``CHECKS``) the messages raise, most raised first, as what the procedure verifies."""
    keys = _mentions(texts, {k: words for k, (words, _) in CHECKS.items()})
    return [f"{k}: {CHECKS[k][1]}" for k in keys]


def _object(words: tuple[str, ...], start: int, verb: str) -> str | None:
    """The first thing acted on in ``words[start:]`` ("delivery address"), singular; None when none
    comes before another action verb (``verb`` itself is skipped)."""
    for j in range(start, len(words)):
        w = words[j]
        if w == verb:
            continue
        if w in _VERBS and w not in OBJECT_WORDS:
            return None
        follows = words[j + 1] if j + 1 < len(words) else ""
        if w in OBJECT_WORDS or (w in _OBJECT_MODIFIERS and follows in OBJECT_WORDS):
            end = j + 1
            while end < len(words) and words[end] in OBJECT_WORDS:
                end += 1
            return " ".join(_SINGULAR.get(x, x) for x in words[j:end])
    return None


def _actions(text: str) -> tuple[set[tuple[str, str | None]], set[str]]:
    """The actions a message asks for, as (verb, what it acts on or None), and the records it mentions."""
    found: set[tuple[str, str | None]] = set()
    mentioned: set[str] = set()
    for sentence in split_sentences(text):
        acts, records = _sentence_actions(sentence)
        found |= acts
        mentioned |= records
    return found, mentioned


@lru_cache(maxsize=1 << 15)  # sentences recur across messages (canned phrasings, complaints)
def _sentence_actions(sentence: str) -> tuple[frozenset[tuple[str, str | None]], frozenset[str]]:
    """One sentence's actions and records (see :func:`_actions`).

    A verb acts on the first object after it in its clause ("cancel my previous purchase"); "it" after a
    verb is the first object of its sentence ("The passenger name is wrong, please correct it"). A noun
    after "a" can name the action ("I want a refund for my order": refund the order).
    """
    sentence_words = _plain_words(sentence)
    mentioned = frozenset(_SINGULAR.get(w, w) for w in sentence_words if w in OBJECT_WORDS and w not in _DETAIL_WORDS)
    if not any(w in _VERBS or w in _NOMINAL_ACTIONS for w in sentence_words):
        return frozenset(), mentioned
    found: set[tuple[str, str | None]] = set()
    for clause in clauses(sentence):
        ws = _plain_words(clause)
        for i, w in enumerate(ws):
            before, after = (ws[i - 1] if i else ""), (ws[i + 1] if i + 1 < len(ws) else "")
            if before in _ARTICLES and w in _NOMINAL_ACTIONS and after not in OBJECT_WORDS:  # not "a return flight"
                verb = _NOMINAL_ACTIONS[w]
            elif (w in _VERBS and before not in _NOT_A_VERB_AFTER
                  and (w not in OBJECT_WORDS or before in _VERB_OPENERS
                       or (not i and (after in _OBJECT_OPENERS or _SUBJECT_OF.isdisjoint(ws))))):
                verb = w
            else:
                continue
            acted_on = _object(sentence_words, 0, w) if after in _PRONOUNS else _object(ws, i + 1, w)
            found.add((verb, acted_on))
    return frozenset(found), mentioned


def main_action(texts: list[str], label: str) -> str:
    """The action to automate: the verb most of the messages ask for (at least ``MIN_SUPPORT`` of
    them), with what they most often ask it done to ("cancel the booking", "change the delivery
    address"); else with the record most of the messages asking it mention; else the verb alone. The
    topic's name when no action verb is used often enough (a topic of reports: "I did not get all the
    cash at the ATM")."""
    verbs: Counter[str] = Counter()
    objects: Counter[tuple[str, str]] = Counter()
    near: Counter[tuple[str, str]] = Counter()
    for text in texts:
        actions, mentioned = _actions(text)
        verbs.update({verb for verb, _ in actions})
        objects.update({(verb, thing) for verb, thing in actions if thing})
        near.update({(verb, record) for verb, _ in actions for record in mentioned
                     if record != verb and _NOMINAL_ACTIONS.get(record) != verb})
    ranked = [v for v, n in sorted(verbs.items(), key=lambda kv: (-kv[1], kv[0])) if n >= MIN_SUPPORT]
    if not ranked:
        return label
    verb = ranked[0]
    done_to = sorted(((thing, n) for (v, thing), n in objects.items() if v == verb), key=lambda kv: (-kv[1], kv[0]))
    if not done_to:
        done_to = sorted(((thing, n) for (v, thing), n in near.items() if v == verb and n >= MIN_SUPPORT),
                         key=lambda kv: (-kv[1], kv[0]))
    return f"{verb} the {done_to[0][0]}" if done_to else verb


def _hours(hours_to_win: float | None, topic_hours: float | None = None) -> str:
    """``~5.2 agent hours/month to win``, and ``of the topic's 6.7`` when the topic's other tiers hold the rest
    (the topic table's "still to win" is the whole topic's: the two figures must not seem to disagree)."""
    if hours_to_win is None:
        return "hours to win unknown (no handle time)"
    whole = "" if topic_hours is None or round(topic_hours, 1) == round(hours_to_win, 1) else f" of the topic's {topic_hours:.1f}"
    return f"~{hours_to_win:.1f} agent hours/month to win{whole}"


def _quoted(items: list[str]) -> str:
    return "; ".join(f'"{q}"' for q in items)


def topic_actions(tier: str | None, label: str, texts: list[str], hours_to_win: float | None,
                  hours_share: float | None, keywords: list[str] | None = None,
                  boilerplate: dict[str, tuple[str, ...]] | None = None, *, english: bool = True,
                  topic_hours: float | None = None) -> dict[str, object]:
    """The next best action of one topic: its structure and its text.

    Args:
        tier: The topic's majority tier.
        label: The topic's name.
        texts: The topic's (redacted) messages of that tier, this customer's only (``MAX_READ`` of them are read).
            The text quotes requests of that tier: the name, chosen among all the topic's messages, can be
            another tier's phrasing ("Is the jeans machine washable?" in a topic of exchange requests).
        hours_to_win: Agent hours per month automation could still take in the topic's conversations of ``tier``.
        hours_share: Their share of the customer's hours still to win.
        keywords: The topic's keywords: quoted questions must use one of their words.
        boilerplate: What the customer's end-users write whatever they ask
            (:func:`taxonomy.quotes.common_sentences` over all its topics): never quoted.
        english: The topic's language is English: its quotes get English casing ("How do i ..." ->
            "How do I ...", :func:`taxonomy.quotes.english_case`), the words otherwise as written.
        topic_hours: The whole topic's hours to win, said beside ``hours_to_win`` when they differ.

    Returns:
        ``nba_questions``, ``nba_records``, ``nba_checks`` (lists), ``nba_action`` and ``next_best_action``.
    """
    texts = evenly(texts, MAX_READ)
    # Help-centre content and an assistant reading records answer questions: those come first.
    questions = distinct_questions(texts, keywords=keywords, boilerplate=boilerplate,
                                   questions_first=tier in ("informational", "personalized"))
    questions = [english_case(q) for q in questions] if english else questions
    records = records_needed(texts)
    out: dict[str, object] = {"nba_questions": questions, "nba_records": [], "nba_checks": [], "nba_action": None}
    hours = _hours(hours_to_win, topic_hours)
    if tier == "informational":
        text = f'Publish help-centre answers for the topic "{label}" ({hours}).'
        if questions:
            text += f" They must answer: {_quoted(questions)}."
    elif tier == "personalized":
        out["nba_records"] = records
        reads = ", ".join(records) if records else "the customer's records"
        text = f'Connect the {reads} records so the assistant can answer the topic "{label}" itself ({hours}).'
        if questions:
            text += f" It must answer from them: {_quoted(questions)}."
    elif tier == "action_led":
        checks = checks_needed(texts)
        action = main_action(texts, label)
        out.update(nba_records=records, nba_checks=checks, nba_action=action)
        share = "" if hours_share is None else f", {100 * hours_share:.0f}% of the customer's hours still to win"
        doing = f'the topic "{label}" end to end' if action == label else f'"{action}" end to end for the topic "{label}"'
        text = f"Automate {doing} ({hours}{share})."
        if questions:
            text += f" Requests it must handle: {_quoted(questions)}."
        if checks:
            text += " Checks the requests mention: " + "; ".join(checks) + "."
        if records:
            text += " Records to read: " + ", ".join(records) + "."
    else:
        text = f'Review "{label}" requests ({hours}).'
    out["next_best_action"] = text
    return out


def other_tiers(tier: str, label: str, win: dict[str, float], texts: dict[str, list[str]]) -> str:
    """Sentences on the topic's other tiers that hold ``REST_SHARE`` or more of its hours to win
    (``win``: hours per month by tier), most hours first, each with what its requests ask (the
    action of action-led ones, the records personalized ones read: ``texts`` by tier); "" when none does."""
    out = []
    for t, h in sorted(win.items(), key=lambda kv: (-kv[1], kv[0])):
        if t == tier or h < REST_SHARE * sum(win.values()) or round(h, 1) <= 0:
            continue
        asked = evenly(texts.get(t, []), MAX_READ)
        if t == "action_led":
            action = main_action(asked, label)
            said = "" if action == label else f' ("{action}")'
        else:
            records = ", ".join(records_needed(asked)) if t == "personalized" else ""
            said = f" (reading the {records} records)" if records else ""
        out.append(f"Its {t.replace('_', '-')} requests{said} hold ~{h:.1f} agent hours/month more: they need {_NEEDS[t]}.")
    return " ".join(out)


def add_actions(records: list[dict]) -> None:
    """Each topic record's next best action (:func:`topic_actions`) and language, in place.

    A record holds ``tier``, ``label``, ``keywords``, ``hours_to_win`` (the whole topic's), ``_win``
    (each tier's part of it; None without handle time), and ``_texts`` / ``_tiers`` / ``_own`` (its
    conversations, their listed tiers and their own, popped). The action quotes the conversations of the
    topic's tier only (a help-centre answer is not an exchange), and of those the ones whose own tier
    (their probabilities, before the topic's context moved them) is that tier too, where there are any:
    "What is your cancellation policy for hotel bookings?" is listed with its topic's cancellations but
    is no request a procedure handles. It says their hours (``nba_hours_to_win``); ``hours_share``
    stays the whole topic's share of the customer's hours to win.
    """
    total = math.fsum(max(r["hours_to_win"] or 0.0, 0.0) for r in records)  # exact: same in any row order
    quoted, every = [], []
    for r in records:
        r["hours_share"] = max(r["hours_to_win"] or 0.0, 0.0) / total if total > 0 and r["hours_to_win"] is not None else None
        r["language"] = r.get("language") or DEFAULT_LANGUAGE
        r["language_supported"] = embedder_covers(r["language"])
        texts, tiers = r.pop("_texts", None) or [], r.pop("_tiers", None) or []
        owns = r.pop("_own", None) or [None] * len(texts)
        by_tier: dict[str, list[str]] = {}
        agreed: dict[str, list[str]] = {}
        for text, tier, own in zip(texts, tiers, owns):
            if text and tier:
                by_tier.setdefault(tier, []).append(text)
                if own == tier:
                    agreed.setdefault(tier, []).append(text)
        quoted.append({t: agreed.get(t) or listed for t, listed in by_tier.items()})
        every.append([t for t in texts if t])
    boilerplate = common_sentences(every)  # what the customer's end-users write whatever they ask
    for r, by_tier in zip(records, quoted):
        win = r.pop("_win", None)
        own = r["hours_to_win"] if win is None or r["hours_to_win"] is None else win.get(r["tier"], 0.0)
        r["nba_hours_to_win"] = own if r["tier"] else None
        if r["tier"]:
            share = None if own is None or total <= 0 else max(own, 0.0) / total
            r.update(topic_actions(r["tier"], r["label"], by_tier.get(r["tier"], []), own, share, r.get("keywords"), boilerplate,
                                   english=r["language"] == "en", topic_hours=r["hours_to_win"]))
            rest = other_tiers(r["tier"], r["label"], win, by_tier) if win else ""
            r["next_best_action"] += f" {rest}" if rest else ""
