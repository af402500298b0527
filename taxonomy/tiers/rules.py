"""TIERS.md's row-level form rules, applied on top of the intent mappings (``tier-clf-v4`` on).

An intent mapping gives every message of an intent one tier; TIERS.md decides by the *form* of
the request. ``models/tier-corpus/form-rules.yaml`` lists the reviewed rules (a pattern on the start
of the normalised text, the mapped tiers it overrides, the tier it gives, and why). Training and
the leave-one-source-out evaluation use the ruled labels; the evaluation also reports the mapped ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from taxonomy.schema import TIERS
from taxonomy.tiers.features import normalise

RULES_FILE = Path(__file__).resolve().parents[2] / "models" / "tier-corpus" / "form-rules.yaml"
RULES_KEY = "tier-corpus/form-rules.yaml"  # how config.json's ``training_data`` names it


@dataclass(frozen=True)
class FormRule:
    """One rule: rows whose normalised text matches ``match`` and whose mapped tier is in ``from_``
    get ``to``."""

    name: str
    match: re.Pattern[str]
    from_: tuple[str, ...]
    to: str
    reason: str


def load_rules(path: Path = RULES_FILE) -> list[FormRule]:
    """The reviewed rules, checked.

    Raises:
        ValueError: a rule without a name, pattern or reason, or with an unknown tier.
    """
    entries = yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []
    rules = []
    for i, entry in enumerate(entries):
        tiers = [*entry.get("from", []), entry.get("to")]
        if not entry.get("name") or not entry.get("match") or not entry.get("reason") or set(tiers) - set(TIERS):
            raise ValueError(f"{path}: rule {i + 1} needs name, match, reason and known tiers (got {entry!r})")
        rules.append(FormRule(entry["name"], re.compile(entry["match"]), tuple(entry["from"]), entry["to"], entry["reason"]))
    return rules


def rules_sha256(path: Path = RULES_FILE) -> str:
    """SHA-256 of the rules file (recorded in the model's ``config.json``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply_rules(texts: list[str], tiers: np.ndarray, rules: list[FormRule]) -> tuple[np.ndarray, np.ndarray]:
    """Ruled tiers and, per row, the name of the rule that changed it ("" where none did).

    The first matching rule wins; a rule only changes rows whose mapped tier is in its ``from_``.
    """
    ruled = np.asarray(tiers, dtype=object).copy()
    fired = np.full(len(ruled), "", dtype=object)
    for i, text in enumerate(texts):
        form = normalise(text)
        for rule in rules:
            if ruled[i] in rule.from_ and rule.match.search(form):
                ruled[i], fired[i] = rule.to, rule.name
                break
    return ruled.astype(str), fired.astype(str)
