"""What a labelled run changed, per customer, against production or another label (``taxonomy compare``).

For one as-of date, each customer published in either namespace is compared on its headline
``automation_potential`` (share of agent hours), its handle-time share per tier, and its topics.
Topics are paired by their centroids in ``topic_state/`` (each namespace issues its own ids, so
ids alone would not say which topics are the same), falling back to equal ids where a namespace
has no centroids; a pair whose label differs is ``renamed``, whose tier differs ``retiered``;
unpaired topics are ``added`` (label only) or ``removed`` (baseline only).

Only customers with a change are reported, biggest potential movers first; their rows are written to
``label=<name>/compare/as_of=<date>/against=<baseline>/customer_id=<id>/`` (``COMPARE_OUT``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.schema import COMPARE_OUT, SCORES_OUT, TIERS, TOPICS_OUT, conform
from taxonomy.storage import Store, validate_customer_id, validate_label

__all__ = ["EPSILON", "compare_runs", "format_comparison"]

EPSILON = 1e-9  # smaller differences are float noise, not a change
MATCH_COSINE = 0.85  # as taxonomy.config.TopicsConfig.match_threshold: the same topic


def _namespaces(root: str, label: str, against: str) -> tuple[Store, Store, str]:
    validate_label(label)
    if against == "production":
        return Store(root, label=label), Store(root), against
    validate_label(against)
    if against == label:
        raise TaxonomyError("--against names the label itself: nothing to compare", field="against")
    return Store(root, label=label), Store(root, label=against), f"label={against}"


def _customers(store: Store, day: date) -> list[str]:
    return store.list_partitions("scores", "customer_id", within=f"{store.dataset('scores')}/as_of={day.isoformat()}")


def _read(store: Store, name: str, day: date, cid: str, schema: dict) -> pl.DataFrame | None:
    frame = store.read_partition(store.partition(name, as_of=day, customer_id=cid))
    return None if frame is None else conform(frame, schema).filter(pl.col("customer_id") == cid)


def _centroids(store: Store, day: date, cid: str, ids: list[str]) -> dict[str, np.ndarray]:
    frame = store.read_partition(store.partition("topic_state", as_of=day, customer_id=cid))
    if frame is None:
        return {}
    out = {}
    for tid, vec in zip(frame.get_column("topic_id").to_list(), frame.get_column("centroid").to_list()):
        v = np.asarray(vec, dtype=np.float64)
        if tid in ids and np.linalg.norm(v) > 0:
            out[tid] = v / np.linalg.norm(v)
    return out


def _pairs(before: pl.DataFrame, after: pl.DataFrame, cb: dict, ca: dict) -> list[tuple[str | None, str | None]]:
    """(baseline id, label id) pairs: paired topics, then removed (label None) and added (baseline None)."""
    from taxonomy.topics.discover import pairs_above

    ids_b, ids_a = before.get_column("topic_id").to_list(), after.get_column("topic_id").to_list()
    pairs = [(t, t) for t in ids_b if t in ids_a and (t not in cb or t not in ca)]
    left_b = [t for t in ids_b if t in cb and t not in {p for p, _ in pairs}]
    left_a = [t for t in ids_a if t in ca and t not in {q for _, q in pairs}]
    if left_b and left_a:
        sims = np.array([[cb[b] @ ca[a] if cb[b].shape == ca[a].shape else -1.0 for a in left_a] for b in left_b])
        pairs.extend((left_b[r], left_a[c]) for r, c in pairs_above(sims, MATCH_COSINE))
    paired_b, paired_a = {p for p, _ in pairs}, {q for _, q in pairs}
    return (pairs + [(t, None) for t in ids_b if t not in paired_b] + [(None, t) for t in ids_a if t not in paired_a])


def _topic_changes(base: dict, before: pl.DataFrame, after: pl.DataFrame, cb: dict, ca: dict) -> list[dict]:
    meta_b = {r["topic_id"]: r for r in before.iter_rows(named=True)}
    meta_a = {r["topic_id"]: r for r in after.iter_rows(named=True)}
    rows = []
    for tb, ta in _pairs(before, after, cb, ca):
        b, a = meta_b.get(tb) or {}, meta_a.get(ta) or {}
        hours_b = None if b.get("handle_time_seconds") is None else b["handle_time_seconds"] / 3600.0
        hours_a = None if a.get("handle_time_seconds") is None else a["handle_time_seconds"] / 3600.0
        kinds = ["removed"] if ta is None else ["added"] if tb is None else []
        if tb is not None and ta is not None:
            kinds += ["renamed"] if b.get("label") != a.get("label") else []
            kinds += ["retiered"] if b.get("tier") != a.get("tier") else []
        for kind in kinds:
            rows.append({**base, "change": kind, "topic_id": ta or tb, "label_before": b.get("label"),
                         "label_after": a.get("label"), "tier_before": b.get("tier"), "tier_after": a.get("tier"),
                         "value_before": hours_b, "value_after": hours_a,
                         "delta": None if hours_a is None and hours_b is None else (hours_a or 0.0) - (hours_b or 0.0)})
    rows.sort(key=lambda r: (-abs(r["delta"] or 0.0), r["change"], r["topic_id"]))
    return rows


def _customer_rows(cid: str, day: date, label: str, against: str, stores: tuple[Store, Store]) -> list[dict]:
    """This customer's change rows (empty when nothing changed)."""
    new_store, old_store = stores
    scores = [_read(s, "scores", day, cid, SCORES_OUT) for s in (old_store, new_store)]
    rows_s = [f.row(0, named=True) if f is not None and f.height else {} for f in scores]
    topics = [_read(s, "topics", day, cid, TOPICS_OUT) for s in (old_store, new_store)]
    topics = [t if t is not None else conform(pl.DataFrame(), TOPICS_OUT) for t in topics]
    base = {"customer_id": cid, "as_of": day, "label": label, "against": against}
    cents = [_centroids(s, day, cid, t.get_column("topic_id").to_list()) for s, t in zip((old_store, new_store), topics)]
    topic_rows = _topic_changes(base, topics[0], topics[1], cents[0], cents[1])
    pb, pa = rows_s[0].get("automation_potential"), rows_s[1].get("automation_potential")
    shares = {f"delta_share_{t}": (rows_s[1].get(f"handle_time_share_{t}") or 0.0)
              - (rows_s[0].get(f"handle_time_share_{t}") or 0.0) for t in TIERS}
    delta = None if pa is None and pb is None else (pa or 0.0) - (pb or 0.0)
    changed = (bool(topic_rows) or (pa is None) != (pb is None) or abs(delta or 0.0) > EPSILON
               or any(abs(v) > EPSILON for v in shares.values()))
    if not changed:
        return []
    return [{**base, "change": "customer", "value_before": pb, "value_after": pa, "delta": delta, **shares}, *topic_rows]


def compare_runs(
    output_uri: str, label: str, *, against: str = "production", as_of: date | None = None, write: bool = True
) -> tuple[date, list[pl.DataFrame], int]:
    """Compare a label's published outputs with production's (or another label's) for one as-of date.

    Args:
        output_uri: The output root.
        label: The labelled run under review.
        against: ``production`` or another label.
        as_of: The date (default: the label's latest published).
        write: Also write each changed customer's rows under the label's ``compare/``.

    Returns:
        (as_of, one frame per changed customer, biggest potential change first, customers compared).
    """
    new_store, old_store, against_name = _namespaces(output_uri, label, against)
    days = sorted(new_store.list_partitions("scores", "as_of"))
    if as_of is None:
        if not days:
            raise TaxonomyError(f"label {label!r} has no published scores", file=new_store.uri(new_store.dataset("scores")))
        as_of = date.fromisoformat(days[-1])
    customers = sorted(set(_customers(new_store, as_of)) | set(_customers(old_store, as_of)))
    if not customers:
        raise TaxonomyError(f"nothing published as of {as_of} in either namespace", field="as_of")
    frames = []
    for cid in customers:
        rows = _customer_rows(validate_customer_id(cid), as_of, label, against_name, (new_store, old_store))
        if rows:
            frames.append(conform(pl.DataFrame(rows, infer_schema_length=None), COMPARE_OUT))
    frames.sort(key=lambda f: (-abs(f.get_column("delta")[0] or 0.0), f.get_column("customer_id")[0]))
    if write:
        from taxonomy.validate import require_valid

        for frame in frames:
            folder = new_store.partition("compare", as_of=as_of, against=against,
                                         customer_id=frame.get_column("customer_id")[0])
            require_valid(frame, "compare", file=new_store.uri(folder))
            new_store.write_partition(frame, folder)
    return as_of, frames, len(customers)


def _pts(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:+.1f} pts"


def format_comparison(label: str, against: str, as_of: date, frames: list[pl.DataFrame], compared: int) -> str:
    """The reviewer's text: one block per changed customer, biggest potential movers first."""
    lines = [f"label={label} against {against}, as of {as_of}: {len(frames)} of {compared} customers changed"]
    for frame in frames:
        c = frame.row(0, named=True)
        pb, pa = c["value_before"], c["value_after"]
        pots = " -> ".join("n/a" if v is None else f"{100 * v:.1f}%" for v in (pb, pa))
        lines.append(f"  {c['customer_id']}: potential {pots} ({_pts(c['delta'])})  tier shares of hours: "
                     + ", ".join(f"{t} {_pts(c[f'delta_share_{t}'])}" for t in TIERS))
        for t in frame.slice(1).iter_rows(named=True):
            what = {"added": f"added \"{t['label_after']}\" ({t['tier_after']})",
                    "removed": f"removed \"{t['label_before']}\" ({t['tier_before']})",
                    "renamed": f"renamed \"{t['label_before']}\" -> \"{t['label_after']}\"",
                    "retiered": f"re-tiered \"{t['label_after']}\" {t['tier_before']} -> {t['tier_after']}"}[t["change"]]
            hours = "" if t["delta"] is None else f"  ({t['delta']:+.1f} h)"
            lines.append(f"    {t['topic_id']:<7} {what}{hours}")
    return "\n".join(lines)
