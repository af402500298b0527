"""Street addresses and people's names in support text, for :mod:`taxonomy.redact`.

The patterns behind ``<ADDRESS>`` and ``<NAME>`` (see :mod:`taxonomy.redact` for what they catch and
leave). Precision first: an address needs a house number and a street word, a name needs a label
("Account holder:"), an introduction ("my name is Priya", "This is Priya from ...", "me llamo Priya"),
a name word it is the value of ("change my surname to Patel"), a person's role before it ("my colleague
Priya", "your agent Priya", "Hi Priya,": capitalised, or in lower case a listed name, :mod:`taxonomy.people`,
or a greeting's one word), a
closing before it that ends the message ("Best, Priya") or an e-mail address after it ("From: John Smith <...>"); ambiguous street words
("way", "place", "close") count only capitalised, and "via" only as "Via" (English uses it).
"""

from __future__ import annotations

import re

from taxonomy.identifiers import AFTER_VALUE
from taxonomy.people import (
    NOT_AFTER_TITLE, RELATIVE_BEFORE, SPOKE_BEFORE, STAFF_BEFORE, THIS_IS_BEFORE, UNDER_BEFORE, lower_mentioned, name_lists,
)

_POST = AFTER_VALUE

# -- Street addresses -----------------------------------------------------------------------
# Words that sit between a number and a street word without being a street's name ("2 hours on the road").
_NOT_NAME = ("the|a|an|on|in|at|of|to|for|and|or|my|our|your|his|her|their|this|that|these|those|is|was|are|"
             "were|be|it|i|we|you|hours?|days?|minutes?|mins?|seconds?|weeks?|months?|years?|times?|items?|"
             "pounds?|euros?|dollars?|more|less|than|per|each|every|other|am|pm|gb|mb|kg|km|miles?|percent|"
             "free|extra|same|last|first|next|one|two|bed|room|rooms")
_STREET_NAME = r"(?!(?:" + _NOT_NAME + r")\b)[^\W\d_][\w'’.-]*"
_STREET_TYPE = (r"(?:(?:street|road|avenue|lane|drive|boulevard|terrace|crescent|court|square|highway|parkway|"
                r"gardens|mews|(?-i:Way|Place|Close|Row|Walk|Grove))\b|(?:st|rd|ave|ln|dr|blvd|ct|sq|hwy|pkwy)\b\.?)")
_GERMAN_STREET = r"[^\W\d_][\w-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer)"
_ROMANCE_STREET = r"(?:(?-i:Via|Viale)|piazza|corso|rue|calle|avenida|rua|plaza|paseo|praça|largo)"  # "via": English too
_PARTICLE = r"(?:de|del|della|di|da|do|dos|la|le|les|des|du)"
ADDRESS_RE = re.compile(
    r"\d(?<![\w<>#/.-].)(?<![A-Z]>.)\d{0,4}[a-z]?,?\s+(?:"
    r"(?:" + _STREET_NAME + r"\s+){1,3}" + _STREET_TYPE                            # 12 Elm Street
    + r"|" + _GERMAN_STREET + r"(?![\w])"                                            # 201 Hauptstraße
    + r"|" + _ROMANCE_STREET + r"(?:\s+(?:" + _PARTICLE + r"\b|(?!(?:" + _NOT_NAME + r")\b)[^\W\d_][\w'’-]*)){1,4}"  # 139 Rue de la Paix
    + r")", re.IGNORECASE,
)
# The street's name first, its number after ("Hauptstraße 5", "Calle Mayor 5"): a pattern of its own, run
# only where a street word of those languages appears (it costs four times the one above on every text).
STREET_FIRST_RE = re.compile(
    r"(?<![\w<>])(?:[^\W\d_][\w-]*(?:straße|strasse|weg|gasse|platz|allee|damm|ufer)"      # Hauptstraße 5
    r"|(?-i:(?:Via|Viale|Piazza|Corso|Rue|Calle|Avenida|Rua|Plaza|Paseo|Praça|Largo)"          # Calle Mayor 5
    r"(?:\s+(?:de|del|della|di|da|do|dos|la|le|les|des|du|[A-ZÀ-Ý][\w'’-]*)){1,4}))\s+\d{1,4}[a-z]?" + _POST,
    re.IGNORECASE,
)
STREET_GATE = ("straße", "strasse", "weg", "gasse", "platz", "allee", "damm", "ufer", "via", "piazza", "corso", "rue",
               "calle", "avenida", "rua", "plaza", "paseo", "praça", "largo")

# What follows a street address, and a labelled postal code: a full postcode narrows a person down to a
# few streets ("NW1 6XE"), so the town, state and code after "<ADDRESS>" join it ("<ADDRESS>, London
# NW1 6XE", "<ADDRESS>, Springfield, IL 62704", "<ADDRESS>, 75001 Paris"; a UK code in lower case with up
# to two words before it: "<ADDRESS>, london nw1 6xe"), and a code after its label
# is replaced ("postcode is SW1A 1AA"). A tail without a postal code stays ("<ADDRESS>, London").
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
# A town or state: a capitalised word that is not a reference's label or a closing ("Order 12345").
_PLACE = (r"(?!(?:Order|Booking|Ticket|Invoice|Ref|Reference|Account|Tracking|Case|Thanks|Thank|Cheers|Regards|"
          r"Best|Please|Pls|Phone|Tel|Mobile|Call)\b)[A-Z][\w'’.-]*")
ADDRESS_TAIL_RE = re.compile(
    r"(?<=<ADDRESS>)(?:(?:,?[ \t]+" + _PLACE + r"){0,4}?,?[ \t]+"
    r"(?:(?:\d{5}(?:-\d{4})?|\d{4})(?:[ \t]+" + _PLACE + r")?|" + _UK_POSTCODE + r")"
    r"|(?:,?[ \t]+(?i:(?!(?:" + _NOT_NAME + r")\b))[^\W\d_][\w'’.-]*){0,2}?,?[ \t]+(?i:" + _UK_POSTCODE + r"))(?![\w])")
POSTCODE_RE = re.compile(
    r"(?<![\w<])(post[ \t]?code|postal[ \t]+code|zip(?:[ \t]?code)?)" + r"[ \t]*(?:(?:is|was)[ \t]+|[:=#-][ \t]*)*"
    r"(\d{5}(?:-\d{4})?|\d{4}|[A-Za-z]{1,2}\d[A-Za-z\d]?[ \t]?\d[A-Za-z]{2})(?![\w])", re.IGNORECASE)
POSTCODE_GATE = ("post", "zip")


# -- Names the message labels or signs with -----------------------------------------------------
_NAME_WORDS = r"[^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,2}"
LABELLED_NAME_RE = re.compile(
    r"\b((?:(?:acc?ount|card)[ \t]?)?holder|account name|name on (?:the )?card|passenger(?: name)?|full name|"
    r"customer name|name)([ \t]*:[ \t]*)(?!<)(" + _NAME_WORDS + r")", re.IGNORECASE)
# Closings in English, German, Spanish, French and Portuguese (the languages the product detects).
_CLOSINGS = (r"thanks|thank you|many thanks|cheers|best|best regards|kind regards|regards|warm regards|ty|thx|br|"
             r"sincerely|yours|mit freundlichen grü(?:ß|ss)en|freundliche grü(?:ß|ss)e|viele grü(?:ß|ss)e|"
             r"liebe grü(?:ß|ss)e|beste grü(?:ß|ss)e|grü(?:ß|ss)e|gru(?:ß|ss)|mfg|lg|danke|vielen dank|saludos|"
             r"un saludo|atentamente|cordialmente|gracias|muchas gracias|cordialement|bien cordialement|bien à vous|"
             r"merci|merci beaucoup|salutations|atenciosamente|cumprimentos|obrigad[oa]|muito obrigad[oa]|abraços?")
_CLOSING_WORDS = r"(?:" + _CLOSINGS + r")"
_NOT_A_NAME = (r"(?:team|all|everyone|everybody|guys|folks|again|so|much|mate|support|wishes|a|lot|heaps|anyway|"
               r"bye|in|advance|for|you|u|very|sir|madam|please|pls|asap|now|today|bis|im|voraus|schön|à|até|"
               # what follows "thanks," when it signs nothing ("thanks, that worked", "thanks, appreciate it")
               r"that|this|it|i|we|appreciate\w*|great|perfect|ok|okay|sounds|works?|worked|got|noted|done|"
               r"understood|received|solved|sorted|fixed|helpful|"
               r"hasta|de|por|pour|para|d'avance|d’avance|bonne|buen|bom|boa|equipo|équipe|equipe|zusammen|"
               + _CLOSINGS + r")\b")
# What follows a word after a closing when the two are a reply, not a name and surname ("Thanks, will do",
# "Cheers, can try"): "Will" and "Can" are given names, "do" and "try" no surnames.
_REPLY_VERB = r"(?:do|try|check|wait|see|call|look|confirm|send|go)\b"
# A closing that starts a sentence, or a capitalised one after a space where the message has no full
# stop before it ("i can't travel anymore Best, Quentin"); the name must end the message, with or
# without a dash before it ("Thanks,\n-- Anna Berg").
_SIGNOFF_RE = re.compile(
    r"(?:\A|(?<=[.!?\n])|(?<=[ \t])(?-i:(?=[A-Z])))[ \t]*" + _CLOSING_WORDS + r"[ \t]*[!.]?[ \t]*[,\n][ \t\n]*(?:[-–—]{1,2}[ \t]*)?(?!"
    + _NOT_A_NAME + r")([^\W\d_][\w'’-]*(?:[ \t]+(?!" + _REPLY_VERB + r")[^\W\d_][\w'’-]*)?)[ \t]*[.!]*\s*\Z", re.IGNORECASE)


def labelled_name(m: re.Match[str]) -> str:
    """A :data:`LABELLED_NAME_RE` match with its label kept and the name replaced."""
    return m.group(1) + m.group(2) + "<NAME>"


# A closing in lower case in the middle of a line ("box was crushed kind regards, hugo duubois"): after
# one that is seldom anything else ("regards", "cheers") any word is the name; after one that often is
# ("best", "thanks") only a listed given name, or a word before a listed surname (taxonomy.people).
_LOWER_SIGNOFF_RE = re.compile(r"(?<=[ \t])(" + _CLOSING_WORDS + r")[ \t]*[!.]?[ \t]*,[ \t]*(?!" + _NOT_A_NAME
                               + r")([a-z][\w'’-]*)(?:[ \t]+(?!" + _NOT_A_NAME + "|" + _REPLY_VERB + r")([a-z][\w'’-]*))?[ \t]*[.!]*\s*\Z", re.IGNORECASE)
_LOOSE_CLOSINGS = frozenset(("best", "thanks", "thank you", "ty", "thx", "danke", "merci", "gracias", "obrigado", "obrigada"))


def signoff(text: str) -> str:
    """``text`` with the name it signs off with replaced (only the last 80 characters are read)."""
    start = max(0, len(text) - 80)
    last = text.rstrip().rstrip(".!").rsplit(None, 1)
    m = _CLOSING_NAME_RE.search(text, start) if last and last[-1][:1].isupper() else None  # most texts end otherwise
    if m is not None and m.group(2).lower() in name_lists()[0]:
        return text[:m.start(1)] + "<NAME>" + text[m.end(1):]
    # The closing ends at the last comma or line break, and no closing is longer than 24 characters.
    stripped = len(text.rstrip())
    end = max(text.rfind(",", start, stripped), text.rfind("\n", start, stripped))
    if end < 0:
        return text
    m = _SIGNOFF_RE.search(text, max(start, end - 32))
    if m is not None:
        return text[:m.start(1)] + "<NAME>" + text[m.end(1):]
    m = _LOWER_SIGNOFF_RE.search(text, max(start, end - 32))
    if m is None:
        return text
    given, surnames = name_lists()
    first, second = m.group(2).lower(), (m.group(3) or "").lower()
    if m.group(1).lower() in _LOOSE_CLOSINGS and first not in given and second not in surnames:
        return text
    return text[:m.start(2)] + "<NAME>" + text[m.end(3 if m.group(3) else 2):]


# -- Names the writer introduces themselves with ----------------------------------------------
# A capitalised name word in any of the detected languages: "Anna", "Élodie", "Müller", "O'Brien".
_NAME_TOKEN = r"(?-i:[A-ZÀ-ÖØ-Þ](?:[a-zß-öø-ÿ]|(?<=[DLO])['’][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ])[\w'’-]*)"
# A closing straight before the name that ends the message, no comma ("Thanks Anna!", "Kind regards
# Maria Berg."; read by signoff): only a listed given name first, so "Thanks Apple" and "thanks again" stay.
_CLOSING_NAME_RE = re.compile(r"(?:\A|(?<=[\s.!?,]))" + _CLOSING_WORDS + r"[ \t]+((" + _NAME_TOKEN + r")(?:[ \t]+"
                              + _NAME_TOKEN + r")?)[ \t]*[.!]*\s*\Z", re.IGNORECASE)
# Words that follow "my name is" without being a name ("my name is misspelled / not on the booking"),
# and that end a name ("my name is Angela and I would like ...").
_NOT_INTRODUCED = (
    r"(?:not|no|wrong|incorrect|incorrectly|miss?pel+[eit]\w*|spel+[eit]\w*|mis|missing|different|changed|correct|"
    r"correctly|still|also|now|already|listed|showing|shown|displayed|written|printed|there|here|attached|linked|"
    r"associated|registered|tied|removed|gone|blank|empty|incomplete|cut|truncated|mentioned|used|being|been|same|"
    r"on|in|under|as|at|for|to|of|with|from|by|the|a|an|and|but|or|so|if|when|because|since|then|is|was|are|"
    r"my|your|his|her|their|our|this|that|it|its|i|im|me|we|you|he|she|they|please|pls|thanks|thank|hi|hello|hey|"
    r"regarding|about|re|calling|writing|can|could|would|will|need|want|have|had|has|just|too|yes|ok|okay|"
    r"speaking|and)\b"
)
_INTRODUCED_WORD = r"(?!" + _NOT_INTRODUCED + r")[^\W\d_][\w'’-]*"
_MY_NAME_RE = re.compile(
    r"\bmy[ \t]+name(?:[ \t]+is|'s|’s)[ \t]+(" + _INTRODUCED_WORD + r"(?:[ \t]+" + _INTRODUCED_WORD + r")?)",
    re.IGNORECASE)
# What people say they are, capitalised, that is not their name ("I'm Canadian.", "I am British, can I ...",
# "I'm Gold and ..."): nationalities, faiths, diets, conditions, membership levels, life situations. Only
# after "I'm" ("This is Christian from billing" is a name; "Christian" is left off this list for "I'm" too).
_WHAT_I_AM = (
    r"american|canadian|mexican|brazilian|argentinian|argentine|chilean|colombian|peruvian|british|english|scottish|"
    r"welsh|irish|french|german|dutch|belgian|swiss|austrian|italian|spanish|portuguese|greek|polish|czech|slovak|"
    r"hungarian|romanian|bulgarian|croatian|serbian|ukrainian|russian|swedish|norwegian|danish|finnish|icelandic|"
    r"estonian|latvian|lithuanian|turkish|israeli|egyptian|moroccan|nigerian|kenyan|ghanaian|ethiopian|"
    r"south african|indian|pakistani|bangladeshi|sri lankan|nepali|chinese|japanese|korean|vietnamese|thai|filipino|"
    r"indonesian|malaysian|singaporean|australian|kiwi|arab|emirati|saudi|iranian|iraqi|syrian|lebanese|"
    r"european|asian|african|latino|latina|muslim|catholic|protestant|jewish|hindu|sikh|buddhist|"
    r"vegan|vegetarian|diabetic|pregnant|disabled|deaf|blind|celiac|coeliac|gold|silver|bronze|platinum|premium|"
    r"prime|vip|retired|unemployed|married|single|divorced|widowed|self[- ]employed|gay|lesbian|trans")
# Capitalised words that follow "I'm" or come before "here" without being a name ("I'm Sorry, ...").
_NOT_A_CALLER = (r"(?!(?:sorry|happy|glad|sad|angry|upset|confused|frustrated|afraid|unable|able|new|not|so|very|"
                 r"really|still|just|also|always|never|already|now|back|done|fine|good|ok|okay|here|there|trying|"
                 r"writing|calling|looking|having|getting|going|waiting|the|a|an|in|on|at|from|with|nothing|"
                 r"everything|anything|something|nobody|everybody|anybody|somebody|everyone|anyone|someone|none|all|"
                 r"same|parking|shipping|delivery|help|service|wifi|internet|signal|hi|hello|hey|dear|urgh|ugh|yes|no|"
                 r"it's|it’s|its|this|that|i'm|i’m|im)\b)")
_CAPITALISED = (r"(" + _NOT_A_CALLER + _NAME_TOKEN + r"(?:[ \t]+" + _NOT_A_CALLER
                + _NAME_TOKEN + r")?)")
# "This is Priya from billing", "I'm Sam here", "i'm Ben and I'm staying ...", "Hi, Angela here": only a
# capitalised name, and only where it introduces the writer ("I am home from work", "It's Friday" stay).
_CALLER_RE = re.compile(r"\b(?:this is|it's|it’s)[ \t]+" + _CAPITALISED
                        + r"(?=[ \t]*,?[ \t]*(?:from|here|speaking|with)\b)", re.IGNORECASE)
_I_AM_RE = re.compile(r"\b(?:i'm|i’m|i am)[ \t]+(?!(?:" + _WHAT_I_AM + r")\b)" + _CAPITALISED
                      + r"(?=[ \t]*(?:[,.!;]|\Z|(?:and|from|here|speaking|with)\b))", re.IGNORECASE)
# "Hi I'm Angela my appointment ...", "Im John reserve my flight": a capitalised word after "I'm" that nothing
# ends is a name only when it is a listed given name (which leaves out English words: "I'm Happy to", "I'm
# Sorry I"); a listed surname after it joins it (:func:`_listed_intro`).
_I_AM_LISTED_RE = re.compile(r"\b(?:i'm|i’m|i am|im)[ \t]+(" + _NAME_TOKEN + r")(?:[ \t]+(" + _NAME_TOKEN + r"))?", re.IGNORECASE)
# "My name Sarah Brown and ..." (no "is"): only a capitalised name ("my name changed" stays).
# The name must end the clause ("and", a comma, a full stop), and a closing is not one ("change my name
# Best, Faarid" is signed by Faarid).
_MY_NAME_BARE_RE = re.compile(r"\bmy[ \t]+name[ \t]+(?!(?:is|was|has|had|isn't|wasn't|does|doesn't|did|appears|shows|"
                              r"keeps|got|gets|spelled|spelt|missing|changed|needs|must|should|will|would|can)\b)"
                              r"(?!" + _CLOSING_WORDS + r"\b)" + _CAPITALISED
                              + r"(?=[ \t]*(?:[,.!;]|\Z|(?:and|here|from|speaking)\b))", re.IGNORECASE)
_HERE_RE = re.compile(r"(?:\A|(?<=[.!?])|\b(?:hi|hello|hey)\b[ \t]*,?)[ \t]*" + _CAPITALISED
                      + r"[ \t]+here(?=[ \t]*(?:[,.!;:…-]|\Z))", re.IGNORECASE)
_FOREIGN_INTRO_RE = re.compile(
    r"\b(?:mein[ \t]+name[ \t]+ist|ich[ \t]+hei(?:ß|ss)e|me[ \t]+llamo|mi[ \t]+nombre[ \t]+es|je[ \t]+m['’][ \t]*appelle|"
    r"mon[ \t]+nom[ \t]+est|meu[ \t]+nome[ \t]+é|me[ \t]+chamo|chamo-me)[ \t]+(" + _NAME_TOKEN + r"(?:[ \t]+"
    + _NAME_TOKEN + r"){0,2})", re.IGNORECASE)
# A name given as the new or right value of someone's name: "update my surname to Kowalski", "my name is
# misspelled, it should be Quentin Kowalski", "Mein Name ist falsch geschrieben, bitte korrigieren: Quentin
# Kowalski". Not a thing's name ("change the workspace name to Marketing").
_NAME_WORD = (r"(?:(?:sur|last[ \t]+|first[ \t]+|middle[ \t]+|maiden[ \t]+|family[ \t]+|full[ \t]+|legal[ \t]+|"
              r"passenger[ \t]+)?name|nombre|apellido|nom|nome|sobrenome|nachname|vorname)")
_NEW_NAME_RE = re.compile(
    r"(?<![<\w])" + _NAME_WORD + r"\b[^.!?\n<]{0,80}?(?:\b(?:(?:should|shoudl|shoud|shuold|sould|shold)[ \t]+"
    r"(?:be|read|say)|to|is[ \t]+actually|as|spell(?:ed|t)?[ \t]+as)|:)[ \t]+(?!(?:the|a|an|my|your|our|his|her|their|this|that|it|one|what|which|"
    r"bitte|por|favor|merci|please)\b)(" + _NAME_TOKEN + r"(?:[ \t]+(?!" + _CLOSING_WORDS + r"\b)" + _NAME_TOKEN
    + r"){0,2})"
    r"(?=[ \t]*(?:[,.!;?)]|\Z|(?:and|not|instead|please|pls|on|in|from|with|bitte|por|s'il|" + _CLOSINGS
    + r")\b))",
    re.IGNORECASE)
_THING_BEFORE_NAME_RE = re.compile(
    r"(?:workspace|company|business|team|project|store|shop|file|folder|channel|product|app|device|network|wifi|"
    r"wi-fi|display|user|domain|brand|event|page|group|list|playlist|song|account|organi[sz]ation|org|site|"
    r"server|board|space|field|column|tag|label|plan|pet|dog|cat)[ \t]+$", re.IGNORECASE)


def _name_of(m: re.Match[str]) -> str:
    """The match with its first group, the name, replaced by ``<NAME>`` (a possessive "'s" kept)."""
    tail = m.group(1)[-2:] if m.group(1)[-2:] in ("'s", "’s") else ""
    return m.string[m.start(0):m.start(1)] + "<NAME>" + tail + m.string[m.end(1):m.end(0)]


def _listed_intro(m: re.Match[str]) -> str:
    """An :data:`_I_AM_LISTED_RE` match with its name replaced when the first word is a listed given name."""
    given, surnames = name_lists()
    first = m.group(1)
    if (first[:-2] if first[-2:] in ("'s", "’s") else first).lower() not in given:
        return m.group(0)
    second = m.group(2) and m.group(2).lower() in surnames
    return _name_of(m) if not second else m.string[m.start(0):m.start(1)] + "<NAME>" + m.string[m.end(2):m.end(0)]


def _new_name(m: re.Match[str]) -> str:
    """:func:`_name_of` for a :data:`_NEW_NAME_RE` match, unless the name word is a thing's."""
    if _THING_BEFORE_NAME_RE.search(m.string, max(0, m.start(0) - 20), m.start(0)):
        return m.group(0)
    return _name_of(m)


def introduced(text: str) -> str:
    """``text`` with the name its writer introduces themselves by replaced ("my name is Angela",
    "My name Sarah Brown", "This is Sam from accounts", "I'm Ben and ...", "Hi, Angela here", "Ich heiße
    Anna", "me llamo María", "je m'appelle Élodie", "meu nome é João"), and a name given as the new or
    right value of a name ("update my surname to <NAME>", "bitte korrigieren: <NAME>")."""
    # Chained `in` tests: each costs a fraction of a gate regex or of a generator over the gate words,
    # and most messages hold none of them.
    low = text.lower()
    named = "name" in low and low.count("name") > low.count("<name>")  # a "<NAME>" placeholder is no name word
    if named or "this is" in low or "i'm " in low or "i’m " in low or "i am " in low or "it's " in low or "it’s " in low \
            or " here" in low:
        for pattern in (_MY_NAME_RE, _MY_NAME_BARE_RE, _CALLER_RE, _I_AM_RE, _HERE_RE):
            text = pattern.sub(_name_of, text)
    if "i'm " in low or "i’m " in low or "i am " in low or "im " in low:
        text = _I_AM_LISTED_RE.sub(_listed_intro, text)
    nom = "nom" in low or "apellido" in low  # nombre, nome, nom, sobrenome
    if nom or named or "llamo" in low or "appelle" in low or "chamo" in low or "heiß" in low or "heiss" in low:
        text = _FOREIGN_INTRO_RE.sub(_name_of, text)
    if nom or named:
        text = _NEW_NAME_RE.sub(_new_name, text)
    return text


# -- Names the message mentions by a person's role ------------------------------------------------
# A capitalised name after a word that says it is a person: a relative or friend ("my husband David
# Brown"), a member of staff ("your agent Mike", "I spoke to Sarah"), the name a booking or account is
# under ("booked under Lisa Wong"), a salutation ("Dear Emily,", "Hi Tom,", "Good morning Anna -"), or the
# writer greeting ("Hi, this is John Smith, ..."). A lower-case word counts only when it is a listed name
# (taxonomy.people: "my husband david", never "my son is ill") or a greeting's ("hi sarah,", not "hi there").
_NOT_MENTIONED = (r"(?!(?:sir|madam|madame|team|support|customer|customers|service|services|all|everyone|there|guys|folks|again|"
                  r"monsieur|mesdames|messieurs|señor|señora|señores|senhor|senhora|senhores|damen|herren|equipo|"
                  r"équipe|equipe|zusammen|alle|todos|tout|kundenservice|kundendienst|atendimento|servicio|"
                  r"friend|friends|urgent|unacceptable|ridiculous|outrageous|terrible|awful|important|serious|"
                  r"wrong|crazy|insane|absurd|amazing|great|bad|good|fine|not|so|very|the|a|an|your|my|our|"
                  r"it|its|he|she|they|we|you|him|her|them|us|this|that|these|those|is|was|will|shall|can|has|"
                  r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|tonight)\b)")
_MENTIONED_NAME = (r"(" + _NOT_MENTIONED + _NAME_TOKEN + r"(?:[ \t]+" + _NOT_MENTIONED
                   + _NAME_TOKEN + r")?)")
# An e-mail's display name: two or three capitalised words right before an address ("From: John Smith
# <john@x.com>", "On Mon, Anna Berg <anna@x.com> wrote:", "\"Piotr Nowak\" <p@x.pl>"; read after the
# address became "<EMAIL>"), and a header line that gives a sender's full name alone ("From: Aleksandra
# Kowalczyk"; one word there may be a place: "From: London").
_NOT_SENDER = (_NOT_MENTIONED + r"(?!(?:add|enter|e-?mail|mail|contact|send|message|write|call|text|save|remove|delete|"
               r"update|change|use|reply|forward|new|cc|bcc|to|from)\b)")
_DISPLAY = r"(" + _NOT_SENDER + _NAME_TOKEN + r"(?:[ \t]+" + _NOT_SENDER + _NAME_TOKEN + r"){1,2})"  # 2-3 words
DISPLAY_NAME_RE = re.compile(r"(?<![\w<])\"?" + _DISPLAY + r"\"?[ \t]*(?=<?<EMAIL>)", re.IGNORECASE)
SENDER_LINE_RE = re.compile(r"(?m)^[ \t>]*(?:from|von|de)[ \t]*:[ \t]*" + _DISPLAY + r"[ \t]*$", re.IGNORECASE)


def senders(text: str) -> str:
    """``text`` with an e-mail's sender names replaced (after its addresses became ``<EMAIL>``)."""
    if "<EMAIL>" in text:
        text = DISPLAY_NAME_RE.sub(_name_of, text)
    if ":" in text:
        text = SENDER_LINE_RE.sub(_name_of, text)
    return text


# A capitalised title in the languages detected ("Mr Smith", "Dr. Anna Berg", "Frau Müller", "Sra. López"),
# not a brand's ("Dr Martens", "Dr Pepper").
_TITLE = (r"(?-i:\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor|Herr|Frau|Señor|Señora|Sra|Srta|Monsieur|Madame|Mme|Mlle|"
          r"Senhor|Senhora)\b)\.?[ \t]+" + NOT_AFTER_TITLE)
# (gate words, pattern): a pattern runs only on a message holding one of its gate words.
_MENTIONS = tuple((gate, re.compile(pattern + _MENTIONED_NAME + tail, re.IGNORECASE)) for gate, pattern, tail in (
    (("my ", "our ", "his ", "her ", "their "), RELATIVE_BEFORE, ""),
    (("agent", "rep", "advis", "operator", "supervisor", "manager", "driver", "courier", "technician", "engineer"),
     STAFF_BEFORE, ""),
    (("spok", "talked", "chatted"), SPOKE_BEFORE, ""),
    (("under",), UNDER_BEFORE, ""),
    (("dear",), r"(?:\A|(?<=[.!?\n]))[ \t]*dear[ \t]+", r"(?=[ \t]*[,.!:\n])"),
    (("this is",), THIS_IS_BEFORE, r"(?=[ \t]*(?:[,.!;]|\Z))"),
))
_TITLE_RE = re.compile(_TITLE + _MENTIONED_NAME, re.IGNORECASE)
_TITLE_GATE = re.compile(r"M[rsxilmoa]|Dr|Pr|He|Fr|S[er]")  # the titles' first two letters: a cheap first look
# Money sent to a person: "I sent money to Quentin Kowalski", "transfer 500 to Anna Berg". Two
# capitalised words, the second no organisation's ("to Western Union", "to Savings Account" stay).
_PAYEE = (r"\b(?:sent|send|sending|transferred|transfer|transferring|wired|wire)[ \t]+(?:(?:the|some|my|a|an|over)[ \t]+)?"
          r"(?:money|funds|cash|payment|[£$€]?[ \t]?\d[\d,.]*(?:[ \t]*(?:pounds|dollars|euros|eur|usd|gbp|€|\$|£))?)"
          r"[ \t]+to[ \t]+")
_NOT_A_SURNAME = (r"(?!(?:union|bank|account|accounts|card|savings|ltd|inc|llc|gmbh|plc|pay|wallet|vault|pot|store|"
                  r"shop|services|group|limited|corp|company|prime|express|money|transfer|exchange|kingdom|states|"
                  r"zealand|york|africa|arabia|emirates|airlines|airways|app|bills?)\b)")
_PAYEE_RE = re.compile(_PAYEE + r"(" + _NOT_MENTIONED + _NAME_TOKEN + r"[ \t]+" + _NOT_A_SURNAME
                       + _NAME_TOKEN + r")(?![ \t]*(?-i:[A-Z]))", re.IGNORECASE)
# A greeting that opens the message ("Hi Tom,", "Good morning Anna Berg -", "Hallo Anna,", "Olá João,");
# only there, so the pattern runs on the messages that start with one.
_GREETINGS = ("hi ", "hello ", "hey ", "hiya ", "good morning ", "good afternoon ", "good evening ", "hallo ",
              "guten tag ", "guten morgen ", "guten abend ", "liebe ", "lieber ", "sehr geehrte", "hola ",
              "buenos días ", "buenas tardes ", "buenas noches ", "estimad", "querid", "bonjour ", "bonsoir ",
              "salut ", "cher ", "chère ", "olá ", "oi ", "bom dia ", "boa tarde ", "boa noite ", "prezad")
_GREETING_RE = re.compile(
    r"\A[ \t]*(?:hi|hello|hey|hiya|good[ \t]+(?:morning|afternoon|evening)|hallo|guten[ \t]+(?:tag|morgen|abend)|"
    r"lieber?|sehr[ \t]+geehrter?(?:[ \t]+(?:frau|herr))?|hola|buenos[ \t]+días|buenas[ \t]+(?:tardes|noches)|"
    r"estimad[oa]|querid[oa]|bonjour|bonsoir|salut|cher|chère|olá|oi|bom[ \t]+dia|boa[ \t]+(?:tarde|noite)|"
    r"prezad[oa])[ \t]+" + _MENTIONED_NAME
    + r"(?=[ \t]*(?:[,.!:\n]|[-–][ \t]|\Z))", re.IGNORECASE)
# People who write in lower case greet in lower case: "hi sarah, where is my order?". One word, then a comma.
_LOWER_GREETING_RE = re.compile(
    r"\A[ \t]*(?:hi|hello|hey|hiya|dear)[ \t]+(?!(?:there|team|all|everyone|everybody|guys|guy|folks|support|again|"
    r"sir|sirs|madam|mam|maam|ma'am|friend|friends|both|you|yall|y'all|admin|people|dude|bro|mate|buddy|pal|ya|so|ok|"
    r"okay|yes|no|please|pls|i|im|um|agent|agents|customer|service|help|helpdesk|world|bot|assistant|morning|"
    r"afternoon|evening|thanks|thank|dear|ladies|gents|gentlemen|staff|human|anyone|someone|somebody|anybody|"
    r"person|hello|hi|hey|good|quick|question|urgent|sorry|bank|chat|chatbot|siri|alexa|google|everyone's|crew|"
    r"fam|love|hun|babe|mister|miss|mr|mrs|ms|doc|doctor|boss|sis|sister|brother)\b)"
    r"([a-z][a-z'’-]+)(?=[ \t]*,)")
# Every mention above but a title's puts its name after a lower-case word or a comma: most messages have
# no such capitalised word, and skip the patterns.
_MID_CAPITAL_RE = re.compile(r"[a-zß-öø-ÿ,][ \t]+[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]")


def mentioned(text: str) -> str:
    """``text`` with the names it mentions by a person's role replaced ("my husband <NAME>", "your agent
    <NAME>", "booked under <NAME>", "Dear <NAME>,", "Hi <NAME>,", "hi <NAME>,", "Hallo <NAME>,", "Hi, this
    is <NAME>, ...", "I sent money to <NAME>")."""
    if text[:1] in "hHdD " and text.lstrip()[:2].lower() in ("hi", "he", "de"):
        text = _LOWER_GREETING_RE.sub(_name_of, text)
    text = lower_mentioned(text)  # "my husband david", "i spoke to sarah": listed names (taxonomy.people)
    if text[1:].replace("I ", "i ").replace("I'", "i'").replace("I’", "i’").islower():  # no capital but "I": 2/3 of messages
        return text
    if _TITLE_GATE.search(text):  # "Mr. Smith" may open the message
        text = _TITLE_RE.sub(_name_of, text)
    if not _MID_CAPITAL_RE.search(text):
        return text
    low = text.lower()
    for gate, pattern in _MENTIONS:
        if any(g in low for g in gate):
            text = pattern.sub(_name_of, text)
    if low.lstrip().startswith(_GREETINGS):
        text = _GREETING_RE.sub(_name_of, text)
    if "sen" in low or "transfer" in low or "wire" in low:
        text = _PAYEE_RE.sub(_name_of, text)
    return text
