"""Stage 5b, proving: did predictions come true, and what did a changed setting do?

- :mod:`~taxonomy.proving.backtest`: predicted vs achieved automation per topic, tier and customer
  (``taxonomy backtest``, and after every publish for predictions 28+ days old).
- :mod:`~taxonomy.proving.compare`: a labelled run's changes against production (``taxonomy compare``).
- :mod:`~taxonomy.proving.promote`: make a reviewed label production, atomically, and roll back
  (``taxonomy promote``).
"""

from __future__ import annotations

from taxonomy.proving.backtest import (
           backtest_customer,
           compute_backtest,
           format_backtest,
           run_backtests,
)
from taxonomy.proving.compare import compare_runs, format_comparison
from taxonomy.proving.promote import promote, promotions, rollback

__all__ = ["backtest_customer", "compare_runs", "compute_backtest", "format_backtest", "format_comparison", "promote", "promotions",
           "rollback", "run_backtests"]
