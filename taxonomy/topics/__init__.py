"""Stage 3b, topics: a customer's window of embedded conversations in, topics with stable ids out.

Each conversation of the analysis window gets a ``topic_id``; each topic a name (``label``: a short
request in the customer's words), keywords, a language and example conversations; the centroids
(``topic_state/``) keep ids, and names, stable from run to run.

- :mod:`~taxonomy.topics.cluster`: Ward on a seeded sample, cohesive cut, small topics folded.
- :mod:`~taxonomy.topics.labels`: c-TF-IDF keywords (and the keyword labels used before issue 16).
- :mod:`~taxonomy.topics.names`: topic names from candidate phrases and central sentences.
- :mod:`~taxonomy.topics.languages`: per-language topics for languages the embedder does not cover.
- :mod:`~taxonomy.topics.discover`: :func:`discover_topics`, id matching against the previous run.
"""

from __future__ import annotations

from taxonomy.topics.cluster import COHESION, OTHER_LABEL, OTHER_TOPIC_ID, TopicResult, cluster_embeddings
from taxonomy.topics.discover import discover_topics, match_topic_ids
from taxonomy.topics.labels import ctfidf_keywords, label_from_keywords

__all__ = [
    "COHESION",
    "OTHER_LABEL",
    "OTHER_TOPIC_ID",
    "TopicResult",
    "cluster_embeddings",
    "ctfidf_keywords",
    "discover_topics",
    "label_from_keywords",
    "match_topic_ids",
]
