"""A person's identifiers and secrets where the message labels them, for :mod:`taxonomy.redact`.

Account and sort codes become ``<ACCOUNT>``, passport, licence, national, tax, customer, member and
policy numbers ``<ID>``, a date of birth ``<DOB>`` and a PIN, one-time code or password ``<SECRET>``,
each only after a label that says what it is (English, German, Spanish, French, Portuguese): the same
digits unlabelled could be an amount, a year or an order number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

# After a value: no word character and no placeholder right after it, so redacting one token never makes its
# neighbour match on a second pass (taxonomy.redact and taxonomy.personal use it too).
AFTER_VALUE = r"(?![\w])(?!<[A-Z])"
_POST = AFTER_VALUE


# -- Identifiers of a person, where the message labels them ---------------------------------------
# A person's identifiers (bank account, sort code, passport, licence, national / tax id, their customer,
# member or policy number, their date of birth) are redacted only after a label that says what they are:
# the same digits unlabelled could be an amount, a year or an order number. Identifiers of a transaction
# (order, booking, ticket, tracking, invoice numbers) are not a person's and are left, as documented in
# taxonomy.redact. The value must hold digits: "my account number is wrong" stays.
_NUMBER_WORD = r"(?:number|num|no\.?|nr\.?|#|id|code)"
_ACCOUNT_LABEL = (r"(?:bank[ \t]+)?(?:account|acct|a/c)(?:[ \t]*" + _NUMBER_WORD + r")?|sort[ \t]*code|"
                  r"routing[ \t]*(?:number|no\.?|#)|"
                  # German, Spanish, French, Portuguese: Kontonummer, número de cuenta, numéro de compte, conta
                  r"konto(?:nummer|[ \t]*nr\.?)?|(?:n[úu]mero[ \t]+de[ \t]+(?:la[ \t]+)?)?cuenta|"
                  r"(?:num[ée]ro[ \t]+de[ \t]+)?compte|(?:n[úu]mero[ \t]+da[ \t]+)?conta")
_PERSON_ID_LABEL = (r"passport(?:[ \t]*" + _NUMBER_WORD + r")?|(?:driver'?s?|driving)[ \t]+licen[cs]e(?:[ \t]*"
                    + _NUMBER_WORD + r")?|licen[cs]e[ \t]*(?:number|no\.?|#)|national[ \t]+(?:id|identity|insurance)"
                    r"(?:[ \t]*(?:card[ \t]*)?" + _NUMBER_WORD + r")?|(?:tax|taxpayer)[ \t]*(?:id|" + _NUMBER_WORD
                    + r")|aadha?ar(?:[ \t]*card)?(?:[ \t]*" + _NUMBER_WORD + r")?|ssn|social[ \t]+security(?:[ \t]*"
                    + _NUMBER_WORD + r")?|(?:member(?:ship)?|customer|client|policy(?:[ \t]*holder)?|patient|"
                    r"student|employee|loyalty|frequent[ \t]+fl[yi]er|user)[ \t]*" + _NUMBER_WORD
                    # German, Spanish, French, Portuguese customer, member, policy, passport and national numbers
                    + r"|(?:kunden|mitglieds|versicherungs|reisepass|personalausweis|ausweis|steuer)(?:nummer|[ \t-]*nr\.?)|"
                    r"steuer-?id|n[úu]mero[ \t]+d[eo][ \t]+(?:cliente|socio|s[óo]cio|p[óo]liza|ap[óo]lice|pasaporte|"
                    r"passaporte|afiliaci[óo]n|seguridad[ \t]+social|contribuinte)|num[ée]ro[ \t]+(?:de[ \t]+)?(?:client|"
                    r"adh[ée]rent|passeport|police|s[ée]curit[ée][ \t]+sociale)|(?-i:DNI|NIE|NIF|CPF|NIR|NISS)")
# Each pattern starts with a look-ahead for its labels' first letters: about twice as fast as without.
# Between label and value: "is", "was", ":", "=", "#", "-" in any mix ("account number is: 1234 5678").
_FILLER = r"[ \t]*(?:(?:is|was|ist|lautet|war|es|era|est|était|é)[ \t]+|[:=#-][ \t]*)*"
# An identifier: an optional upper-case prefix ("POL-", "A"), then groups that each start with a digit.
_ID_VALUE = r"(?-i:[A-Z]{1,5}[-/ ]?)?\d[\dA-Za-z]*+(?:[ ./-]\d[\dA-Za-z]*+)*+"
LABELLED_ID_RE = re.compile(
    r"(?=[abcdefiklmnprstuvCDN])(?<![<\w])(?:(" + _ACCOUNT_LABEL + r")|(" + _PERSON_ID_LABEL + r"))" + _FILLER + r"(?<![\w<>])(" + _ID_VALUE + r")" + _POST,
    re.IGNORECASE)
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|enero|febrero|"
          r"marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|juin|"
          r"juillet|août|septembre|octobre|novembre|décembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|"
          r"novembro|dezembro)\.?")
# "3 March 1985", "March 3, 1985", "3. März 1985", "3 de marzo de 1985", "3 mars 1985", a bare year.
_DATE = (r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}(?:st|nd|rd|th|\.)?[ \t]+"
         r"(?:(?:of|de)[ \t]+)?" + _MONTH + r",?[ \t]+(?:(?:de|del)[ \t]+)?\d{4}|" + _MONTH
         + r"[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4}|\d{4}")
DOB_RE = re.compile(r"(?=[bdfgn])(?<![<\w])(?:date[ \t]+of[ \t]+birth|d\.?o\.?b\b\.?|birth[ \t]*date|born(?:[ \t]+(?:on|in))?|"
                    r"geburtsdatum|geboren(?:[ \t]+am)?|fecha[ \t]+de[ \t]+nacimiento|nacid[oa][ \t]+el|"
                    r"date[ \t]+de[ \t]+naissance|n[ée]e?[ \t]+le|data[ \t]+de[ \t]+nascimento|nascid[oa][ \t]+em)"
                    + _FILLER + r"(?<![\w<>])(" + _DATE + r")" + _POST, re.IGNORECASE)
ID_GATE = ("acc", "a/c", "sort", "routing", "passport", "licen", "national", "tax", "aadha", "ssn",
            "social", "member", "customer", "client", "policy", "patient", "student", "employee", "loyalty", "frequent",
            "user", "konto", "kunden", "mitglied", "versicherung", "ausweis", "steuer", "reisepass", "cuenta", "socio",
            "sócio", "liza", "pasaporte", "passaporte", "afiliaci", "compte", "adh", "passeport", "police", "conta",
            "dni", "nie", "nif", "cpf", "nir", "niss", "seguridad", "sécurité", "securite", "contribuinte", "apólice")
DOB_GATE = ("birth", "dob", "d.o.b", "born", "geburt", "geboren", "nacimiento", "nacid", "naissance", "né le",
            "née le", "ne le", "nee le", "nascimento", "nascid")


def labelled_id(m: re.Match[str]) -> str:
    """A :data:`LABELLED_ID_RE` match with its label kept and the identifier replaced: ``<ACCOUNT>``
    after an account label (6+ digits), ``<ID>`` after a person's-id label (4+ digits; not a bare year)."""
    value = m.group(3)
    digits = sum(c.isdigit() for c in value)
    if digits < (6 if m.group(1) else 4) or (len(value) == 4 and value[:2] in ("19", "20")):
        return m.group(0)
    return m.group(0)[:m.start(3) - m.start(0)] + ("<ACCOUNT>" if m.group(1) else "<ID>")


def keep_label(tag: str) -> Callable[[re.Match[str]], str]:
    """A replacement for a labelled match: its label kept, its value (the last group that matched)
    replaced by ``tag`` (``DOB 12/03/1985`` -> ``DOB <DOB>``)."""
    return lambda m: m.group(0)[:m.start(m.lastindex) - m.start(0)] + tag


def mentions(text: str, words: tuple[str, ...]) -> bool:
    """Cheap gate for a labelled pattern: whether ``text`` holds any of ``words`` (its labels' starts)."""
    return _gate(words).search(text.lower()) is not None


@lru_cache(maxsize=8)
def _gate(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a gate's words: about a fifth faster than testing each word in turn (51 of them)."""
    return re.compile("|".join(re.escape(w) for w in words))


# -- Secrets the message gives away: "my PIN is 1596", "password: hunter2" ---------------------------
# A PIN, one-time code or card security code is 3-8 digits after its label ("pin code" is a postal code
# in India, so it is not a label); a password after its label counts when it has a digit ("my password
# is not working" stays; a password of letters and symbols only is missed).
_CODE_LABEL = (r"pin(?![ \t]*code)(?:[ \t]*(?:number|no\.?))?|otp|one[- ]time[ \t]+(?:password|code|pin)|cvv2?|cvc|"
               r"security[ \t]+code")
_PASSWORD_LABEL = r"password|passcode|passwd|pwd|passwort|kennwort|contraseña|clave|mot[ \t]+de[ \t]+passe|senha"
SECRET_LABEL_RE = re.compile(
    r"(?=[ckmops])(?<![<\w])(?:(?:" + _CODE_LABEL + r")" + _FILLER + r"(?<![\w<>])(\d{3,8})" + _POST
    + r"|(?:" + _PASSWORD_LABEL + r")" + _FILLER + r"(?<![\w<>])(?!<[A-Z])((?=[^\s<>]*\d)[^\s<>]{4,64}))",
    re.IGNORECASE)
SECRET_GATE = ("pin", "otp", "one-time", "one time", "cvv", "cvc", "security", "pass", "pwd", "kennwort", "contraseña",
               "clave", "senha")
