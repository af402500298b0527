"""Stage 4b, review: a person confirms topic tiers, and the answers stick (``taxonomy review``).

- :mod:`~taxonomy.review.state`: the customer's review state (``reviews/``, ``review_messages/``
  under the output root, never under a label: a person's answer is a fact about the customer's
  queue, not a setting), read and written atomically.
- :mod:`~taxonomy.review.sheet`: the review sheet (CSV), in the order that pays, and its messages
  sheet for mixed topics.
- :mod:`~taxonomy.review.apply`: ``--apply``: a filled sheet checked whole, then recorded.
- :mod:`~taxonomy.review.match`: every analysis applies the recorded reviews to its window,
  following each reviewed topic through id shifts, merges and splits (``tier_source = "review"``).
"""

from __future__ import annotations

from taxonomy.review.apply import apply_sheet
from taxonomy.review.match import apply_reviews, pin_human_tiers
from taxonomy.review.sheet import review_rows, write_sheet
from taxonomy.review.state import load_reviews

__all__ = ["apply_reviews", "apply_sheet", "pin_human_tiers", "load_reviews", "review_rows", "write_sheet"]
