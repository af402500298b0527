"""Who the synthetic customers are: :class:`CustomerProfile`, and where the Banking77 texts come from.

Shared by the generator (:mod:`taxonomy.samples.generate`) and the export writers
(:mod:`taxonomy.samples.exports`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

BANKING77_ENV = "TAXONOMY_BANKING77"
BANKING77_ATTRIBUTION = (
    "Fintech texts adapted from Banking77 (Casanueva et al., 2020, 'Efficient Intent Detection with "
    "Dual Sentence Encoders'), CC BY 4.0, https://creativecommons.org/licenses/by/4.0/; changes: "
    "greetings, closings, casing, typos and synthetic personal data added."
)


@dataclass(frozen=True)
class CustomerProfile:
    """How one synthetic customer's queue looks.

    Attributes:
        customer_id: The tenant id (a valid path segment).
        industry: Key of :data:`taxonomy.samples.bank.INDUSTRY_BANKS`.
        fmt: Export format written: ``csv``, ``intercom`` or ``zendesk``.
        daily_rate: Mean conversations per day in the bundled-size sample.
        tier_mix: Share of conversations per tier.
        automated_rates: Per-tier share resolved without a human; None = outcome unknown.
        missing_handle_share: Share of human-handled rows whose handle time is missing.
        handle_scale: Multiplier on every handle time (slower or faster teams).
        utc_offset: Hours the customer's end-users are ahead of UTC (shapes the daily curve).
        foreign_share: Share of non-English openings (travel only).
        csv_columns: Columns written when ``fmt == "csv"``.
        events: ``(intent, first_day, last_day, multiplier)`` bursts of one intent.
        levers: ``(tier, first_date, automated_rate)``: from ``first_date`` on, the tier's share
            resolved without a human is ``automated_rate`` (a lever shipped: knowledge content,
            data connectors, procedures). Needs ``automated_rates`` (the rates before).
    """

    customer_id: str
    industry: str
    fmt: str
    daily_rate: float
    tier_mix: dict[str, float]
    automated_rates: dict[str, float] | None = None
    missing_handle_share: float = 0.0
    handle_scale: float = 1.0
    utc_offset: int = 0
    foreign_share: float = 0.0
    csv_columns: tuple[str, ...] = ("customer_id", "conversation_id", "created_at", "text", "handle_time_seconds", "channel")
    events: tuple[tuple[str, int, int, float], ...] = field(default_factory=tuple)
    levers: tuple[tuple[str, date, float], ...] = field(default_factory=tuple)

    def rates_on(self, day: date) -> dict[str, float] | None:
        """The automated rate per tier on ``day`` (None: the export has no outcome)."""
        if self.automated_rates is None:
            return None
        rates = dict(self.automated_rates)
        for tier, first, rate in self.levers:
            if day >= first:
                rates[tier] = rate
        return rates


@lru_cache(maxsize=8)
def _find_banking77(env: str | None) -> str | None:
    if env:
        return env if Path(env).is_file() else None
    repo = Path(__file__).resolve().parents[2]
    for cand in (repo / "shared", repo.parent / "shared"):
        f = cand / "data" / "banking77" / "train_tiers.csv"
        if f.is_file():
            return str(f)
    return None


def banking77_path() -> str | None:
    """The Banking77 tier file, if present: ``$TAXONOMY_BANKING77``, else ``shared/`` in or beside the repo."""
    return _find_banking77(os.environ.get(BANKING77_ENV))
