"""Rebuild the tier corpus (issue 13) from pinned snapshots of public, licensed intent / dialogue sets.

Reads every source listed in ``sources.yaml`` from its git snapshot (``fetch`` puts them under
``/work/.mirror/<owner>+<name>/repo``; override with ``TAXONOMY_MIRROR_DIR``) at the pinned commit,
checks each input file's sha256 against ``pins/``, maps each intent to a tier with the reviewed
``mappings/<source>.yaml`` (``ambiguous`` intents are left out), drops in-source duplicates (and texts
a source labels with two tiers), caps each intent deterministically, and writes
``corpus.parquet`` (text, intent, tier, source, industry, provenance = repo@commit:path#row, group)
plus ``counts.json`` to ``/work/data/tier-corpus/`` (``TAXONOMY_TIER_CORPUS``). Row texts never
enter git; ``models/tier-corpus/counts.json`` (counts only) is the committed copy of the counts.

Usage::

    python models/tier-corpus/build.py            # verify pins, build the corpus
    python models/tier-corpus/build.py --pin      # (re)write pins/ from the snapshots (reviewed in git)
    python models/tier-corpus/build.py --pin nlupp   # (re)write the pins of one source only
    python models/tier-corpus/build.py --with-evaluation-sources   # trial: every source a training source
    python models/tier-corpus/build.py --with-evaluation-sources braun2017   # trial: only these become training sources

A source marked ``train: false`` in ``sources.yaml`` is built (pinned, mapped, counted) but written
to ``evaluation.parquet`` beside ``corpus.parquet``: an evaluation source for every model, trained on
by none until a model version ships that was measured with it (then the flag goes).

A source whose rows carry a *set* of labels (NLU++) is mapped by an ordered rule list over label
sets (``mappings/nlupp.yaml``: the first rule a row's set meets gives its tier; intent
``<domain>/<rule>``) instead of one entry per intent.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # sibling reader modules
from braun_reader import read_braun_sentences
from haptik_reader import read_haptik_queries
from lu_reader import read_lu
from rasa_folder_reader import read_rasa_nlu_by_folder
from rasa_reader import read_rasa_nlu

TIERS = ("informational", "personalized", "action_led")
MANIFEST_ONLY_ABOVE = 1_000  # files; more than this and only a manifest digest is committed
MIN_WORDS = {"multidogo": 3, "star": 5}
EVALUATION_FILE = "evaluation.parquet"  # rows of sources marked `train: false` in sources.yaml


def mirror_dir() -> Path:
    return Path(os.environ.get("TAXONOMY_MIRROR_DIR", "/work/.mirror"))


def corpus_dir() -> Path:
    return Path(os.environ.get("TAXONOMY_TIER_CORPUS", "/work/data/tier-corpus"))


class Snapshot:
    """Read-only access to one repository snapshot at one commit (``git cat-file --batch``)."""

    def __init__(self, repo: str, commit: str) -> None:
        base = mirror_dir() / repo.replace("/", "+") / "repo"
        self.git_dir = base / ".git" if (base / ".git").is_dir() else base
        if not self.git_dir.is_dir():
            raise SystemExit(f"{repo}: no snapshot at {base} (fetch github:{repo} first)")
        self.repo, self.commit = repo, commit
        self._proc = subprocess.Popen(
            ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def files(self, patterns: list[str]) -> list[str]:
        """Paths at the commit matching any pattern whose content is present in the snapshot."""
        out = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "ls-tree", "-r", "-l", self.commit],
            check=True, capture_output=True, text=True,
        ).stdout
        paths = []
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            if meta.split()[3] in {"-", "BAD"}:  # file absent from the snapshot (over the size limit)
                continue
            if any(fnmatch.fnmatchcase(path, p) for p in patterns):
                paths.append(path)
        return sorted(paths)

    def read(self, path: str) -> bytes:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(f"{self.commit}:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) != 3:
            raise SystemExit(f"{self.repo}@{self.commit}:{path}: not readable ({' '.join(header)})")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()


# --- readers: each yields (text, intent, industry | None, location-in-file, group) -------------------

Row = tuple[str, str, "str | None", str, str]


def read_hwu64(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    for i, rec in enumerate(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=";")):
        text = (rec.get("answer_from_user") or "").replace("<", "").replace(">", "").strip()
        yield text, f"{rec['scenario']}_{rec['intent']}", None, f"row{i}", f"hwu-{rec['answerid']}"


def read_sgd(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    for dialogue in json.loads(data):
        for t, turn in enumerate(dialogue["turns"]):
            if turn["speaker"] != "USER":
                continue
            found = {
                (frame["service"], value)
                for frame in turn["frames"]
                for action in frame["actions"]
                if action["act"] == "INFORM_INTENT"
                for value in action["values"]
            }
            if len({intent for _, intent in found}) != 1:  # no intent stated, or two at once
                continue
            service, intent = sorted(found)[0]
            industry = spec["industries"][service.split("_")[0]]
            yield turn["utterance"], intent, industry, f"{dialogue['dialogue_id']}/turn{t}", dialogue["dialogue_id"]


def read_snips(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    content = json.loads(data.decode("utf-8", errors="replace"))
    for intent, examples in content.items():
        for i, ex in enumerate(examples):
            text = "".join(chunk["text"] for chunk in ex["data"]).strip()
            yield text, intent, None, f"{intent}#{i}", f"snips-{path}-{i}"


def read_hint3(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    bot = Path(path).name.split("_")[0]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    for i, rec in enumerate(rows[1:], start=1):
        if len(rec) < 2 or rec[1] == "NO_NODES_DETECTED":
            continue
        yield rec[0].strip(), f"{bot}/{rec[1].strip()}", spec["industries"][bot], f"row{i}", f"hint3-{path}-{i}"


def read_multidogo(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    domain = Path(path).parent.name
    lines = data.decode("utf-8").splitlines()
    for i, line in enumerate(lines[1:], start=1):
        rec = line.split("\t")
        if len(rec) != 6:  # a few rows carry line breaks inside the utterance: not readable as a turn
            continue
        conversation, _, _, utterance, _, labels = rec
        for label in labels.split("<div>"):
            yield utterance.strip(), f"{domain}/{label.strip()}", spec["industries"][domain], f"row{i}", conversation


def read_star(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    dialogue = json.loads(data)
    scenario = dialogue["Scenario"]
    if scenario.get("MultiTask") or len(scenario.get("WizardCapabilities", [])) != 1:
        return
    task = scenario["WizardCapabilities"][0]["Task"]
    for e, event in enumerate(dialogue["Events"]):
        if event.get("Agent") == "User" and event.get("Action") == "utter":
            if len(event["Text"].split()) >= MIN_WORDS["star"]:
                yield event["Text"].strip(), task, None, f"event{e}", f"star-{dialogue['DialogueID']}"
                return


@functools.lru_cache(maxsize=None)  # read by every file of the source: parse the mapping once
def label_set_rules(name: str) -> tuple[list[str], list[dict]]:
    """The domains and ordered rules of a label-set mapping (``mappings/<name>.yaml`` with ``rules``),
    each rule's ``@group`` references expanded to label sets."""
    mapping = yaml.safe_load((HERE / "mappings" / f"{name}.yaml").read_text(encoding="utf-8"))
    groups = mapping.get("groups", {})

    def labels(items: list[str]) -> frozenset[str]:
        return frozenset(x for item in items for x in (groups[item[1:]] if item.startswith("@") else [item]))

    rules = []
    for rule in mapping["rules"]:
        unknown = set(rule) - {"name", "domain", "any", "and_any", "all", "none", "empty", "text_none", "tier", "reason"}
        if unknown or rule["tier"] not in (*TIERS, "ambiguous") or not rule.get("reason"):
            raise SystemExit(f"mappings/{name}.yaml: rule {rule.get('name')}: unknown keys {sorted(unknown)}, or no tier/reason")
        rules.append({**rule, **{k: labels(rule[k]) for k in ("any", "and_any", "all", "none") if k in rule}})
        if "text_none" in rule:
            rules[-1]["text_none"] = re.compile(rule["text_none"], re.IGNORECASE)
    if any(k in rules[-1] for k in ("domain", "any", "and_any", "all", "none", "empty", "text_none")):
        raise SystemExit(f"mappings/{name}.yaml: the last rule must have no condition (every label set meets one rule)")
    return mapping["domains"], rules


def first_rule(rules: list[dict], domain: str, labels: set[str], text: str) -> dict:
    """The first rule whose conditions a row of ``domain`` (its label set and text) meets."""
    for rule in rules:
        if (rule.get("domain", domain) == domain and rule.get("empty", not labels) == (not labels)
                and all(not rule.get(k) or rule[k] & labels for k in ("any", "and_any"))
                and rule.get("all", frozenset()) <= labels and not rule.get("none", frozenset()) & labels
                and not ("text_none" in rule and rule["text_none"].search(text))):
            return rule
    raise AssertionError("the last rule has no condition")


def read_nlupp(path: str, data: bytes, spec: dict) -> Iterator[Row]:
    """NLU++ folds: one row per annotated turn, intent ``<domain>/<first matching rule>``; the
    ontology file checks that every label the mapping names exists."""
    domains, rules = label_set_rules("nlupp")
    if Path(path).name == "ontology.json":
        known = set(json.loads(data)["intents"])
        named = {x for r in rules for k in ("any", "and_any", "all", "none") for x in r.get(k, ())}
        if named - known:
            raise SystemExit(f"mappings/nlupp.yaml names labels not in {path}: {sorted(named - known)}")
        return
    domain, fold = Path(path).parent.name, Path(path).stem
    if domain not in domains:
        raise SystemExit(f"{path}: domain {domain} is not in mappings/nlupp.yaml")
    for i, example in enumerate(json.loads(data)):
        text = example["text"].strip()
        rule = first_rule(rules, domain, set(example.get("intents", [])), text)
        yield text, f"{domain}/{rule['name']}", spec["industries"][domain], f"row{i}", f"{domain}-{fold}-{i}"


READERS: dict[str, Callable[[str, bytes, dict], Iterator[Row]]] = {
    "hwu64": read_hwu64, "sgd": read_sgd, "snips": read_snips, "hint3": read_hint3, "multidogo": read_multidogo, "star": read_star,
    "nlupp": read_nlupp, "rasa_nlu": read_rasa_nlu, "rasa_nlu_by_folder": read_rasa_nlu_by_folder, "braun_sentences": read_braun_sentences,
    "haptik_queries": read_haptik_queries, "lu": read_lu,
}  # the last five readers: rasa_reader.py, rasa_folder_reader.py, braun_reader.py, haptik_reader.py, lu_reader.py


# --- pins -----------------------------------------------------------------------------------------

def _manifest(digests: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{p}\t{d}\n" for p, d in sorted(digests.items())).encode()).hexdigest()


def write_pins(name: str, digests: dict[str, str]) -> None:
    pins = HERE / "pins"
    pins.mkdir(exist_ok=True)
    manifest = {"files": len(digests), "manifest_sha256": _manifest(digests)}
    (pins / f"{name}.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if len(digests) <= MANIFEST_ONLY_ABOVE:
        (pins / f"{name}.tsv").write_text("".join(f"{p}\t{d}\n" for p, d in sorted(digests.items())), encoding="utf-8")


def check_pins(name: str, digests: dict[str, str]) -> None:
    pins = HERE / "pins"
    manifest = json.loads((pins / f"{name}.manifest.json").read_text(encoding="utf-8"))
    tsv = pins / f"{name}.tsv"
    if tsv.exists():
        expected = dict(line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines())
        bad = sorted(p for p in expected.keys() | digests.keys() if expected.get(p) != digests.get(p))
        if bad:
            raise SystemExit(f"{name}: {len(bad)} input files differ from pins/{name}.tsv, e.g. {bad[0]}")
    if (len(digests), _manifest(digests)) != (manifest["files"], manifest["manifest_sha256"]):
        raise SystemExit(f"{name}: input files differ from pins/{name}.manifest.json")


# --- build ----------------------------------------------------------------------------------------

def load_mapping(name: str) -> dict[str, dict]:
    """Intent -> {tier, reason}; a label-set mapping (``rules``) gives one intent per domain and rule."""
    mapping = yaml.safe_load((HERE / "mappings" / f"{name}.yaml").read_text(encoding="utf-8"))
    if "rules" in mapping:
        domains, rules = label_set_rules(name)
        mapping["intents"] = {
            f"{d}/{r['name']}": {"tier": r["tier"], "reason": r["reason"]} for r in rules for d in domains if r.get("domain", d) == d
        }
    for intent, entry in mapping["intents"].items():
        if entry["tier"] not in (*TIERS, "ambiguous") or not entry.get("reason"):
            raise SystemExit(f"mappings/{name}.yaml: {intent}: tier must be one of the tiers or ambiguous, with a reason")
    return mapping["intents"]


def _cap(rows: list[dict], per_intent: int) -> list[dict]:
    by_intent: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row)
    kept = []
    for intent in sorted(by_intent):  # deterministic: the rows whose provenance hashes lowest
        kept += sorted(by_intent[intent], key=lambda r: hashlib.sha256(r["provenance"].encode()).hexdigest())[:per_intent]
    return sorted(kept, key=lambda r: r["provenance"])


def build_source(name: str, spec: dict, pin: bool) -> tuple[list[dict], dict]:
    """Rows of one source (after mapping, dedup and cap) and its counts of what was left out."""
    mapping = load_mapping(name)
    snap = Snapshot(spec["repo"], spec["commit"])
    try:
        paths = snap.files(spec["include"])
        blobs = {p: snap.read(p) for p in paths}
    finally:
        snap.close()
    digests = {p: hashlib.sha256(b).hexdigest() for p, b in blobs.items()}
    write_pins(name, digests) if pin else check_pins(name, digests)
    rows, skipped, labels = [], Counter(), defaultdict(set)
    for path in paths:
        for text, intent, industry, where, group in READERS[spec["reader"]](path, blobs[path], spec):
            entry = mapping.get(intent)
            if entry is None:
                skipped["unmapped:" + intent] += 1
                continue
            if entry["tier"] == "ambiguous":
                skipped["ambiguous"] += 1
                continue
            if len(text.split()) < MIN_WORDS.get(name, 1):
                skipped["too_short"] += 1
                continue
            key = " ".join(text.lower().split())
            labels[key].add(entry["tier"])
            rows.append({
                "text": text, "intent": intent, "tier": entry["tier"], "source": name,
                "industry": entry.get("industry") or industry or name,
                "provenance": f"{spec['repo']}@{spec['commit']}:{path}#{where}", "group": f"{name}:{group}", "_key": key,
            })
    unique, seen = [], set()
    for row in rows:  # a text twice in one source counts once; a text given two tiers by its source is dropped
        if len(labels[row["_key"]]) > 1:
            skipped["conflicting_tiers"] += 1
        elif row["_key"] in seen:
            skipped["duplicate"] += 1
        else:
            seen.add(row["_key"])
            unique.append({k: v for k, v in row.items() if k != "_key"})
    capped = _cap(unique, spec["cap_per_intent"])
    skipped["over_cap"] = len(unique) - len(capped)
    return capped, {"files": len(paths), "left_out": dict(sorted(skipped.items()))}


def counts(frame: pl.DataFrame, notes: dict) -> dict:
    """Rows per source x tier, industry x tier, and per source the intents mapped / left out."""
    def table(by: str) -> dict:
        pivot = frame.group_by(by, "tier").len()
        out: dict = {}
        for rec in pivot.sort(by, "tier").iter_rows(named=True):
            out.setdefault(rec[by], {t: 0 for t in TIERS})[rec["tier"]] = rec["len"]
        return out

    mappings = {}
    for name in notes:
        tiers = Counter(e["tier"] for e in load_mapping(name).values())
        mappings[name] = {t: tiers.get(t, 0) for t in (*TIERS, "ambiguous")}
    return {"rows": frame.height, "per_source": table("source"), "per_industry": table("industry"),
            "intents_mapped": mappings, "build": notes}


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    spec = yaml.safe_load((HERE / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    named = [a for a in argv if not a.startswith("-")]
    flags = {a for a in argv if a.startswith("-")}
    if set(named) - set(spec) or (named and len(flags) != 1) or flags - {"--pin", "--with-evaluation-sources"}:
        raise SystemExit(f"usage: build.py [--pin [SOURCE ...]] | [--with-evaluation-sources [SOURCE ...]]; sources: {', '.join(sorted(spec))}")
    pinned = set(named or spec) if "--pin" in flags else set()
    everything = "--with-evaluation-sources" in flags  # a trial corpus: (the named) evaluation-only sources become training rows
    rows, notes = [], {}
    for name in sorted(spec):
        source_rows, notes[name] = build_source(name, spec[name], name in pinned)
        rows += source_rows
        print(f"{name}: {len(source_rows)} rows, {notes[name]}", file=sys.stderr)
    frame = pl.DataFrame(rows, schema={c: pl.String for c in ("text", "intent", "tier", "source", "industry", "provenance", "group")})
    held = sorted(n for n in spec if spec[n].get("train", True) is False and not (everything and n in (named or spec)))
    out = corpus_dir()
    out.mkdir(parents=True, exist_ok=True)
    _write_parquet(frame.filter(~pl.col("source").is_in(held)), out / "corpus.parquet")
    if held:
        _write_parquet(frame.filter(pl.col("source").is_in(held)), out / EVALUATION_FILE)
    elif (out / EVALUATION_FILE).exists():
        (out / EVALUATION_FILE).unlink()
    summary = {**counts(frame, notes), "evaluation_only": held}
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    (out / "counts.json").write_text(text, encoding="utf-8")
    if not everything:  # the committed counts describe the canonical build only
        (HERE / "counts.json").write_text(text, encoding="utf-8")
    print(f"{frame.height} rows -> {out / 'corpus.parquet'}" + (f" and {out / EVALUATION_FILE} ({', '.join(held)})" if held else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
