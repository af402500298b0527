"""The sample generator's decorations: greetings, context, closings, synthetic personal data, typos.

The intents themselves (per industry, with their tiers) are in :mod:`taxonomy.samples.intents`;
every phrasing in both modules was written for this project by hand.
"""

from __future__ import annotations

import random

GREETINGS: tuple[str, ...] = (
    "Hi,", "Hello,", "Hi there,", "Hey", "hey team", "Good morning,", "Good afternoon.", "Hi {agent},",
    "Dear support,", "hello?", "Hiya,",
)
CONTEXT: tuple[str, ...] = (
    "I've been a customer for {years} years.",
    "This is the second time I'm writing about this.",
    "I already tried the help centre.",
    "I'm on my phone so sorry for typos.",
    "My colleague told me to contact you.",
    "I need this sorted today.",
    "My email is {email}.",
    "You can call me on {phone}.",
    "I chatted with someone yesterday but nothing happened.",
)
ANGER: tuple[str, ...] = (
    "This is ridiculous.", "Honestly really disappointed.", "Fix this NOW.", "Unacceptable!!",
    "I'm getting really frustrated.", "Third time asking!",
)
CLOSINGS: tuple[str, ...] = (
    "Thanks!", "Thank you", "thanks in advance", "Cheers, {first}", "Kind regards, {full}",
    "Many thanks.", "ty", "Best, {first}", "Please help.", "asap please",
)
# PII a real queue carries; redaction must catch it.
PII_SENTENCES: tuple[str, ...] = (
    "My email is {email}.",
    "Call me back on {phone}.",
    "The card is {card}.",
    "My IBAN is {iban}.",
    "Account holder: {full}, {email}, {phone}.",
    "card number {card} exp 09/28",
)

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Liam",
    "Maria", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Garcia", "Müller", "Rossi", "Dubois", "Nowak", "Okafor", "Tanaka", "Kowalski", "Jensen",
    "O'Brien", "Silva", "Novak", "Ahmed", "Larsen", "Costa", "Meyer", "Brown", "Khan", "Ivanova",
)
PRODUCTS: tuple[str, ...] = (
    "rain jacket", "running shoes", "wool jumper", "desk lamp", "blender", "backpack", "phone case",
    "linen sheets", "coffee grinder", "yoga mat", "denim jeans", "headphones",
)
CITIES: tuple[str, ...] = (
    "Lisbon", "Barcelona", "New York", "Tokyo", "Rome", "Berlin", "Marrakech", "Bangkok", "Dublin", "Cancún",
)
COUNTRIES: tuple[str, ...] = ("Canada", "Ireland", "Norway", "Switzerland", "Australia", "the US", "Germany")
STREETS: tuple[str, ...] = ("Elm Street", "Station Road", "Rue de la Paix", "Hauptstraße", "Via Roma", "Baker Street")


class Slots(dict):
    """Fills ``{slot}`` placeholders on demand, each value drawn once per message."""

    def __init__(self, rng: random.Random, contact: dict[str, str]) -> None:
        super().__init__(contact)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = _SLOT_MAKERS[key](self.rng)
        self[key] = value
        return value


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += sum(divmod(d * 2, 10)) if i % 2 == 0 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.6 else s


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice((
        ("DE", "".join(str(rng.randrange(10)) for _ in range(18))),
        ("GB", "NWBK" + "".join(str(rng.randrange(10)) for _ in range(14))),
        ("FR", "".join(str(rng.randrange(10)) for _ in range(23))),
    ))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def _money(rng: random.Random) -> str:
    return f"{rng.choice(('€', '$', '£'))}{rng.randrange(5, 900)}.{rng.randrange(100):02d}"


def _phone(rng: random.Random) -> str:
    r = rng.randrange
    return rng.choice((
        f"+44 7700 {r(900000, 999999)}", f"+1 ({r(200, 999)}) 555-{r(1000, 9999)}",
        f"+49 151 {r(1000, 9999)} {r(1000, 9999)}", f"0{r(6, 8)}{r(10_000_000, 99_999_999)}"))


_SLOT_MAKERS = {
    "order": lambda rng: rng.choice(("#", "", "SW-")) + str(rng.randrange(1_000_000, 9_999_999)),
    "amount": _money,
    "days": lambda rng: str(rng.randrange(2, 15)),
    "years": lambda rng: str(rng.randrange(1, 12)),
    "seats": lambda rng: str(rng.randrange(2, 25)),
    "date": lambda rng: f"{rng.randrange(1, 29)} {rng.choice(('Dec', 'January', 'Feb', 'March', 'Nov'))}",
    "product": lambda rng: rng.choice(PRODUCTS),
    "country": lambda rng: rng.choice(COUNTRIES),
    "city": lambda rng: rng.choice(CITIES),
    "address": lambda rng: f"{rng.randrange(1, 240)} {rng.choice(STREETS)}, {rng.choice(CITIES)}",
    "ref": lambda rng: "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
    "flight": lambda rng: f"WF{rng.randrange(100, 9999)}",
    "invoice": lambda rng: f"INV-{rng.randrange(10_000, 99_999)}",
    "vat": lambda rng: rng.choice(("DE", "GB", "FR", "NL")) + str(rng.randrange(100_000_000, 999_999_999)),
    "phone": _phone,
    "card": lambda rng: _luhn_card(rng),
    "iban": lambda rng: _iban(rng),
    "last4": lambda rng: f"{rng.randrange(10_000):04d}",
    "agent": lambda rng: rng.choice(("Sarah", "Tom", "Mia", "Leo", "support team", "Alex")),
}


def make_contact(rng: random.Random) -> dict[str, str]:
    """A fictitious end-user: first name, full name and e-mail."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
    domain = rng.choice(("gmail.com", "outlook.com", "yahoo.com", "proton.me", "example.org", "icloud.com"))
    return {"first": first, "name": f"{first} {last}", "full": f"{first} {last}",
            "email": f"{handle}{rng.randrange(100) if rng.random() < 0.4 else ''}@{domain}"}


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w, j = words[i], rng.randrange(len(words[i]) - 1)
    words[i] = rng.choice((w[:j] + w[j + 1] + w[j] + w[j + 2 :], w[:j] + w[j + 1 :], w[:j] + w[j] + w[j:]))
    return " ".join(words)


def compose_text(rng: random.Random, phrasing: str, tier: str, contact: dict[str, str]) -> list[str]:
    """Turn one phrasing into a realistic opening message, as paragraphs.

    Adds (at random) a greeting, context, anger, personal data and a closing, then
    perhaps lowercases, drops punctuation or introduces a typo.

    Returns:
        The message's paragraphs; joined with a space they are the plain text.
    """
    slots = Slots(rng, contact)
    fill = lambda s: s.format_map(slots)  # noqa: E731
    body = [fill(phrasing)]
    if rng.random() < 0.22:
        body.insert(rng.choice((0, 1)), fill(rng.choice(CONTEXT)))
    if rng.random() < (0.14 if tier == "action_led" else 0.04):
        body.append(rng.choice(ANGER))
    if rng.random() < 0.07:
        body.append(fill(rng.choice(PII_SENTENCES)))
    paras = [" ".join(body)]
    if rng.random() < 0.45:
        paras.insert(0, fill(rng.choice(GREETINGS)))
    if rng.random() < 0.35:
        paras.append(fill(rng.choice(CLOSINGS)))
    style = rng.random()
    if style < 0.14:
        paras = [p.lower() for p in paras]
    elif style < 0.22:
        paras = [p.rstrip(".!?") for p in paras]
    if rng.random() < 0.12:
        k = rng.randrange(len(paras))
        paras[k] = _typo(rng, paras[k])
    return [p.strip() for p in paras if p.strip()]
