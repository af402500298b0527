"""The tier corpus: public, licensed intent / dialogue sets mapped to tiers (issue 13).

Built outside every repository by ``models/tier-corpus/build.py`` from pinned snapshots (see
``models/tier-corpus/SOURCES.md``): ``<TAXONOMY_TIER_CORPUS or <repo>/../data/tier-corpus>/corpus.parquet``
with columns ``text, intent, tier, source, industry, provenance, group``, and, beside it,
``evaluation.parquet`` (same columns): the rows of sources marked ``train: false`` in
``models/tier-corpus/sources.yaml`` (today Rasa's helpdesk-assistant and financial-demo), which every model is scored on and none trained on
(:func:`load_evaluation_corpus`). Row texts never enter git; a machine without the corpus (a CI runner) can still load and run the shipped model, and the
tests that need the corpus skip with :data:`MISSING_REASON`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import polars as pl

from taxonomy.schema import TIERS

REPO = Path(__file__).resolve().parents[2]
CORPUS_FILE = "corpus.parquet"
EVALUATION_FILE = "evaluation.parquet"
COLUMNS = ("text", "intent", "tier", "source", "industry", "provenance", "group")
MISSING_REASON = (
    "tier corpus not built here: run `python models/tier-corpus/build.py` where the pinned "
    "snapshots are (see models/tier-corpus/SOURCES.md)"
)


def corpus_dir() -> Path:
    """Where the corpus lives: ``TAXONOMY_TIER_CORPUS`` or ``<repo>/../data/tier-corpus``."""
    return Path(os.environ.get("TAXONOMY_TIER_CORPUS", REPO.parent / "data" / "tier-corpus"))


def corpus_path() -> Path:
    """The corpus file (it may not exist)."""
    return corpus_dir() / CORPUS_FILE


def corpus_available() -> bool:
    """True when the corpus file exists."""
    return corpus_path().is_file()


def corpus_sha256() -> str:
    """SHA-256 of the corpus file (recorded in the model's ``config.json``)."""
    return hashlib.sha256(corpus_path().read_bytes()).hexdigest()


# Message labels: a tier per training message, read by annotators one by one (models/tier-corpus/SOURCES.md,
# "Message labels"). Keyed by source, intent and the first 16 hex digits of the text's SHA-256; no text.
MESSAGE_LABELS = REPO / "models" / "tier-labels" / "row_labels.csv"
_LETTERS = {"I": "informational", "P": "personalized", "A": "action_led", "N": "none"}


def text_key(text: str) -> str:
    """The key a message label carries for its message's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_message_labels(path: Path = MESSAGE_LABELS) -> dict[tuple[str, str, str], str]:
    """``(source, intent, text key) -> tier``, or ``"none"`` where the message states no request."""
    frame = pl.read_csv(path, schema={"source": pl.String, "intent": pl.String, "text_sha256": pl.String, "tier": pl.String})
    unknown = set(frame["tier"].unique().to_list()) - set(_LETTERS)
    if unknown:
        raise ValueError(f"{path}: unknown tiers {sorted(unknown)}")
    return {(s, i, k): _LETTERS[t] for s, i, k, t in frame.iter_rows()}


def load_corpus() -> pl.DataFrame:
    """The corpus rows in file order, checked for its columns and tiers.

    Raises:
        FileNotFoundError: when the corpus has not been built (see :data:`MISSING_REASON`).
        ValueError: when the file lacks a column or carries an unknown tier.
    """
    return _load(corpus_path())


def load_evaluation_corpus() -> pl.DataFrame:
    """The evaluation-only rows (sources no model is trained on), checked like :func:`load_corpus`;
    empty when the build has none (or the corpus has not been built)."""
    path = corpus_dir() / EVALUATION_FILE
    if not path.is_file():
        return pl.DataFrame(schema={c: pl.String for c in COLUMNS})
    return _load(path)


def _load(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {MISSING_REASON}")
    frame = pl.read_parquet(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    unknown = set(frame["tier"].unique().to_list()) - set(TIERS)
    if unknown:
        raise ValueError(f"{path}: unknown tiers {sorted(unknown)}")
    return frame.select(COLUMNS)
