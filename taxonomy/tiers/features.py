"""Features for the tier classifier: word n-grams of the message's form plus its embedding.

Why both: all-MiniLM-L6-v2 embeddings mostly encode *topic* (cards, orders, flights), so a
head trained on one industry's embeddings does not transfer. The tier is carried by the
*form* of the request ("how do i ...", "where is my ...", "cancel my ...", "why was i ..."),
which word uni/bi/tri-grams capture in any industry. The embedding still helps on phrasings the
n-grams have not seen, so it is kept, down-weighted (measured in ``MODEL_CARD.md``).

Everything here is plain arrays: the vectoriser is rebuilt at load time from a vocabulary
(JSON) and IDF weights (npz), so no pickle is ever read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from taxonomy.schema import EMBEDDING_DIM

# Characters of a message the lexical features look at: the request's form is at the start, and
# this bounds the cost of pathological (100 KB) rows.
MAX_FEATURE_CHARS = 2_000
TOKEN_PATTERN = r"[a-z0-9']+"
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")
# TIERS.md's first rule of thumb: "How do I X?" asks for the same text everyone gets. Phrasings of
# it share few n-grams ("what's the process for", "steps to", "is there a way to"), so a match
# adds one marker token that the head weighs like any other term (learned, not forced: sources
# that label "how do I cancel?" action_led pull its weight down). Since tier-clf-v3; the marker is
# not in v1/v2's vocabularies, so their features are unchanged.
HOW_TO_MARKER = "zzhowto"
_HOW_TO = re.compile(
    r"\b(how (do|can|could|should|would|will|does) (i|we|one|you|it)|how to|what ?'?s the (process|procedure|way|steps)"
    r"|what (is|are) the (process|procedure|way|steps)|steps (to|for)|is there a way|where do i go to|explain how)\b"
)


def normalise(text: str | None) -> str:
    """Lower-case, unify apostrophes, turn punctuation into spaces, truncate.

    Args:
        text: A raw support message (may be None).

    Returns:
        The text the n-gram features are built from ("" for None), with :data:`HOW_TO_MARKER`
        appended when it asks how to do something.
    """
    if not text:
        return ""
    text = text[:MAX_FEATURE_CHARS].lower().replace("\u2019", "'").replace("`", "'")
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()
    return f"{text} {HOW_TO_MARKER}" if _HOW_TO.search(text) else text


def _vectoriser(vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 3),
        min_df=2,
        sublinear_tf=True,
        token_pattern=TOKEN_PATTERN,
        lowercase=False,  # normalise() already did it
        vocabulary=vocabulary,
        dtype=np.float64,
    )


@dataclass
class FormFeatures:
    """Word 1-3-gram TF-IDF of the normalised text, concatenated with the weighted embedding.

    Args:
        embedding_weight: Multiplier on the (unit-norm) embedding block; the TF-IDF block has
            unit norm too, so this sets the two blocks' relative say.
    """

    embedding_weight: float = 0.5

    def fit(self, texts: list[str]) -> FormFeatures:
        """Learn the n-gram vocabulary and IDF weights from training texts."""
        vec = _vectoriser()
        vec.fit([normalise(t) for t in texts])
        # Sorted vocabulary so the saved artifact does not depend on dict ordering.
        self.terms_ = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
        self.idf_ = np.asarray(vec.idf_, dtype=np.float64)
        self._vec = vec
        return self

    @classmethod
    def from_arrays(cls, terms: list[str], idf: np.ndarray, embedding_weight: float) -> FormFeatures:
        """Rebuild fitted features from a saved vocabulary (in column order) and IDF weights."""
        self = cls(embedding_weight=embedding_weight)
        vec = _vectoriser({term: i for i, term in enumerate(terms)})
        vec.idf_ = np.asarray(idf, dtype=np.float64)
        self.terms_, self.idf_, self._vec = list(terms), vec.idf_, vec
        return self

    @property
    def n_features(self) -> int:
        """Width of the matrix :meth:`transform` returns (n-grams plus embedding dimensions)."""
        return len(self.terms_) + EMBEDDING_DIM

    def transform(self, texts: list[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        """Feature matrix for texts and their embeddings (rows aligned).

        Raises:
            ValueError: if the number of texts and embedding rows differ, or the width is wrong.
        """
        embeddings = np.asarray(embeddings, dtype=np.float64)
        if embeddings.ndim != 2 or embeddings.shape[0] != len(texts) or embeddings.shape[1] != EMBEDDING_DIM:
            raise ValueError(
                f"expected embeddings of shape ({len(texts)}, {EMBEDDING_DIM}), got {embeddings.shape}"
            )
        dense = sparse.csr_matrix(np.nan_to_num(embeddings) * self.embedding_weight)
        return sparse.hstack([self.lexical(texts), dense], format="csr")

    def lexical(self, texts: list[str]) -> sparse.csr_matrix:
        """The TF-IDF block alone (the first ``len(terms_)`` columns of :meth:`transform`)."""
        return self._vec.transform([normalise(t) for t in texts])

    def scores(self, texts: list[str], embeddings: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """``transform(texts, embeddings) @ coef.T`` without building the (slow) stacked matrix.

        The two blocks are multiplied separately: sparse n-grams, then the dense embedding.
        """
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2 or embeddings.shape[0] != len(texts) or embeddings.shape[1] != EMBEDDING_DIM:
            raise ValueError(
                f"expected embeddings of shape ({len(texts)}, {EMBEDDING_DIM}), got {embeddings.shape}"
            )
        if not np.isfinite(embeddings).all():
            embeddings = np.nan_to_num(embeddings)
        n = len(self.terms_)
        lexical = np.asarray(self.lexical(texts) @ coef[:, :n].T)
        # The dense block in the embeddings' own precision (float32 from the embedders): no float64 copy.
        dense = embeddings @ (coef[:, n:].T * self.embedding_weight).astype(embeddings.dtype, copy=False)
        return lexical + dense
