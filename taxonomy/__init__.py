"""Support-queue automation-potential analytics.

Ingest support-conversation exports, classify each conversation into a tier
(informational, personalized, action_led), find topics, weight everything by
agent handle time, and publish each customer's automation-potential scores.
"""

__version__ = "0.2.8"  # raised when a release changes what a stage writes: fingerprints hold it, so re-runs recompute
