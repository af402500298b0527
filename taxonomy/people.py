"""People's names written in lower case, where a role says they are a person's, for :mod:`taxonomy.personal`.

Two messages in three carry no capital but "I", and a capitalised-name pattern reads nothing in
"my husband david booked it", "i spoke to sarah yesterday" or "sent the money to anna berg". In those
places (the roles of :mod:`taxonomy.personal`: a relative or friend, a member of staff, "spoke to",
"booked under", a greeting's "this is", money sent to someone, and the writer's own "i am" / "i'm" /
"im": "i am <NAME> and my card is lost"; a title: "dr <NAME>") a lower-case word is a name when it
is in the given-name list, and the word after it joins it when it is in the surname list:
"my husband <NAME> booked it", "i spoke to <NAME> yesterday", "sent the money to <NAME>". After a role
(not after money sent), a word outside the list is a name too when a listed surname follows it ("my
colleague <NAME>"); and after a title ("mrs <NAME>") or as the right value of a name ("my name is
misspelled, it should be <NAME>", "change my surname to <NAME>") a listed surname alone is one.

The lists (``taxonomy/data/given_names.txt``, 7,153 names given to at least 100 US babies in some
year; ``surnames.txt``, 18,599 surnames of at least 0.001% of the 1990 US Census; public domain, see
``taxonomy/data/NAMES.md``) leave out names that are also common English words, places and brands
("this is true", "spoke to chase", "money to china"). A name outside them, or one that is also a
word, still gets through: "this is mark", "my son will".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# Words that say the next one is a person: shared with the capitalised patterns of taxonomy.personal.
RELATIVE = (r"(?:husband|wife|son|daughter|partner|boyfriend|girlfriend|fianc[eé]e?|spouse|mother|father|mum|"
            r"mom|mam|dad|brother|sister|friend|colleague|boss|grandmother|grandfather|grandma|grandpa|granny|"
            r"nan|uncle|aunt|auntie|cousin|nephew|niece|child|kid|baby|flatmate|roommate|housemate|tenant|"
            r"landlord|landlady|neighbour|neighbor|carer|employee|client|guest|passenger)")
STAFF = r"(?:agent|rep|representative|advisor|adviser|operator|supervisor|manager|driver|courier|technician|engineer)"

# What comes right before a name mentioned by a person's role, shared with the capitalised patterns
# of taxonomy.personal: a relative or friend, a member of staff, "spoke to", the name a booking is
# under, a greeting's "this is".
RELATIVE_BEFORE = r"\b(?:my|our|his|her|their)[ \t]+(?-i:" + RELATIVE + r")[ \t]*,?[ \t]+"
STAFF_BEFORE = r"\b(?:your|the|an?|with|to)[ \t]+" + STAFF + r"[ \t]+(?:(?:named|called)[ \t]+)?"
SPOKE_BEFORE = r"\b(?:spoke|spoken|speaking|talked|chatted)[ \t]+(?:to|with)[ \t]+"
UNDER_BEFORE = (r"\b(?:booked|reserved|registered|booking|reservation|account|order|ticket)[ \t]+(?:is[ \t]+)?under"
                r"[ \t]+(?:the[ \t]+name[ \t]+(?:of[ \t]+)?)?")
THIS_IS_BEFORE = (r"(?:\A|(?<=[.!?\n])|\b(?:hi|hello|hey|good[ \t]+(?:morning|afternoon|evening))\b[ \t]*[,!]?)[ \t]*"
                  r"this[ \t]+is[ \t]+")
# The writer introducing themselves in lower case: "i am june kowalski", "im sarah", "i'm david and ...";
# a listed name only, and not one that also says how the writer is ("i am frank with you").
_I_AM_BEFORE = r"\b(?:i[ \t]+am|i['’]m|im)[ \t]+(?!frank\b)"
# In lower case, money to someone: "payment to margaret", "sent 50 to sara" (names in the lists only).
_PAYEE_BEFORE = r"\b(?:money|funds|cash|payment|[£$€]?\d[\d,.]*(?:[ \t]*(?:pounds|dollars|euros|eur|usd|gbp))?)[ \t]+to[ \t]+"

# Brands a title starts ("Dr Martens", "dr pepper", "Mr. Coffee"): shared with taxonomy.personal.
NOT_AFTER_TITLE = r"(?!(?:martens|pepper|oetker|scholl|who|coffee)\b)"
# A title in any case before a lower-case name: "dr johnson", "mrs anna berg", "Mr. smith" (a listed
# surname alone is a name there).
_TITLE_BEFORE = r"\b(?:mr|mrs|ms|mx|dr|prof)\.?[ \t]+" + NOT_AFTER_TITLE
# A name given in lower case as the right value of someone's name: "my name is misspelled, it should be david
# jensen", "change my surname to kowalski" (there a listed surname alone is a name too; "should" as typed).
_NAME_VALUE_BEFORE = (r"\b(?:my|your|his|her|our|their|the)[ \t]+(?:sur|last[ \t]+|first[ \t]+|middle[ \t]+|maiden[ \t]+|family[ \t]+|full[ \t]+|legal[ \t]+)?name\b"
                      r"[^.!?\n<]{0,80}?\b(?:s[a-z]{2,5}d[ \t]+(?:be|read|say)|is[ \t]+actually|spell(?:ed|t)?[ \t]+as|to)[ \t]+")
_LOWER_MENTION_RE = re.compile(
    "(?:" + "|".join((RELATIVE_BEFORE, STAFF_BEFORE, SPOKE_BEFORE, UNDER_BEFORE, THIS_IS_BEFORE, _I_AM_BEFORE))
    + "|(?P<payee>" + _PAYEE_BEFORE + ")|(?P<value>" + _NAME_VALUE_BEFORE + ")|(?P<title>" + _TITLE_BEFORE + "))"
    r"(?-i:(?P<first>[a-z][a-z'’-]*))(?=[ \t]+(?-i:(?P<second>[a-z][a-z'’-]*)))?",  # the next word looked at, not taken
    re.IGNORECASE,
)
# Where a listed surname alone can make a name (after a role or a name word): a cheap first look.
_SURNAME_CUE_RE = re.compile("|".join((RELATIVE_BEFORE, STAFF_BEFORE, SPOKE_BEFORE, UNDER_BEFORE, THIS_IS_BEFORE, _I_AM_BEFORE,
                                         _NAME_VALUE_BEFORE)), re.IGNORECASE)
# A title before a lower-case word: a cheap first look, like the one above.
_TITLE_RE = re.compile(_TITLE_BEFORE + r"(?-i:[a-z])", re.IGNORECASE)
# Words that are no given name however a surname follows them ("i spoke to someone long ago").
_NOT_FIRST = frozenset(("i", "someone", "somebody", "anyone", "anybody", "everyone", "everybody", "nobody", "no", "one", "the",
                        "a", "an", "my", "your", "his", "her", "their", "our", "him", "them", "us", "you", "it", "this",
                        "that", "and", "or", "but", "is", "was", "will", "would", "can", "could", "has", "had", "have",
                        "who", "which", "to", "in", "on", "at", "for", "with", "from", "by", "about", "again", "today",
                        "yesterday", "last", "next", "before", "after", "since", "just", "already", "also", "too",
                        "back", "over", "out", "up", "down", "off", "very", "so", "not", "all", "both", "each"))
_LOWER_WORD_RE = re.compile(r"(?<![A-Za-z])[a-z]+")
_POSSESSIVE_RE = re.compile(r"['’]s\Z")


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """The given names and the surnames (lower case), read once per process."""
    def read(name: str) -> frozenset[str]:
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        return frozenset(w for w in lines if w and not w.startswith("#"))
    return read("given_names.txt"), read("surnames.txt")


def _bare(word: str) -> tuple[str, str]:
    """``word`` without a possessive "'s", and the "'s"."""
    m = _POSSESSIVE_RE.search(word)
    return (word[: m.start()], word[m.start():]) if m else (word, "")


def _title_in(text: str) -> bool:
    """Whether a title stands before a lower-case word ("dr johnson", "Mrs. jones")."""
    low = text.lower()
    return any(t in low for t in ("mr", "ms", "mx", "dr", "prof")) and _TITLE_RE.search(text) is not None


def _surname_may_name(text: str, found: list[str], surnames: frozenset[str]) -> bool:
    """Whether a listed surname in ``text`` (``found``: its lower-case words) can make a name without a
    listed given name: after a name word, or after a word that can be a first name, where a role is."""
    if surnames.isdisjoint(found):
        return False
    after_first = any(w in surnames and v not in _NOT_FIRST for v, w in zip(found, found[1:]))
    return ((("name" in text.lower() or after_first) and _SURNAME_CUE_RE.search(text) is not None)
            or _title_in(text))


def lower_mentioned(text: str) -> str:
    """``text`` with the names it mentions in lower case by a person's role replaced (module docstring).

    After a person's role, a word that is no listed given name still is one when a listed surname follows
    it ("my colleague grace costa"); after a name word a listed surname alone is one ("change my surname to
    kowalski").
    Only a message holding a listed name in lower case is read further (most hold none)."""
    given, surnames = name_lists()
    found = _LOWER_WORD_RE.findall(text)
    if given.isdisjoint(found) and not _surname_may_name(text, found, surnames):
        return text
    out, done = [], 0
    for m in _LOWER_MENTION_RE.finditer(text):
        first, tail = _bare(m.group("first"))
        second, second_tail = _bare(m.group("second")) if m.group("second") and not tail else ("", "")
        if m.start("first") < done:
            continue
        # an unlisted word before a surname: only after a person's role ("payment to hyatt gift" is a shop)
        by_surname = second in surnames and first not in _NOT_FIRST and m.group("payee") is None and m.group("value") is None
        alone = m.group("value") is not None or m.group("title") is not None  # a listed surname alone will do
        if not (first in given or by_surname or (alone and first in surnames)):
            continue
        end = m.end("first")
        if second in surnames:
            end, tail = m.end("second"), second_tail
        out += [text[done:m.start("first")], "<NAME>", tail]
        done = end
    return "".join(out) + text[done:] if out else text
