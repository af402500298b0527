"""Reader of a Rasa NLU collection with one folder per industry (issue 13), for ``build.py``.

RasaHQ/NLU-training-data keeps one ``<folder>/nlu.yml`` per domain (``banking/``, ``car-purchase/``,
``fixing-internet/``, ...), each a Rasa NLU file read like the demo assistants' (``rasa_reader``).
Intent names repeat across folders, so each row's intent is ``<folder>/<intent>`` (what
``mappings/<source>.yaml`` maps) and its industry is ``spec["industries"][<folder>]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from rasa_reader import read_rasa_nlu


def read_rasa_nlu_by_folder(path: str, data: bytes, spec: dict) -> Iterator[tuple[str, str, str | None, str, str]]:
    """(text, ``<folder>/<intent>``, industry, ``line<N>``, group) for every example of ``<folder>/nlu.yml``.

    Raises:
        SystemExit: when the file's folder has no industry in ``spec["industries"]``, or the file is
            not Rasa NLU YAML (see :func:`rasa_reader.read_rasa_nlu`).
    """
    folder = PurePosixPath(path).parent.name
    industry = spec.get("industries", {}).get(folder)
    if not folder or industry is None:
        raise SystemExit(f"{path}: folder {folder!r} has no industry in sources.yaml")
    for text, intent, _, where, group in read_rasa_nlu(path, data, {}):
        yield text, f"{folder}/{intent}", industry, where, f"{folder}-{group}"
