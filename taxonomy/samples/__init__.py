"""Synthetic support exports for demos, tests and benchmarks (``taxonomy make-sample``).

Writes a landing root in the three export formats the pipeline reads (CSV, Intercom, Zendesk),
deterministic for given arguments; ``examples/landing/`` was made with it.

- :mod:`~taxonomy.samples.profiles`: who the synthetic customers are.
- :mod:`~taxonomy.samples.intents`, :mod:`~taxonomy.samples.texts`: what they write.
- :mod:`~taxonomy.samples.generate`: volumes, timing, handle times, outcomes.
- :mod:`~taxonomy.samples.exports`: the files on disk.
"""

from __future__ import annotations

from taxonomy.samples.generate import END_DATE, customer_profiles, iter_conversations, plan_counts, write_sample
from taxonomy.samples.profiles import CustomerProfile, banking77_path

__all__ = ["END_DATE", "CustomerProfile", "banking77_path", "customer_profiles", "iter_conversations",
           "plan_counts", "write_sample"]
