"""Per-customer tier overrides: a CSM pins the tier of a topic, or of texts matching a pattern.

One YAML file per customer, ``<overrides_dir>/<customer_id>.yaml``::

    customer_id: acme          # optional; must equal the file name when given
    rules:                     # applied in order; the first rule that matches a row wins
      - pattern: "(?i)\\bwhere is my (order|parcel)\\b"   # Python regex, searched in the text
        tier: personalized
        note: "tracking questions are answered from our order API"   # optional, free text
      - topic_id: "t-007"      # a topic id from the topics stage
        tier: action_led

Rules are applied after the model: the row's ``tier`` is replaced, ``tier_source`` becomes
``override``, the pinned tier's probability and ``tier_confidence`` become 1.0 and the other
probabilities 0.0 (a CSM's pin is certain by definition).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIERS
from taxonomy.storage import validate_customer_id

RULE_KEYS = {"pattern", "topic_id", "tier", "note"}
MAX_PATTERN_CHARS = 500


@dataclass(frozen=True)
class OverrideRule:
    """Pin ``tier`` on rows whose text matches ``pattern`` or whose topic is ``topic_id``."""

    tier: str
    pattern: str | None = None
    topic_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Overrides:
    """One customer's rules, in file order (empty when the customer has no file)."""

    customer_id: str
    rules: tuple[OverrideRule, ...] = field(default_factory=tuple)
    source: str | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)


def _rule(raw: object, i: int, path: str) -> OverrideRule:
    where = f"rules[{i}]"
    if not isinstance(raw, dict):
        raise TaxonomyError("each rule must be a mapping with 'tier' and 'pattern' or 'topic_id'", file=path, field=where)
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise TaxonomyError(f"unknown key (known: {', '.join(sorted(RULE_KEYS))})", file=path, field=f"{where}.{sorted(unknown)[0]}")
    if raw.get("tier") not in TIERS:
        raise TaxonomyError(f"tier must be one of {', '.join(TIERS)}, got {raw.get('tier')!r}", file=path, field=f"{where}.tier")
    has_pattern, has_topic = raw.get("pattern") is not None, raw.get("topic_id") is not None
    if has_pattern == has_topic:
        raise TaxonomyError("give exactly one of 'pattern' or 'topic_id'", file=path, field=where)
    if has_pattern:
        pattern = raw["pattern"]
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN_CHARS:
            raise TaxonomyError(f"pattern must be a non-empty string of at most {MAX_PATTERN_CHARS} characters", file=path, field=f"{where}.pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TaxonomyError(f"not a valid regular expression ({exc})", file=path, field=f"{where}.pattern") from None
    if has_topic and not isinstance(raw["topic_id"], (str, int)):
        raise TaxonomyError("topic_id must be a string", file=path, field=f"{where}.topic_id")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise TaxonomyError("note must be text", file=path, field=f"{where}.note")
    return OverrideRule(raw["tier"], raw.get("pattern"), str(raw["topic_id"]) if has_topic else None, note)


def load_overrides(customer_id: str, overrides_dir: str | None) -> Overrides:
    """Read and validate ``<overrides_dir>/<customer_id>.yaml``.

    Args:
        customer_id: The customer (validated as a safe path segment).
        overrides_dir: Folder of override files; None means no overrides at all.

    Returns:
        The customer's rules; empty when ``overrides_dir`` is None or holds no file for them.

    Raises:
        TaxonomyError: bad YAML, unknown key, bad tier, bad regex, or a ``customer_id`` that
            differs from the file name (the message names the file and the field).
    """
    validate_customer_id(customer_id)
    if not overrides_dir:
        return Overrides(customer_id)
    path = Path(overrides_dir) / f"{customer_id}.yaml"
    if not path.exists():
        return Overrides(customer_id)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"not valid YAML ({exc.__class__.__name__})", file=str(path)) from None
    if not isinstance(data, dict):
        raise TaxonomyError("expected a mapping with a 'rules' list", file=str(path))
    unknown = set(data) - {"customer_id", "rules"}
    if unknown:
        raise TaxonomyError("unknown key (known: customer_id, rules)", file=str(path), field=sorted(unknown)[0])
    if data.get("customer_id", customer_id) != customer_id:
        raise TaxonomyError(f"names customer {data['customer_id']!r}, not {customer_id!r}", file=str(path), field="customer_id")
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise TaxonomyError("must be a list of rules", file=str(path), field="rules")
    return Overrides(customer_id, tuple(_rule(r, i, str(path)) for i, r in enumerate(rules)), str(path))


def _matches(df: pl.DataFrame, rule: OverrideRule) -> pl.Series:
    if rule.pattern is not None:
        texts = df.get_column("text").to_list() if "text" in df.columns else [None] * df.height
        rx = re.compile(rule.pattern)  # Python's re: the syntax CSMs see in the docs, lookarounds allowed
        return pl.Series([bool(t and rx.search(t)) for t in texts], dtype=pl.Boolean)
    if "topic_id" not in df.columns:
        return pl.Series([False] * df.height, dtype=pl.Boolean)
    return df.get_column("topic_id").cast(pl.String).eq(rule.topic_id).fill_null(False)


def apply_overrides(df: pl.DataFrame, overrides: Overrides) -> pl.DataFrame:
    """Pin tiers per the customer's rules (first matching rule wins); other rows are untouched.

    Args:
        df: Rows with ``text``, the tier columns and optionally ``topic_id``.
        overrides: From :func:`load_overrides`.

    Returns:
        ``df`` with ``tier``, ``tier_source``, ``tier_confidence`` and ``p_*`` set on pinned rows.
    """
    if not overrides or df.height == 0:
        return df
    pinned = pl.Series([None] * df.height, dtype=pl.String)
    for rule in overrides.rules:
        hit = _matches(df, rule) & pinned.is_null()
        pinned = pl.select(pl.when(hit).then(pl.lit(rule.tier)).otherwise(pinned)).to_series()
    is_pinned = pinned.is_not_null()
    updates = [
        pl.when(is_pinned).then(pinned).otherwise(pl.col("tier")).alias("tier"),
        pl.when(is_pinned).then(pl.lit("override")).otherwise(pl.col("tier_source")).alias("tier_source"),
        pl.when(is_pinned).then(pl.lit(1.0)).otherwise(pl.col("tier_confidence")).alias("tier_confidence"),
    ]
    for t in TIERS:
        value = (pinned == t).cast(pl.Float64)
        updates.append(pl.when(is_pinned).then(value).otherwise(pl.col(f"p_{t}")).alias(f"p_{t}"))
    return df.with_columns(updates)
