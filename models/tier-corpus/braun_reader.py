"""Reader of the NLU Evaluation Corpora (issue 13) for ``build.py``: Braun et al. (2017), SIGdial.

Each corpus is one JSON file (``AskUbuntuCorpus.json``, ``WebApplicationsCorpus.json``,
``ChatbotCorpus.json``) holding ``{"sentences": [{"text", "intent", ...}, ...]}``. One sentence is
one row; its intent is ``<corpus>/<intent>`` (corpus = the file name less ``Corpus.json``, lower
case: ``askubuntu/Make Update``), its industry the spec's ``industries[<corpus>]``, located by its
0-based index (``sentence<N>``). Only ``text`` and ``intent`` are read: the StackExchange
``author`` / ``url`` / ``answer`` fields and the entity annotations are not kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import PurePosixPath


def corpus_of(path: str) -> str:
    """``"AskUbuntuCorpus.json"`` -> ``"askubuntu"``.

    Raises:
        SystemExit: when the file name does not end in ``Corpus.json``.
    """
    name = PurePosixPath(path).name
    if not name.endswith("Corpus.json") or name == "Corpus.json":
        raise SystemExit(f"{path}: not an NLU Evaluation Corpora file (<Name>Corpus.json)")
    return name[: -len("Corpus.json")].lower()


def read_braun_sentences(path: str, data: bytes, spec: dict) -> Iterator[tuple[str, str, str | None, str, str]]:
    """(text, ``<corpus>/<intent>``, industry, ``sentence<N>``, group) for every sentence of one corpus file.

    Raises:
        SystemExit: when the file has no ``sentences`` list, a sentence lacks text or intent, or the
            corpus has no industry in ``spec["industries"]``.
    """
    corpus = corpus_of(path)
    industry = spec.get("industries", {}).get(corpus)
    if industry is None:
        raise SystemExit(f"{path}: corpus {corpus!r} has no industry in sources.yaml")
    content = json.loads(data.decode("utf-8"))
    sentences = content.get("sentences") if isinstance(content, dict) else None
    if not isinstance(sentences, list):
        raise SystemExit(f"{path}: no `sentences` list")
    for i, sentence in enumerate(sentences):
        text, intent = sentence.get("text"), sentence.get("intent")
        if not isinstance(text, str) or not isinstance(intent, str) or not text.strip() or not intent.strip():
            raise SystemExit(f"{path}: sentence {i}: no text or no intent")
        yield " ".join(text.split()), f"{corpus}/{intent.strip()}", industry, f"sentence{i}", f"{corpus}-{i}"
