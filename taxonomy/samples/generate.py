"""Synthetic multi-customer support exports: the bundled sample and benchmark-scale data.

A *customer* is a business whose support queue we analyse. Each one has an industry,
an export format (generic CSV, Intercom or Zendesk), a tier mix, handle times drawn
per tier from log-normal distributions (medians about 5, 10 and 27 minutes for
informational, personalized and action-led requests), optionally an automation
outcome, and a daily volume with weekday seasonality and the odd event (a carrier
delay, a price change) that shifts its topic mix for a few days.

Generation streams one customer-day at a time, so a million conversations need no
more memory than one day of one customer. Every customer-day draws from its own
``random.Random`` seeded by ``(seed, customer, day)``: the same arguments give the
same records and the same bytes on every run and machine.

Texts come from :mod:`taxonomy.samples.intents` and :mod:`taxonomy.samples.texts` (written for this project) and, for
fintech customers when ``shared/data/banking77/train_tiers.csv`` is available, from
the Banking77 training split (Casanueva et al. 2020, CC BY 4.0), adapted with
greetings, casing, typos and inserted personal data.
"""

from __future__ import annotations

import csv
import math
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

from taxonomy.errors import TaxonomyError
from taxonomy.samples import intents as intent_bank
from taxonomy.samples import texts as tx
from taxonomy.samples.profiles import (  # noqa: F401 - re-exported
    BANKING77_ATTRIBUTION,
    BANKING77_ENV,
    CustomerProfile,
    banking77_path,
)
from taxonomy.schema import TIERS

END_DATE = date(2026, 11, 22)  # fixed, so the sample never changes with the calendar
# Handle time (seconds) per tier: log-normal median and shape (sigma of the log).
HANDLE_MEDIAN_S: dict[str, float] = {"informational": 300.0, "personalized": 600.0, "action_led": 1650.0}
HANDLE_SIGMA: dict[str, float] = {"informational": 0.55, "personalized": 0.6, "action_led": 0.65}
HANDLE_CAP_S = 6 * 3600.0
WEEKDAY_FACTOR = (1.18, 1.12, 1.05, 1.0, 0.95, 0.62, 0.55)  # Monday first
# Local hour-of-day weights: quiet nights, morning peak, long afternoon.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 9, 11, 11, 10, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
_HOUR_CUM = list(accumulate(HOUR_WEIGHTS))


_ALL_CSV = (
    "customer_id", "conversation_id", "created_at", "updated_at", "text", "handle_time_seconds",
    "channel", "automated", "csat", "language",
)

BUNDLED: tuple[CustomerProfile, ...] = (
    CustomerProfile("acme-bank", "fintech", "csv", 31, {"informational": 0.3, "personalized": 0.32, "action_led": 0.38},
                    handle_scale=1.06, utc_offset=1),
    CustomerProfile("shopwave", "e-commerce", "zendesk", 22, {"informational": 0.24, "personalized": 0.41, "action_led": 0.35},
                    utc_offset=0, events=(("order_status", 38, 45, 3.0),)),
    CustomerProfile("loopdesk", "saas", "intercom", 20, {"informational": 0.52, "personalized": 0.28, "action_led": 0.2},
                    automated_rates={"informational": 0.58, "personalized": 0.27, "action_led": 0.07},
                    handle_scale=0.94, utc_offset=-5, events=(("invoice_question", 50, 54, 2.5),)),
    CustomerProfile("wayfarer", "travel", "csv", 33, {"informational": 0.3, "personalized": 0.3, "action_led": 0.4},
                    automated_rates={"informational": 0.36, "personalized": 0.14, "action_led": 0.04},
                    missing_handle_share=0.04, utc_offset=2, foreign_share=0.05, csv_columns=_ALL_CSV,
                    events=(("compensation_claim", 20, 24, 3.0),)),
    # Ships its levers one after the other: knowledge content 4 weeks before the end of the sample,
    # data connectors 3 weeks before, procedures 2 weeks before (see examples/README.md).
    CustomerProfile("brightcart", "e-commerce", "csv", 21, {"informational": 0.36, "personalized": 0.36, "action_led": 0.28},
                    automated_rates={"informational": 0.05, "personalized": 0.02, "action_led": 0.0},
                    handle_scale=1.02, utc_offset=-1, csv_columns=_ALL_CSV,
                    levers=(("informational", END_DATE - timedelta(days=27), 0.72),
                            ("personalized", END_DATE - timedelta(days=20), 0.45),
                            ("action_led", END_DATE - timedelta(days=13), 0.2))),
)

_NAME_A = ("north", "blue", "bright", "silver", "swift", "green", "nova", "clear", "true", "open", "red", "tidal")
_NAME_B = ("peak", "path", "leaf", "stone", "wave", "field", "gate", "harbor", "line", "spark", "bridge", "nest")


def customer_profiles(customers: int, seed: int = 7) -> list[CustomerProfile]:
    """The first ``customers`` customers: the five bundled ones, then generated ones.

    Generated customers cycle through the industries; every tenth (from the fifth)
    exports Intercom, the next Zendesk, the rest CSV. Intercom customers and half of the
    CSV ones have an automation outcome; Zendesk exports carry none. Every third customer with
    an outcome ships its levers during the last four weeks, as ``brightcart`` does.

    Args:
        customers: How many (>= 1).
        seed: Seed for the generated customers' traits.

    Returns:
        One profile per customer, ids unique.
    """
    if customers < 1:
        raise TaxonomyError("must be at least 1", field="customers")
    profiles = list(BUNDLED[:customers])
    industries = ("fintech", "e-commerce", "saas", "travel")
    for i in range(len(profiles), customers):
        rng = random.Random(f"{seed}:profile:{i}")
        industry = industries[i % 4]
        base = next(p for p in BUNDLED if p.industry == industry)
        mix = {t: base.tier_mix[t] * rng.uniform(0.75, 1.3) for t in TIERS}
        total = sum(mix.values())
        fmt = {1: "intercom", 2: "zendesk"}.get(i % 10, "csv")
        auto = None
        # Intercom always reports Fin's outcome; Zendesk exports carry none.
        if fmt == "intercom" or (fmt == "csv" and i % 2 == 0):
            lift = rng.uniform(0.5, 1.4)
            auto = {"informational": min(0.9, 0.45 * lift), "personalized": min(0.6, 0.2 * lift), "action_led": min(0.3, 0.05 * lift)}
        levers: tuple[tuple[str, date, float], ...] = ()
        if auto and i % 3 == 0:
            levers = tuple((t, END_DATE - timedelta(days=back), min(0.95, auto[t] + rise))
                           for t, back, rise in (("informational", 27, 0.3), ("personalized", 20, 0.25), ("action_led", 13, 0.15)))
        profiles.append(CustomerProfile(
            customer_id=f"{_NAME_A[i * 7 % 12]}{_NAME_B[i * 5 % 12]}-{industry.replace('-', '')}-{i:03d}",  # seed-independent
            industry=industry, fmt=fmt, daily_rate=rng.uniform(20, 40),
            tier_mix={t: v / total for t, v in mix.items()}, automated_rates=auto,
            missing_handle_share=rng.choice((0.0, 0.0, 0.01, 0.03)), handle_scale=rng.uniform(0.85, 1.15),
            utc_offset=rng.choice((-8, -5, 0, 1, 2, 8)), foreign_share=0.03 if industry == "travel" else 0.0,
            csv_columns=_ALL_CSV if auto else BUNDLED[0].csv_columns, levers=levers,
        ))
    return profiles


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights``, summing exactly to ``total``."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda k: (counts[k] - raw[k], k))
    for k in order[: total - sum(counts)]:
        counts[k] += 1
    return counts


def _day_weights(profile: CustomerProfile, days: int, start: date, seed: int) -> list[float]:
    rng = random.Random(f"{seed}:plan:{profile.customer_id}")
    weights = []
    for d in range(days):
        day = start + timedelta(days=d)
        w = WEEKDAY_FACTOR[day.weekday()] * (1 + 0.1 * d / max(days, 1)) * math.exp(rng.gauss(0, 0.1))
        if any(a <= d <= b for _, a, b, _ in profile.events):
            w *= 1.3
        weights.append(w)
    return weights


def plan_counts(
    profiles: list[CustomerProfile], conversations: int | None, days: int, seed: int, end: date = END_DATE
) -> list[list[int]]:
    """Conversations per customer per day (exact totals; ``days`` entries per customer)."""
    if days < 1:
        raise TaxonomyError("must be at least 1", field="days")
    start = end - timedelta(days=days - 1)
    day_w = [_day_weights(p, days, start, seed) for p in profiles]
    if conversations is None:
        totals = [round(p.daily_rate * sum(w) / (sum(WEEKDAY_FACTOR) / 7)) for p, w in zip(profiles, day_w)]
    else:
        if conversations < 0:
            raise TaxonomyError("must be >= 0", field="conversations")
        # Tenants differ a lot in size: log-normal weights, the bundled four by their rates.
        sizes = [p.daily_rate * math.exp(random.Random(f"{seed}:size:{p.customer_id}").gauss(0, 0.6)) for p in profiles]
        totals = _largest_remainder(conversations, sizes)
    return [_largest_remainder(t, w) for t, w in zip(totals, day_w)]


@lru_cache(maxsize=4)
def _banking77(path: str) -> dict[str, tuple[tuple[str, ...], list[float], dict[str, tuple[str, ...]]]]:
    """tier -> (intents, cumulative weights, intent -> texts), from the Banking77 tier file."""
    by: dict[str, dict[str, list[str]]] = {t: {} for t in TIERS}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("tier") in by and row.get("text"):
                by[row["tier"]].setdefault(row["intent"], []).append(" ".join(row["text"].split()))
    out = {}
    for tier, intents in by.items():
        names = tuple(sorted(intents))
        out[tier] = (names, list(accumulate(float(len(intents[n])) for n in names)), {n: tuple(intents[n]) for n in names})
    return out


IntentTable = dict[str, tuple[tuple[str, ...], list[float], dict[str, tuple[str, ...]]]]


def _intent_table(profile: CustomerProfile, day: int, b77: str | None) -> IntentTable:
    """tier -> (intents, cumulative weights, intent -> phrasings) for one customer-day."""
    if b77 is not None:
        return _banking77(b77)
    bank = intent_bank.INDUSTRY_BANKS[profile.industry]
    table: IntentTable = {}
    for tier in TIERS:
        names = tuple(n for n, (t, _, _) in bank.items() if t == tier)
        boosts = [math.prod(m for e, a, b, m in profile.events if e == n and a <= day <= b) for n in names]
        table[tier] = (names, list(accumulate(bank[n][1] * x for n, x in zip(names, boosts))), {n: bank[n][2] for n in names})
    return table


def _handle_time(rng: random.Random, profile: CustomerProfile, tier: str, intent: str) -> float:
    # Each intent has its own stable speed (a dispute takes longer than a card block).
    intent_factor = 0.85 + 0.33 * (zlib.crc32(intent.encode()) % 1000) / 1000
    median = HANDLE_MEDIAN_S[tier] * profile.handle_scale * intent_factor
    return float(round(min(HANDLE_CAP_S, max(20.0, median * math.exp(rng.gauss(0, HANDLE_SIGMA[tier]))))))


def _csat(rng: random.Random, tier: str, automated: bool | None) -> int | None:
    if rng.random() > 0.3:
        return None
    sad = {"informational": 0.1, "personalized": 0.18, "action_led": 0.3}[tier] * (0.7 if automated else 1.0)
    return rng.choice((1, 2)) if rng.random() < sad else rng.choice((3, 4, 4, 5, 5, 5))


def _record(rng: random.Random, profile: CustomerProfile, table: IntentTable, tier_cum: list[float],
            rates: dict[str, float] | None) -> dict:
    """One conversation's content: tier, intent, text, outcome, handle time, csat."""
    tier = rng.choices(TIERS, cum_weights=tier_cum)[0]
    names, cum, texts = table[tier]
    intent = rng.choices(names, cum_weights=cum)[0]
    phrasing = rng.choice(texts[intent])
    contact = tx.make_contact(rng)
    language = "en"
    if profile.foreign_share and rng.random() < profile.foreign_share:
        language = rng.choice(tuple(intent_bank.FOREIGN))
        paras = [rng.choice(intent_bank.FOREIGN[language][tier]).format_map(tx.Slots(rng, contact))]
    else:
        paras = tx.compose_text(rng, phrasing, tier, contact)
    automated = None if rates is None else rng.random() < rates[tier]
    handle = 0.0 if automated else _handle_time(rng, profile, tier, intent)
    if not automated and rng.random() < profile.missing_handle_share:
        handle = None
    csat = _csat(rng, tier, automated)
    return {
        "text": " ".join(paras), "handle_time_seconds": handle, "automated": automated,
        "csat": None if csat is None else float(csat), "language": language,
        "_tier": tier, "_intent": intent, "_paras": paras, "_contact": contact, "_csat_int": csat,
    }


def day_records(profile: CustomerProfile, day_index: int, day: date, count: int, first_seq: int, seed: int) -> list[dict]:
    """Generate one customer-day of conversations (canonical fields plus generator extras).

    Extras, prefixed ``_``: ``_tier``, ``_intent``, ``_paras`` (message paragraphs),
    ``_contact``, ``_seq`` (per-customer sequence number), ``_csat_int``, ``_rng``
    (the customer-day's generator, for the format renderers).
    """
    rng = random.Random(f"{seed}:{profile.customer_id}:{day_index}")
    table = _intent_table(profile, day_index, banking77_path() if profile.industry == "fintech" else None)
    tier_cum = list(accumulate(profile.tier_mix[t] for t in TIERS))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=count)
    seconds = sorted((h * 3600 + rng.randrange(3600) - profile.utc_offset * 3600) % 86400 for h in hours)
    out = []
    rates = profile.rates_on(day)
    for k, sec in enumerate(seconds):
        rec = _record(rng, profile, table, tier_cum, rates)
        created = midnight + timedelta(seconds=sec)
        busy = (rec["handle_time_seconds"] or 600.0) * 1.5 + rng.lognormvariate(math.log(1800), 1.0)
        out.append({
            "customer_id": profile.customer_id, "conversation_id": None,  # ids are set per export format
            "created_at": created, "updated_at": created + timedelta(seconds=round(busy)),
            "channel": None, "transcript": None, "_seq": first_seq + k, "_rng": rng, **rec,
        })
    return out


def iter_customer_days(
    customers: int = len(BUNDLED), conversations: int | None = None, days: int = 63, seed: int = 7, end: date = END_DATE
) -> Iterator[tuple[CustomerProfile, date, list[dict]]]:
    """Yield ``(profile, day, records)`` one customer-day at a time, customers in order.

    Records carry canonical fields (``conversation_id`` and ``channel`` filled per the
    customer's export format) plus the generator's ``_``-prefixed extras.
    """
    from taxonomy.samples.exports import assign_ids

    profiles = customer_profiles(customers, seed)
    plan = plan_counts(profiles, conversations, days, seed, end)
    start = end - timedelta(days=days - 1)
    for profile, counts in zip(profiles, plan):
        seq = 0
        for d, n in enumerate(counts):
            day = start + timedelta(days=d)
            records = day_records(profile, d, day, n, seq, seed)
            assign_ids(profile, records)
            seq += n
            yield profile, day, records


def iter_conversations(
    customers: int = len(BUNDLED), conversations: int | None = None, days: int = 63, seed: int = 7, *, truth: bool = False
) -> Iterator[dict]:
    """Stream synthetic conversations in canonical column names, one dict per conversation.

    Holds one customer-day in memory at a time. The values are what a correct reader
    of the written export files should produce (before whitespace normalisation and
    PII redaction).

    Args:
        customers: Number of customers (the first four are the bundled ones).
        conversations: Total conversations; None = the bundled sample's natural volume.
        days: Days of history ending at :data:`END_DATE`.
        seed: Random seed; same arguments, same output.
        truth: Also yield ``true_tier`` and ``true_intent`` (the generator's labels).

    Yields:
        Dicts with the keys of :data:`taxonomy.schema.CONVERSATION` minus lineage columns.
    """
    for _, _, records in iter_customer_days(customers, conversations, days, seed):
        for r in records:
            row = {k: v for k, v in r.items() if not k.startswith("_")}
            if truth:
                row["true_tier"], row["true_intent"] = r["_tier"], r["_intent"]
            yield row


def write_sample(
    output: str, customers: int = len(BUNDLED), conversations: int | None = None, days: int = 63, seed: int = 7,
    *, truth_path: str | None = None,
) -> str:
    """Write synthetic exports to a landing root ``OUTPUT/<customer_id>/<YYYY-MM-DD>/<file>``.

    Args:
        output: Landing root (local folder or fsspec URI); must be empty or absent.
        customers: Number of customers (default: the four bundled ones).
        conversations: Total conversations, exact (default: the natural volume of the bundled customers).
        days: Days of history ending at 2026-11-22.
        seed: Random seed; same arguments, same bytes.
        truth_path: Also write a CSV of (customer_id, conversation_id, tier, intent) here.

    Returns:
        A one-paragraph human summary of what was written.
    """
    from taxonomy.samples.exports import write_landing

    return write_landing(output, iter_customer_days(customers, conversations, days, seed), days, seed, truth_path)
