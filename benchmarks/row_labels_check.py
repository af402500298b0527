"""A person's check of the message labels where they part from the intent labels.

``models/tier-labels/row_labels.csv`` is one language model's reading of TIERS.md, message by message
(``benchmarks/row_labels.py``). Before a model is fitted on it, a person should see where it parts
from the reviewed mappings, and who is right. Run from the repository root (the tier corpus must be
built: the texts come from it and from the Banking77 training split, never from the repository)::

    .venv/bin/python -m benchmarks.row_labels_check --sheet check.csv [--per-source 25]

writes a seeded sample of the messages whose annotated tier (I, P or A) differs from their intent
label (the mappings with the form rules applied), ``--per-source`` of each source, with an empty
``person`` column. Fill ``person`` with I, P, A or N (the message states no request) from TIERS.md
alone, without looking at the other two columns if you can, then::

    .venv/bin/python -m benchmarks.row_labels_check --checked check.csv

prints, per source, how often the person sided with the annotators, with the intent label, or with
neither. The filled sheet holds public messages: keep it out of the repository.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from benchmarks._common import markdown_table
from benchmarks.blind_reader import LETTERS
from taxonomy.tiers.corpus import text_key
from benchmarks.row_labels import load_row_labels

COLUMNS = ["source", "intent", "text_sha256", "label", "annotators", "text", "person"]
SHORT = {tier: letter for letter, tier in LETTERS.items() if tier}


def disagreements(sources: list[str], intents: list[str], texts: list[str], tiers: list[str],
                  labels: dict[tuple[str, str, str], str], per_source: int, seed: int = 0) -> list[dict]:
    """A seeded sample of ``per_source`` messages per source whose annotated tier differs from ``tiers``."""
    found: dict[str, list[dict]] = {}
    seen = set()
    for s, i, t, tier in zip(sources, intents, texts, tiers):
        key = (s, i, text_key(t))
        own = labels.get(key)
        if own in SHORT and own != tier and key not in seen:
            seen.add(key)
            found.setdefault(s, []).append({"source": s, "intent": i, "text_sha256": key[2], "label": SHORT[tier],
                                            "annotators": SHORT[own], "text": t, "person": ""})
    rng = random.Random(seed)
    return [r for s in sorted(found) for r in rng.sample(found[s], min(per_source, len(found[s])))]


def tally(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Per source (and ``all``): how many filled rows side with the annotators, the label or neither."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        person = (r.get("person") or "").strip().upper()
        if not person:
            continue
        if person not in LETTERS:
            raise ValueError(f"{r['source']} {r['text_sha256']}: person must be I, P, A or N, not {person!r}")
        side = "annotators" if person == r["annotators"] else "label" if person == r["label"] else "neither"
        for key in (r["source"], "all"):
            out.setdefault(key, {"annotators": 0, "label": 0, "neither": 0})[side] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--sheet", type=Path, help="write a sheet of disagreements to fill")
    mode.add_argument("--checked", type=Path, help="read a filled sheet and print who the person sided with")
    parser.add_argument("--per-source", type=int, default=25, help="messages per source on the sheet (default 25)")
    args = parser.parse_args(argv)
    if args.checked:
        try:
            with args.checked.open(encoding="utf-8", newline="") as f:
                counts = tally(list(csv.DictReader(f)))
        except (OSError, KeyError, ValueError) as e:
            print(f"{args.checked}: {e}", file=sys.stderr)
            return 2
        rows = [[s, sum(c.values()), *(f"{c[k]} ({100 * c[k] / max(sum(c.values()), 1):.0f}%)" for k in ("annotators", "label", "neither"))]
                for s, c in sorted(counts.items(), key=lambda kv: (kv[0] == "all", kv[0]))]
        print(markdown_table(["source", "checked", "person = annotators", "person = label", "neither"], rows))
        return 0
    from taxonomy.tiers.train import load_training_data

    data = load_training_data()
    rows = disagreements(data.sources.tolist(), data.intents.tolist(), data.texts, data.tiers.tolist(), load_row_labels(),
                         args.per_source)
    with args.sheet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.sheet}: {len(rows)} messages whose annotated tier differs from their intent label; fill 'person'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
