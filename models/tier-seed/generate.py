"""Build the multi-industry tier seed set ``seed-v2.csv`` (or ``seed-v1.csv``) from our hand-written sources.

Inputs (all written by the team, see PROVENANCE.md):
- ``handwritten-v1.txt``: whole messages, one per line, labelled by hand;
- ``handwritten-v2.txt``: messages added for v2 (appended after v1's rows, so v2 = v1 + new rows).
- ``fragments-v1.yaml``: per-industry slot values combined with the form templates below.

Every row keeps ``group``: the hand-written sentence or template-fragment it came from, so
evaluation can split by group and never test on a re-styled copy of a training sentence.
Deterministic: ``python models/tier-seed/generate.py [v1|v2]`` rewrites the same file byte for byte.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SEED = 20261125
VERSION = "v2"
TIER_CODES = {"I": "informational", "P": "personalized", "A": "action_led"}

# Form templates: the form decides the tier, the slot carries the industry's topic.
TEMPLATES: dict[str, list[str]] = {
    "informational": [
        "how do i {howto}", "how can I {howto}?", "is it possible to {howto}?", "what are the steps to {howto}",
        "can you explain how to {howto}", "whats the best way to {howto}", "where do i go to {howto}",
        "what is your policy on {policy}?", "do you have a policy for {policy}", "how does {policy} work with you",
        "Is there a fee when it comes to {policy}?", "I'm thinking of joining. what's the deal with {policy}",
        "before I sign up, how do you handle {policy}?", "is there a help article about {policy}",
        "what are the rules around {policy}", "general question, how do i {howto}",
    ],
    "personalized": [
        "where is my {thing}?", "whats the status of my {thing}", "can you check on my {thing}",
        "{status}, why?", "{status}. can you tell me what is going on", "{status}, what happened?",
        "why {status_q}?", "could you look into why {status_q}", "{status} and i dont understand why",
        "I just want to know why {status_q}", "can you explain this: {status}", "{status}. is that normal?",
        "hi, {status}. is something wrong on your end", "any update on my {thing}?",
    ],
    "action_led": [
        "please {action}", "{action} please", "i need you to {action}", "can you {action} for me?",
        "{action} now", "I want you to {action}", "could you please {action}, thanks",
        "{problem}. {fix}", "{problem}, {fix} asap", "{problem} and I want it sorted, {fix}",
        "{problem}!! {fix}", "I'd like you to {action} today", "{problem}. please {action}",
        "hello, {action} as soon as possible",
    ],
}
FIXES = [
    "i want a refund", "fix it", "sort it out", "refund me", "send a replacement", "i want compensation",
    "please correct it", "cancel it and give me my money back", "make it right", "undo it",
]
OPENERS = ["", "", "", "hi ", "Hello, ", "hey ", "Good morning. ", "hi there, ", "Sorry to bother you but ",
           "quick question, ", "Hello team, ", "ok so ", "URGENT: "]
CLOSERS = ["", "", "", " thanks", " thank you!", " thx", ". cheers", " asap", ". this is ridiculous",
           ". Kind regards", " ??", ". I've been waiting for ages", ". I'm really not happy", " pls"]
CONTEXT = ["", "", "", "", "I've been a customer for years. ", "I tried the app already. ",
           "Your chatbot was useless. ", "I'm writing from my phone sorry. ", "This is my second message about this. "]


def _status_question(status: str) -> str:
    """Turn 'my X did Y' into 'my X did Y' with a leading subject kept (used after 'why')."""
    return status[0].lower() + status[1:]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 8:
        return text
    i = rng.randrange(1, len(text) - 2)
    kind = rng.random()
    if kind < 0.4:  # swap two neighbours
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind < 0.7:  # drop a character
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]  # double a character


def restyle(text: str, rng: random.Random) -> str:
    """Dress a message the way end-users write: greetings, context, sign-offs, case, typos."""
    out = rng.choice(CONTEXT) + rng.choice(OPENERS) + text + rng.choice(CLOSERS)
    roll = rng.random()
    if roll < 0.35:
        out = out.lower()
    elif roll < 0.45:
        out = out.replace(",", "").replace(".", "").replace("?", "").replace("'", "")
    if rng.random() < 0.3:
        out = _typo(out, rng)
    return out.strip()


def handwritten(name: str = "handwritten-v1.txt", group_prefix: str = "hw") -> list[dict[str, str]]:
    """Rows of one hand-written file; ``group`` is ``<group_prefix>-<line number>``."""
    rows, industry = [], None
    for n, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("## "):
            industry = line[3:].strip()
        elif line[:2] in {"I ", "P ", "A "}:
            rows.append({"text": line[2:].strip(), "tier": TIER_CODES[line[0]], "industry": industry,
                         "kind": "handwritten", "group": f"{group_prefix}-{n}"})
    return rows


def templated(rng: random.Random, per_industry_tier: int = 45) -> list[dict[str, str]]:
    frags = yaml.safe_load((HERE / "fragments-v1.yaml").read_text(encoding="utf-8"))
    rows = []
    for industry, f in frags.items():
        for tier, templates in TEMPLATES.items():
            seen: set[str] = set()
            for _ in range(per_industry_tier * 4):
                if len(seen) >= per_industry_tier:
                    break
                tpl = rng.choice(templates)
                status = rng.choice(f["status"])
                slots = {"thing": rng.choice(f["thing"]), "howto": rng.choice(f["howto"]),
                         "policy": rng.choice(f["policy"]), "status": status[0].upper() + status[1:],
                         "status_q": _status_question(status), "action": rng.choice(f["action"]),
                         "problem": rng.choice(f["problem"]), "fix": rng.choice(FIXES)}
                text = tpl.format(**slots)
                if text in seen:
                    continue
                seen.add(text)
                used = next(v for k, v in slots.items() if "{" + k + "}" in tpl and k not in {"fix"})
                rows.append({"text": text, "tier": tier, "industry": industry, "kind": "templated",
                             "group": f"tpl-{industry}-{used}"})
    return rows


def build(version: str = VERSION) -> list[dict[str, str]]:
    """All seed rows of ``version`` ("v1" or "v2"); v2's rows are v1's followed by the v2 additions."""
    rng = random.Random(SEED)
    base = handwritten() + templated(rng)
    if version == "v2":  # appended last, so every v1 row (and its random re-styling) is unchanged
        base += handwritten("handwritten-v2.txt", "hw2")
    rows = []
    for row in base:
        rows.append(row)
        if row["kind"] == "handwritten":  # one re-styled copy of each hand-written message
            rows.append({**row, "text": restyle(row["text"], rng), "kind": "handwritten-restyled"})
        else:
            row["text"] = restyle(row["text"], rng)
    return rows


def main(version: str = VERSION) -> None:
    rows = build(version)
    with open(HERE / f"seed-{version}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "tier", "industry", "kind", "group"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {HERE / f'seed-{version}.csv'}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else VERSION)
