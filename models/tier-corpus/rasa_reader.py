"""Reader of Rasa NLU training data (issue 13) for ``build.py``: the demo assistants' ``nlu.yml``.

Rasa YAML lists examples per intent (``nlu: - intent: X / examples: |`` then ``- text`` lines);
entity annotations (``[text](entity)``, ``[text]{"entity": ...}``) are reduced to their text.
Each example is one row, located by its 1-based line in the file (``line<N>``). Synonyms, lookup
tables and regexes are not examples and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def strip_entities(example: str) -> str:
    """``"pay [Bob](PERSON) $5"`` -> ``"pay Bob $5"``, whitespace collapsed."""
    return " ".join(ENTITY.sub(r"\1", example).split())


def read_rasa_nlu(path: str, data: bytes, spec: dict) -> Iterator[tuple[str, str, str | None, str, str]]:
    """(text, intent, industry, ``line<N>``, group) for every example of a Rasa NLU YAML file.

    Raises:
        SystemExit: when a file has no ``nlu`` list or an intent's examples are not a literal block.
    """
    root = yaml.compose(data.decode("utf-8"))
    items = next((v for k, v in getattr(root, "value", []) if k.value == "nlu"), None)
    if not isinstance(items, yaml.SequenceNode):
        raise SystemExit(f"{path}: no `nlu:` list")
    for item in items.value:
        fields = {k.value: v for k, v in item.value}
        if "intent" not in fields:
            continue
        intent, block = fields["intent"].value, fields.get("examples")
        if not isinstance(block, yaml.ScalarNode) or block.style != "|":
            raise SystemExit(f"{path}: intent {intent}: examples are not a literal block (`examples: |`)")
        for line, example in enumerate(block.value.split("\n"), start=block.start_mark.line + 2):
            if example.startswith("-"):
                yield strip_entities(example[1:]), intent, spec.get("industry"), f"line{line}", f"{intent}-line{line}"
