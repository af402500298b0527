"""The tier corpus's reader script (``models/tier-corpus/build.py``, a script, not a package) and its
source specs, loaded once for the corpus tests (tests patch its attributes with ``monkeypatch`` only)."""

from __future__ import annotations

import importlib.util

import yaml

from taxonomy.tiers.train import DEFAULT_MODELS_DIR

CORPUS = DEFAULT_MODELS_DIR / "tier-corpus"
_spec = importlib.util.spec_from_file_location("tier_corpus_build", CORPUS / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)  # type: ignore[union-attr]
SOURCES: dict = yaml.safe_load((CORPUS / "sources.yaml").read_text(encoding="utf-8"))["sources"]
