"""PII redaction: personal data in support text becomes typed placeholders.

Every text that may reach an output, a report or a quarantine record goes through
:func:`redact_text` first. It replaces

========== ==============================================================================
``<URL>``    URLs carrying credentials (``user:pass@``) or tokens (``?token=``, signed links)
``<EMAIL>``  e-mail addresses (plus-tags, dots, sub-domains)
``<IBAN>``   IBANs, spaced or not; country length and the mod-97 check digits must agree
``<CARD>``   payment card numbers, plain or grouped by spaces/dashes; issuer prefix and Luhn
``<SSN>``    US social security numbers written ``123-45-6789`` (invalid ranges excluded)
``<NINO>``   UK National Insurance numbers (``QQ 12 34 56 C``)
``<IP>``     IPv4 and IPv6 addresses (not version numbers such as ``version 1.2.3.4``)
``<ACCOUNT>`` bank account numbers and sort / routing codes after a label (``account number is
             12345678``, ``sort code 20-00-00``, ``Kontonummer ...``; 6+ digits)
``<ID>``     a person's identifiers after a label: passport, driving licence, national / tax id
             (``DNI``, ``CPF``), their customer, member, policy, patient, user or frequent-flyer
             number (``Policy number: POL-88812345``, ``Kundennummer``; 4+ digits, not a bare year)
``<DOB>``    a date of birth after its label (``DOB 12/03/1985``, ``né le 12/03/1985``)
``<PHONE>``  phone numbers: international (``+44 20 7946 0958``, ``0044 ...``), North American
             (``415-555-2671``), national with a trunk 0 (``07700 900123``, ``01 23 45 67 89``),
             and any 7-15 digit number right after "call", "phone", "mobile", "teléfono"...
``<SECRET>`` API keys and bearer tokens of well-known shapes; a PIN, one-time code or card security
             code after its label (``my PIN is 1596``; not "pin code", a postal code), a password
             after its label when it has a digit (``password: hunter2``, ``Passwort ist ...``)
``<ADDRESS>`` street addresses with a house number: ``12 Elm Street``, ``4b Old Kent Rd``,
             ``201 Hauptstraße`` / ``Hauptstraße 5``, ``225 Via Roma``, ``139 Rue de la Paix``,
             ``Calle Mayor 5`` (an ambiguous street word, "way", "place", "close", "row", "walk",
             "grove", counts only capitalised: "2 one way tickets" stays), with the town, state
             and postal code after it (``..., London NW1 6XE``, ``..., london nw1 6xe``, ``..., IL 62704``);
             a postal code after its label (``postcode is SW1A 1AA``, ``zip code 90210``)
``<NAME>``   a person's name where the message labels it (``Account holder: Olga Smith``), introduces
             its writer by it (``my name is angela``, ``This is Sam from accounts``, ``i am june``, ``Ich
             heiße Anna``), gives it as a name's new value (``update my surname to Müller``), mentions it
             by a role or title (``my colleague Liam Costa``, ``Hi Tom,``, ``Dr. Johnson``, ``i spoke to
             sarah``, ``mrs jones``: lower case, a listed name, ``sent money to Anna Berg``) or signs off with it
             (``Saludos, María García``, ``Thanks,\n-- Anna``), or an e-mail's sender (``From: John Smith
             <...>``, ``Anna Berg <...> wrote:``, a ``From:`` line of 2-3 capitalised words, which may be a
             place: ``From: New York``); elsewhere in a sentence no name is found
========== ==============================================================================

Labels and names are read in English, German, Spanish, French and Portuguese. Precision matters
as much as recall: order numbers (``#123456``, ``ORD-2026-0042``), booking, ticket, invoice and
tracking references (a transaction's, not a person's), unlabelled numbers, dates, times, amounts
(``$1,234.56``, ``1.234,56 EUR``), percentages and versions are left alone, because the downstream
tiers and topics depend on them: every candidate is checked (checksums, issuer prefixes, digit
counts, grouping) rather than matched by shape alone.

Redaction is idempotent (``redact_text(redact_text(x)) == redact_text(x)``): a placeholder never matches any
pattern, every pattern treats a neighbouring placeholder like a word character, and :func:`redact_text` repeats
its passes until nothing changes (in practice one extra pass, and only for the few texts that held PII).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from taxonomy.identifiers import (AFTER_VALUE, DOB_GATE, DOB_RE, ID_GATE, LABELLED_ID_RE, SECRET_GATE, SECRET_LABEL_RE,
                                  keep_label, labelled_id, mentions)
from taxonomy.personal import (ADDRESS_RE, ADDRESS_TAIL_RE, LABELLED_NAME_RE, POSTCODE_GATE, POSTCODE_RE, STREET_FIRST_RE,
                               STREET_GATE, introduced, labelled_name, mentioned, senders, signoff)

__all__ = ["PLACEHOLDERS", "redact_record", "redact_text", "redact_texts"]

PLACEHOLDERS: tuple[str, ...] = (
    "<URL>", "<EMAIL>", "<IBAN>", "<CARD>", "<SSN>", "<NINO>", "<IP>", "<ACCOUNT>", "<ID>", "<DOB>", "<PHONE>", "<SECRET>",
    "<ADDRESS>", "<NAME>",
)

# Boundaries shared by all patterns: a placeholder next to a candidate counts as a word character, so
# redacting one token never makes its neighbour match on a second pass. The look-behinds sit after the first
# character ("[A-Z](?<![\w<>].)"): a pattern starting with a character class lets the engine skip ahead (2x).
_PRE1 = r"(?<![\w<>].)(?<![A-Z]>.)"
_POST = AFTER_VALUE

# -- URLs with credentials or tokens ------------------------------------------------------
_URL_RE = re.compile(r"(?<![\w<>])\b(?:https?|ftps?|wss?)://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""
_SENSITIVE_KEYS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "auth", "auth_token", "authorization", "api_key",
    "apikey", "key", "secret", "client_secret", "password", "passwd", "pwd", "pass", "sig", "signature",
    "x-amz-signature", "x-amz-credential", "session", "sessionid", "session_id", "sid", "code", "otp",
    "reset_token", "magic", "jwt", "ticket",
})
_TOKENISH_RE = re.compile(r"^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9_\-.=~+/]{24,}$|^[0-9a-fA-F]{32,}$")

# -- e-mail -------------------------------------------------------------------------------
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])(?<![A-Z]>)[A-Za-z0-9_](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])(?!<[A-Z])",
    re.ASCII,
)

# -- IBAN ---------------------------------------------------------------------------------
# Case-insensitive: people type IBANs in lower case too; the mod-97 check keeps precision.
_IBAN_RE = re.compile(r"[A-Z]" + _PRE1 + r"[A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + _POST, re.IGNORECASE)
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CR": 22,
    "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
    "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

# -- payment cards ------------------------------------------------------------------------
# 13-19 digits, plain or in groups separated by one space or dash; never glued to more digits,
# and not followed by a decimal part (amounts).
_CARD_RE = re.compile(
    r"\d(?<![\w<>+#$€£¥.,/-].)(?<![A-Z]>.)\d{3}(?:[ -]?\d++){1,6}+(?![\w<>%]|[.,]\d)"
)
_CARD_SPLIT_RE = re.compile(r"([ -])")
# Issuer prefixes and the lengths each issues (Visa, Mastercard, Amex, Diners, Discover, JCB,
# UnionPay, Maestro): a Luhn-valid 18-digit run starting "37" is not an Amex card.
_CARD_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = tuple(
    (re.compile(prefix), frozenset(lengths))
    for prefix, lengths in (
        (r"4", (16, 19)),  # 13-digit Visa numbers are long retired; ids of that length are common
        (r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),
        (r"3[47]", (15,)),
        (r"3(?:0[0-5]|[689])", (14, 15, 16, 17, 18, 19)),
        (r"6(?:011|5|4[4-9])", (16, 17, 18, 19)),
        (r"35(?:2[89]|[3-8]\d)", (16, 17, 18, 19)),
        (r"62", (16, 17, 18, 19)),
        (r"5[06-9]|6\d", (13, 14, 15, 16, 17, 18, 19)),
    )
)

# -- national identifiers -----------------------------------------------------------------
_SSN_RE = re.compile(r"\d(?<![\w<>#$-].)(?<![A-Z]>.)\d{2}-\d{2}-\d{4}(?![\w-])(?!<[A-Z])")
_SSN_INVALID_RE = re.compile(r"^(?:000|666|9\d\d)|-00-|-0000$")
_NINO_RE = re.compile(
    r"[A-CEGHJ-PR-TW-Z]" + _PRE1 + r"[A-CEGHJ-NPR-TW-Z](?<!BG|GB|KN|NK|NT|TN|ZZ)"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]" + _POST
)
_SECRET_RE = re.compile(
    r"(?<![\w<>])(?<![A-Z]>)(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|AKIA[0-9A-Z]{16}|"
    r"gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|"
    r"(?<=[Bb]earer )[A-Za-z0-9._~+/-]{20,}=*)(?![\w])(?!<[A-Z])"
)

# -- IP addresses -------------------------------------------------------------------------
_IPV4_RE = re.compile(r"\d(?<![\w<>.:].)(?<![A-Z]>.)\d{0,2}(?:\.\d{1,3}){3}(?![\w.]|<[A-Z])")
_IPV6_RE = re.compile(
    r"(?<![\w<>:.])(?<![A-Z]>)(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])(?!<[A-Z])"
    r"|(?<![\w<>:.])(?<![A-Z]>)(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?::"
    r"(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?(?![\w:])(?!<[A-Z])"
)
_VERSION_CONTEXT_RE = re.compile(
    r"(?i)\b(?:version|ver|v|build|release|firmware|update|app|os|ios|android)\s*[:#]?\s*$"
)

# -- phone numbers ------------------------------------------------------------------------
# A candidate is an optional "+"/"00" prefix and digit groups joined by at most one space,
# dot or dash, where a group may be parenthesised ("(415)", "(0)"). Possessive quantifiers keep
# matching linear on hostile input; which candidates are phones is decided in _phone().
_PHONE_TOKEN = r"(?:\(\d{1,5}\)|\d++)"
_PHONE_RE = re.compile(
    r"[+(\d](?<![\w<>#$€£¥@/+.,:;=&?-].)(?<![A-Z]>.)(?<!\d[.,].)"
    r"(?=[\d ().-]{6})(?:(?<=\+) ?" + _PHONE_TOKEN + r"|(?<=\()\d{1,5}\)|(?<=\d)\d*+)"
    r"(?:[ .-]?" + _PHONE_TOKEN + r")*+"
    r"(?![\w<>%@/$€£¥]|[.,:-]\d)"
)
_PHONE_SPLIT_RE = re.compile(r"([ .-])")
_PHONE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:call|phone|tel|telephone|mobile|mob|cell|cellphone|whatsapp|sms|text me|ring|fax|reach me|landline|telefon|"
    r"telefonnummer|handy|handynummer|rufnummer|mobil|mobilnummer|tel[ée]fono|m[óo]vil|celular|llámame|t[ée]l[ée]phone|portable|"
    r"appelez-moi|telefone|telemóvel|ligue-me)\b(?:\s|[:.,()#+-]|\b(?:me|us|him|her|back|on|at|is|my|our|the|number|no|nr|num|"
    r"direct|line|please|pls|or|via|to|new|now|its|it's|was|here|from|mein|meine|ist|lautet|unter|mi|es|al|el|mon|ma|est|au|"
    r"le|meu|minha|é|o|nummer|número|numéro|de|do|da)\b){0,16}$"
)
_NANP_RE = re.compile(
    r"(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ ]?\d{3}[ .-]?\d{4}|[2-9]\d{2}([ .-])\d{3}\1\d{4})"
)
_NATIONAL_RE = re.compile(r"\(?0[1-9]\d{0,4}(?:\)|[ .-])?(?:\d{2,8}[ .-]?){1,4}")
_DATE_INSIDE_RE = re.compile(
    r"\d{1,2}([./-])\d{1,2}\1(?:19|20)\d{2}|(?:19|20)\d{2}([./-])\d{1,2}\2\d{1,2}"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_card(s: str) -> bool:
    seps = {ch for ch in s if not ch.isdigit()}
    if len(seps) > 1:
        return False
    digits = s.replace(" ", "").replace("-", "")
    if not any(p.match(digits) and len(digits) in n for p, n in _CARD_ISSUERS) or not _luhn_ok(digits):
        return False
    if not seps:
        return True
    groups = [len(g) for g in _CARD_SPLIT_RE.split(s)[::2]]
    four_grouped = all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4
    return four_grouped or groups in ([4, 6, 5], [4, 6, 4])


def _card(m: re.Match[str]) -> str:
    s = m.group()
    parts = _CARD_SPLIT_RE.split(s)
    # The card may be followed by another number ("4111 1111 1111 1111 12 27"): try the whole
    # span, then without trailing groups that a space sets apart.
    for end in range(len(parts), 0, -2):
        if end < len(parts) and parts[end] != " ":
            continue
        candidate = "".join(parts[:end])
        if _is_card(candidate):
            return "<CARD>" + s[len(candidate):]
    return s


def _ssn(m: re.Match[str]) -> str:
    return m.group() if _SSN_INVALID_RE.search(m.group()) else "<SSN>"


def _iban(m: re.Match[str]) -> str:
    s = m.group()
    compact = s.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return s
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return "<IBAN>" if int(number) % 97 == 1 else s


def _ip(m: re.Match[str]) -> str:
    s = m.group()
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return s
    if "::" in s and (s.count(":") < 3 or not any(ch.isdigit() for ch in s)):
        return s  # "::1", "fe80::1", "dead::beef": loopback/link-local or words, not someone's address
    if "." in s and _VERSION_CONTEXT_RE.search(m.string, max(0, m.start() - 20), m.start()):
        return s
    return "<IP>"


def _url(m: re.Match[str]) -> str:
    s = m.group()
    core = s.rstrip(_URL_TRAILING)
    tail = s[len(core):]
    try:
        parts = urlsplit(core)
        secret = bool(parts.password) or ("@" in parts.netloc and bool(parts.username))
        query = parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(parts.fragment, keep_blank_values=True)
    except ValueError:
        return "<URL>" + tail  # unparseable: cannot prove it is harmless
    secret = secret or any(k.lower() in _SENSITIVE_KEYS and v for k, v in query)
    secret = secret or any(_TOKENISH_RE.match(v) for _, v in query)
    secret = secret or any(_TOKENISH_RE.match(seg) for seg in parts.path.split("/"))
    return "<URL>" + tail if secret else s


def _is_phone(span: str, context: bool, *, inner: bool = False) -> bool:
    """Whether a candidate span is a phone number.

    ``inner`` spans (cut out of a longer run of numbers) must have an unmistakable North
    American or national shape.
    """
    digits = "".join(ch for ch in span if ch.isdigit())
    n = len(digits)
    if n < 7 or n > 17 or _DATE_INSIDE_RE.search(span):
        return False
    if _NANP_RE.fullmatch(span):
        return True
    separated = any(not ch.isdigit() for ch in span)
    if separated and _NATIONAL_RE.fullmatch(span) and 10 <= n <= 12 and span[:2] != "00":
        return True
    if inner:
        return False
    if span.startswith("+"):
        return 8 <= n <= 15 and digits[0] != "0"
    if span[:2] == "00":
        return 9 <= n - 2 <= 15 and digits[2] != "0"
    if not separated and 10 <= n <= 11 and digits[0] == "0" and digits[1] != "0":
        return True  # a national number written without spaces (07700900123, 0612345678)
    return context and n <= 15


def _phone(m: re.Match[str]) -> str:
    span = m.group()
    if len(span) < 7:
        return span
    context = bool(_PHONE_CONTEXT_RE.search(m.string, max(0, m.start() - 40), m.start()))
    if _is_phone(span, context):
        return "<PHONE>"
    # Neighbouring numbers can glue onto a phone ("order 123456 415-555-2671"); try dropping up to
    # two groups on either side that a space sets apart.
    parts = _PHONE_SPLIT_RE.split(span)
    if len(parts) > 17:
        return span
    for cut_left in range(0, min(5, len(parts)), 2):
        if cut_left and parts[cut_left - 1] != " ":
            continue
        for cut_right in range(0, min(5, len(parts) - cut_left), 2):
            if not (cut_left or cut_right) or (cut_right and parts[len(parts) - cut_right] != " "):
                continue
            inner = "".join(parts[cut_left:len(parts) - cut_right])
            # Only a differently-written neighbour is cut off ("123456 415-555-2671"); a run of
            # space-separated groups ("3704 0044 0532 0130 01") is one account-like number.
            if " " not in inner and inner[:1] in "0123456789(" and _is_phone(inner, False, inner=True):
                return "".join(parts[:cut_left]) + "<PHONE>" + "".join(parts[len(parts) - cut_right:])
    return span


# Each pass: a cheap gate on (text, number of digits), the pattern, the replacement.
_Pass = tuple[Callable[[str, int], bool], re.Pattern[str], Callable[[re.Match[str]], str] | str]
_PASSES: tuple[_Pass, ...] = (
    (lambda t, nd: "://" in t, _URL_RE, _url),
    (lambda t, nd: "_" in t or "AKIA" in t or "earer " in t or "xox" in t, _SECRET_RE, "<SECRET>"),
    (lambda t, nd: "@" in t, _EMAIL_RE, "<EMAIL>"),
    (lambda t, nd: nd >= 6, _IBAN_RE, _iban),
    (lambda t, nd: nd >= 13, _CARD_RE, _card),
    (lambda t, nd: nd >= 9 and "-" in t, _SSN_RE, _ssn),
    (lambda t, nd: nd >= 6, _NINO_RE, "<NINO>"),
    (lambda t, nd: nd >= 4 and "." in t, _IPV4_RE, _ip),
    (lambda t, nd: "::" in t or t.count(":") >= 7, _IPV6_RE, _ip),
    (lambda t, nd: nd >= 4 and mentions(t, ID_GATE), LABELLED_ID_RE, labelled_id),
    (lambda t, nd: nd >= 4 and mentions(t, DOB_GATE), DOB_RE, keep_label("<DOB>")),
    (lambda t, nd: nd >= 1 and mentions(t, SECRET_GATE), SECRET_LABEL_RE, keep_label("<SECRET>")),
    (lambda t, nd: nd >= 7, _PHONE_RE, _phone),
    (lambda t, nd: nd >= 1, ADDRESS_RE, "<ADDRESS>"),
    (lambda t, nd: nd >= 1 and mentions(t, STREET_GATE), STREET_FIRST_RE, "<ADDRESS>"),
    (lambda t, nd: nd >= 1 and "<ADDRESS>" in t, ADDRESS_TAIL_RE, ""),
    (lambda t, nd: nd >= 1 and mentions(t, POSTCODE_GATE), POSTCODE_RE, keep_label("<ADDRESS>")),
    (lambda t, nd: ":" in t, LABELLED_NAME_RE, labelled_name),
)
_DIGITS = "0123456789"
_HAS_DIGIT_RE = re.compile(r"\d")


def _one_pass(text: str) -> str:
    digits = sum(map(text.count, _DIGITS))  # ten C-level scans: far cheaper than any regex
    for gate, pattern, repl in _PASSES:
        if gate(text, digits):
            text = pattern.sub(repl, text)
    return signoff(mentioned(introduced(senders(text))))


def redact_text(text: str) -> str:
    """Replace personal data in ``text`` with typed placeholders.

    Args:
        text: Any text (a message, a subject, a JSON dump).

    Returns:
        The text with PII replaced by ``<EMAIL>``, ``<PHONE>``, ``<CARD>``, ``<IBAN>``,
        ``<SSN>``, ``<NINO>``, ``<IP>``, ``<ACCOUNT>``, ``<ID>``, ``<DOB>``, ``<URL>``, ``<SECRET>``,
        ``<ADDRESS>`` or ``<NAME>``;
        everything else unchanged.
        Non-string input is returned as is, so nulls pass through.
    """
    if not isinstance(text, str):
        return text
    # Cheap pre-check: nearly all PII has a digit, an "@", a "://" or a label's ":"; the rest of the
    # messages are only read for a name they introduce their writer by, mention by a role or sign with.
    if "@" not in text and "://" not in text and "_" not in text and ":" not in text and not _HAS_DIGIT_RE.search(text):
        return signoff(mentioned(introduced(text)))
    out = _one_pass(text)
    while out != text:  # terminates: each change turns at least one free character into a placeholder
        text, out = out, _one_pass(out)
    return out


def redact_texts(texts: Iterable[str | None]) -> list[str | None]:
    """Redact many texts; ``None`` stays ``None``."""
    return [None if t is None else redact_text(t) for t in texts]


def redact_record(obj: Any) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, tuples), keys included.

    Args:
        obj: A JSON-like value, e.g. a quarantined record.

    Returns:
        A new value of the same shape with every string redacted; numbers, booleans and
        ``None`` are unchanged.
    """
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {redact_text(k) if isinstance(k, str) else k: redact_record(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_record(v) for v in obj)
    return obj
