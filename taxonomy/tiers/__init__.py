"""Stage 3a, tiers: texts and their embeddings in, a tier with calibrated probabilities out.

Every conversation gets ``tier`` (``informational``, ``personalized``, ``action_led``; see
``shared/TIERS.md``), ``tier_confidence``, ``p_<tier>`` and ``model_version`` in ``enriched/``;
overrides and reviews pin tiers after the model (``tier_source``).

- :mod:`~taxonomy.tiers.features`: request-form n-grams plus the sentence embedding.
- :mod:`~taxonomy.tiers.head`: the logistic-regression head and its calibrated probabilities.
- :mod:`~taxonomy.tiers.train`, :mod:`~taxonomy.tiers.evaluate`: ``taxonomy train-tiers`` and its
  honest evaluation (each training source held out in turn).
- :mod:`~taxonomy.tiers.corpus`: the public tier corpus (built outside the repository).
- :mod:`~taxonomy.tiers.shares`: tier shares of a queue from calibrated probabilities.
- :mod:`~taxonomy.tiers.adapt`: a customer window's tiers read through a correction fitted on its
  own confident rows, no label used (the analyse stage, before the context).
- :mod:`~taxonomy.tiers.context`: a message's tier read in its topic's context (the analyse stage).
- :mod:`~taxonomy.tiers.model`: the versioned artifact under ``models/tier-classifier/``, loading
  and predicting.
- :mod:`~taxonomy.tiers.classify`: ``taxonomy classify``, a file's rows read as a queue (adapted per
  customer) or each alone.
- :mod:`~taxonomy.tiers.overrides`: per-customer tier overrides (topic or text pattern).
- :mod:`~taxonomy.tiers.reviewed`: the labelled store of reviewed messages (``train-tiers --reviews``):
  embeddings only, leave-one-customer-out figures.
"""

from __future__ import annotations

from taxonomy.tiers.classify import classify_file
from taxonomy.tiers.model import (
    EMPTY_TEXT_NOTE,
    MODEL_NAME,
    TierClassifier,
    current_version,
    load_classifier,
    train_and_save,
)
from taxonomy.tiers.overrides import OverrideRule, Overrides, apply_overrides, load_overrides

__all__ = [
    "EMPTY_TEXT_NOTE",
    "MODEL_NAME",
    "OverrideRule",
    "Overrides",
    "TierClassifier",
    "apply_overrides",
    "classify_file",
    "current_version",
    "load_classifier",
    "load_overrides",
    "train_and_save",
]
