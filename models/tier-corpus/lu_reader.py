"""Reader of LUIS ``.lu`` files (issue 13) for ``build.py``: the Bot Framework Virtual Assistant's skills.

A ``.lu`` file lists intents as Markdown headings (``## CreateCalendarEntry``; ``# Name`` in some
files) each followed by its example utterances, one per ``- `` line, entities marked inline as
``{Entity=value}``. One example is one row: entities reduced to their text, the intent
``<skill>/<intent>`` (skill = the file name less ``.lu``, lower case: ``calendar/FindCalendarEntry``),
located by its 1-based line (``line<N>``). Pattern lines (templates, not utterances: ``- ^...^``,
or with an entity slot ``{Entity}``, alternatives ``(a|b)`` or an optional part ``[...]``) and lines
outside an intent are not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

_HEADING_RE = re.compile(r"^#{1,2}\s+(\S.*?)\s*$")
_ENTITY_RE = re.compile(r"\{[^{}=]+=([^{}]*)\}")
_PATTERN_RE = re.compile(r"[{}\[\]^]|\([^()]*\|[^()]*\)")  # what is left of a template once entities are reduced


def read_lu(path: str, data: bytes, spec: dict) -> Iterator[tuple[str, str, str | None, str, str]]:
    """(text, ``<skill>/<intent>``, industry, ``line<N>``, group) for every example of one ``.lu`` file."""
    skill = PurePosixPath(path).stem.lower()
    intent = None
    for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        heading = _HEADING_RE.match(line)
        if heading and not line.startswith("> "):
            intent = heading.group(1)
            continue
        if intent is None or not line.startswith("- "):
            continue
        text = " ".join(_ENTITY_RE.sub(r"\1", line[2:]).split())
        if text and not _PATTERN_RE.search(text):
            yield text, f"{skill}/{intent}", spec.get("industry"), f"line{n}", f"lu-{skill}-{n}"
