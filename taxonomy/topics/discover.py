"""Topic discovery per customer: cluster a window's conversations, describe them, keep ids stable.

Clustering is :func:`taxonomy.topics.cluster.cluster_embeddings`; labels and keywords come from
:mod:`taxonomy.topics.labels`. Then topic ids are matched to the previous run's centroids
(Hungarian assignment over the pairs at or above ``match_threshold``: :func:`pairs_above`); new
topics get fresh ids ``tNNNN`` above every id ever issued. Topics that vanish stay in the centroid state with zero
conversations, so they can come back under their old id and their ids are never reused.

Languages (issue 16): rows in a language the embedder covers are clustered as above; rows in any
other language are grouped per language (:mod:`taxonomy.topics.languages`), so no topic mixes
languages, and ids only match a previous topic of the same language. Names
(:mod:`taxonomy.topics.names`) are chosen at the centroid of the messages of the topic's main tier
where rows carry tiers (read in the topic's context where rows carry probabilities, as the
analyse stage publishes them), and are kept from the previous run while the topic stays within
``NAME_KEEP`` cosine of the centroid it was named at and keeps the main tier it was named for; otherwise it is
named again.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from taxonomy.config import TopicsConfig
from taxonomy.embed import DIM
from taxonomy.topics.cluster import (
    ASSIGNMENTS_SCHEMA,
    CENTROIDS_SCHEMA,
    MATCH_THRESHOLD,
    N_EXAMPLES,
    OTHER_LABEL,
    OTHER_TOPIC_ID,
    TOPIC_ID_RE,
    TOPICS_SCHEMA,
    TopicResult,
    _cluster_sums,
    _normalise,
    cluster_embeddings,
)
from taxonomy.language import DEFAULT_LANGUAGE, embedder_covers, language_name
from taxonomy.schema import TIERS, TOPIC_WEIGHT
from taxonomy.topics.labels import ctfidf_keywords
from taxonomy.topics.languages import cluster_language
from taxonomy.topics.names import CENTRAL, NO_TEXT, Embed, central_name, name_topics
from taxonomy.wording import shared_words

# A matched topic keeps its name while its centroid stays this close to the one it was named at.
NAME_KEEP = 0.92
# ... and while the tier it was named for holds at least this share of the main tier's rows: a topic
# whose tiers stand near even (20 against 19) keeps its name when the lead changes hands.
TIER_KEEP = 0.8


def _id_number(topic_id: str) -> int | None:
    match = TOPIC_ID_RE.match(topic_id or "")
    return int(match.group(1)) if match else None


def _issue_new_ids(ids: list[str | None], prev: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """Fresh ids ``tNNNN`` above every id ever issued for the unmatched topics; the previous topics left unmatched."""
    matched = sorted(t for t in ids if t is not None)
    numbers = [num for tid in prev["topic_id"].to_list() if (num := _id_number(tid)) is not None]
    next_number = max(numbers, default=0) + 1
    for i, tid in enumerate(ids):
        if tid is None:
            ids[i] = f"t{next_number:04d}"
            next_number += 1
    return [str(t) for t in ids], prev.filter(~pl.col("topic_id").is_in(matched))


def match_topic_ids(
    centroids: np.ndarray, previous: pl.DataFrame | None, threshold: float = MATCH_THRESHOLD
) -> tuple[list[str], pl.DataFrame]:
    """Give each new cluster an id: the previous topic it matches, else a fresh one.

    Args:
        centroids: ``(k, d)`` unit centroids of the new clusters, largest cluster first
            (fresh ids are handed out in this order).
        previous: Last run's centroid state (``CENTROIDS_SCHEMA``) or None.
        threshold: Minimum cosine between a new and an old centroid to keep the old id.

    Returns:
        The ids (one per row of ``centroids``) and the previous topics left unmatched (retired).
    """
    prev = _state(previous)
    ids = _match_existing(centroids, prev, threshold)
    return _issue_new_ids(ids, prev)


def _state(previous: pl.DataFrame | None) -> pl.DataFrame:
    """Last run's state without "other", sorted, with every column of ``CENTROIDS_SCHEMA`` (a state
    written before issue 16 has no language: it was all clustered as the default language)."""
    prev = previous if previous is not None and previous.height else pl.DataFrame(schema=CENTROIDS_SCHEMA)
    prev = prev.with_columns(*[pl.lit(None, dtype=t).alias(c) for c, t in CENTROIDS_SCHEMA.items() if c not in prev.columns])
    prev = prev.select(list(CENTROIDS_SCHEMA)).with_columns(pl.col("language").fill_null(DEFAULT_LANGUAGE))
    return prev.filter(pl.col("topic_id") != OTHER_TOPIC_ID).sort("topic_id")


def _match_existing(centroids: np.ndarray, prev: pl.DataFrame, threshold: float) -> list[str | None]:
    """The previous id each new centroid matches (:func:`pairs_above` on cosine), else None."""
    ids: list[str | None] = [None] * len(centroids)
    if prev.height and len(centroids):
        old = _normalise(np.array(prev["centroid"].to_list(), dtype=np.float64).reshape(prev.height, -1))
    if prev.height and len(centroids) and old.shape[1] == centroids.shape[1]:  # else: another model, no match
        for r, c in pairs_above(centroids @ old.T, threshold):
            ids[r] = prev["topic_id"][c]
    return ids


def pairs_above(sims: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """One-to-one (row, column) pairs of ``sims`` at or above ``threshold``: as many as possible,
    then the closest (Hungarian assignment where only such pairs count, each more than any
    difference in cosine).

    On raw cosines the assignment may trade a pair above the threshold for two below it that add up
    to more (old A near new X at 0.97 and new Y at 0.76, old B near X at 0.54: X-B + Y-A beats X-A +
    Y-B), and X then loses A's id, its name and its reviewed tier for nothing (on the bundled sample's
    second run 51 of 86 acme-bank topics kept their id that way, 56 now)."""
    if not sims.size:
        return []
    weight = np.where(sims >= threshold, sims + sum(sims.shape), 0.0)
    rows, cols = linear_sum_assignment(-weight)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if sims[r, c] >= threshold]


def _match_by_language(
    centroids: np.ndarray, languages: list[str], previous: pl.DataFrame | None, threshold: float
) -> tuple[list[str], pl.DataFrame]:
    """:func:`match_topic_ids` within each language: a topic only keeps the id of one in its language."""
    prev = _state(previous)
    ids: list[str | None] = [None] * len(centroids)
    for lang in sorted(set(languages)):
        rows = [i for i, code in enumerate(languages) if code == lang]
        found = _match_existing(centroids[rows], prev.filter(pl.col("language") == lang), threshold)
        for i, tid in zip(rows, found):
            ids[i] = tid
    return _issue_new_ids(ids, prev)


def _examples(x: np.ndarray, members: np.ndarray, centroid: np.ndarray, n: int = N_EXAMPLES) -> np.ndarray:
    """Up to ``n`` of ``members`` (canonical row numbers) closest to the centroid (ties: first
    row, i.e. lowest conversation id)."""
    sims = np.round(x[members] @ centroid, 6)
    return members[np.lexsort((members, -sims))[:n]]


def _tier_counts(members: np.ndarray, tiers: np.ndarray | None) -> np.ndarray | None:
    """How many of a topic's rows (``members``) have each tier (``tiers``: each row's index in
    ``TIERS``, -1 for none); None when no row carries one."""
    if tiers is None:
        return None
    known = tiers[members]
    counts = np.bincount(known[known >= 0], minlength=len(TIERS))
    return counts if counts.any() else None


def _in_context(tiers: np.ndarray, labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each row's tier read in its topic's context, as published (:mod:`taxonomy.tiers.context`), so a
    topic is named for the tier it is published under. ``other`` rows keep theirs."""
    out = tiers.copy()
    usable = (tiers >= 0) & np.isfinite(proba).all(axis=1)
    for c in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero((labels == c) & usable)
        if len(rows):
            q = (1.0 - TOPIC_WEIGHT) * proba[rows] + TOPIC_WEIGHT * proba[rows].mean(axis=0)
            out[rows] = q.argmax(axis=1)
    return out


def _main_tier(counts: np.ndarray | None) -> int | None:
    """The index in ``TIERS`` of the tier most of a topic's rows have (``counts``:
    :func:`_tier_counts`), a tie to the heavier lever, as :mod:`taxonomy.scoring` gives a topic its
    tier; None without tiers."""
    return None if counts is None else max(range(len(TIERS)), key=lambda t: (counts[t], t))


def _naming_members(members: np.ndarray, tiers: np.ndarray | None, counts: np.ndarray | None) -> np.ndarray:
    """The rows of a topic (``members``, with their ``counts``: :func:`_tier_counts`) its name must
    speak for: those of its main tier (:func:`_main_tier`) when rows carry one, so that a topic of
    hotel cancellations that also holds questions about the cancellation policy is named by a
    cancellation, not by a question its tier contradicts; else all of them."""
    main = _main_tier(counts)
    speaking = members if main is None or tiers is None else members[tiers[members] == main]
    return speaking if len(speaking) else members


def _labels(
    x: np.ndarray, labels: np.ndarray, clusters: list[int], languages: list[str], ids: list[str],
    centroids: np.ndarray, texts: list[str], previous: pl.DataFrame | None, embed: Embed | None,
    tiers: np.ndarray | None = None, published: np.ndarray | None = None,
) -> tuple[list[str], np.ndarray, list[str | None]]:
    """Each cluster's name, the centroid it was named at and the tier it was named for: kept from the
    previous run while the topic stays close to that centroid and the tier still has ``TIER_KEEP``
    of the rows its main tier has (:func:`_tier_counts`), else named now at the centroid of its main
    tier's messages (:func:`_naming_members`; embedder-language topics by :func:`name_topics`, told
    apart from each other; other languages from their central message). A topic of seat selections and questions
    about dogs on board whose seat selections split off barely moves, but its tier turns from
    action-led to informational: the name it kept would contradict the tier beside it. The main tier
    is counted on ``published`` (:func:`_in_context`) where given, its speakers by their own ``tiers``."""
    prev = _state(previous)
    kept: dict[str, tuple[str, np.ndarray, str | None]] = {}
    for row in prev.filter(pl.col("label").is_not_null() & pl.col("label_centroid").is_not_null()).iter_rows(named=True):
        kept[row["topic_id"]] = (row["label"], np.asarray(row["label_centroid"], dtype=np.float64), row["label_tier"])
    members = {i: np.flatnonzero(labels == clusters[i]) for i in range(len(clusters))}
    counts = [_tier_counts(members[i], tiers if published is None else published) for i in range(len(clusters))]
    names: list[str] = [""] * len(clusters)
    named_at = centroids.copy()
    named_for = [None if c is None else TIERS[_main_tier(c)] for c in counts]
    todo: list[int] = []
    for i, tid in enumerate(ids):
        old, c = kept.get(tid), counts[i]
        close = old is not None and old[1].shape == centroids[i].shape \
            and float(_normalise(old[1][None])[0] @ centroids[i]) >= NAME_KEEP
        if close and (old[2] not in TIERS or c is None or c[TIERS.index(old[2])] >= TIER_KEEP * c.max()):
            names[i], named_at[i] = old[0], old[1]
            named_for[i] = old[2] or named_for[i]
        else:
            todo.append(i)
    # Each topic is named at the centroid of its main tier's messages, from those messages only (the
    # ones nearest it first): a name must point back at it rather than at the whole topic, and a
    # question of another tier that sits near it ("Who is the owner of our workspace?" in a topic of
    # ownership transfers) never names it.
    speak = {i: _naming_members(members[i], tiers, counts[i]) for i in todo}
    aim = {i: _normalise(x[speak[i]].astype(np.float64).sum(axis=0, keepdims=True))[0] for i in todo}
    central = [[texts[r] for r in _examples(x, speak[i], aim[i], CENTRAL)] for i in todo]
    english = [j for j, i in enumerate(todo) if embedder_covers(languages[i])]
    if english:
        rows = [todo[j] for j in english]
        rest = [i for i in range(len(ids)) if i not in rows and embedder_covers(languages[i])]
        others = centroids[rest]
        others_texts = [[texts[r] for r in members[i]] for i in rest]
        covered = [clusters[i] for i in range(len(ids)) if embedder_covers(languages[i])]
        center = x[np.isin(labels, covered)].astype(np.float64).mean(axis=0)
        found = name_topics([[texts[r] for r in members[i]] for i in rows],
                            np.stack([aim[i] for i in rows]), [central[j] for j in english], embed, others=others,
                            others_texts=others_texts, center=center)
        for i, name in zip(rows, found):  # no whole request of its main tier: the topic's nearest one of any tier
            names[i] = name if name != NO_TEXT else central_name([texts[r] for r in _examples(x, members[i], aim[i], CENTRAL)])
    for j, i in enumerate(todo):
        if not embedder_covers(languages[i]):  # English rules: a capitalised word few messages use is a name
            shared = shared_words([texts[r] for r in members[i]])  # (but no English casing: the Italian "i")
            names[i] = f"{central_name(central[j], shared=shared, casing=False)} ({language_name(languages[i])})"
    return names, named_at, named_for


def _describe_topics(
    x: np.ndarray, labels: np.ndarray, clusters: list[int], centroids: np.ndarray, topic_of: dict[int, str],
    conv_ids: list[str], texts: list[str], names: list[str], languages: list[str],
) -> pl.DataFrame:
    """Name, keywords, examples, size and language of every topic (``TOPICS_SCHEMA``), largest first."""
    keywords = ctfidf_keywords(texts, labels, clusters + ([-1] if (labels < 0).any() else []))
    rows = []
    for c, words in keywords.items():
        members = np.flatnonzero(labels == c)
        center = centroids[clusters.index(c)] if c >= 0 else _normalise(x[members].sum(axis=0, keepdims=True))[0]
        examples = _examples(x, members, center)
        rows.append({
            "topic_id": topic_of.get(c, OTHER_TOPIC_ID),
            "label": OTHER_LABEL if c < 0 else names[clusters.index(c)],
            "keywords": words,
            "example_conversation_ids": [conv_ids[i] for i in examples],
            "conversations": len(members),
            "language": DEFAULT_LANGUAGE if c < 0 else languages[clusters.index(c)],
        })
    return pl.DataFrame(rows, schema=TOPICS_SCHEMA).sort(["conversations", "topic_id"], descending=[True, False])


def _empty_result(previous: pl.DataFrame | None) -> TopicResult:
    state = pl.DataFrame(schema=CENTROIDS_SCHEMA)
    if previous is not None and previous.height:
        state = _state(previous).with_columns(pl.lit(0, pl.Int64).alias("conversations"))
    return TopicResult(
        assignments=pl.DataFrame(schema=ASSIGNMENTS_SCHEMA),
        topics=pl.DataFrame(schema=TOPICS_SCHEMA),
        centroids=state.cast(CENTROIDS_SCHEMA),
    )


def _cluster_all(x: np.ndarray, texts: list[str], row_languages: list[str], config: TopicsConfig,
                 cohesion: float) -> tuple[np.ndarray, dict[int, str]]:
    """Labels of every row: the embedder's languages clustered together (``-1`` = other), every other
    language on its own (:func:`cluster_language`); and each label's language."""
    covered = np.array([embedder_covers(code) for code in row_languages], dtype=bool)
    labels = np.full(len(x), -1, dtype=np.int64)
    language_of: dict[int, str] = {}
    main = np.flatnonzero(covered)
    if len(main):
        labels[main] = cluster_embeddings(x[main], config, cohesion=cohesion)
        language_of = {int(c): DEFAULT_LANGUAGE for c in np.unique(labels[main]) if c >= 0}
    next_label = int(labels.max()) + 1 if (labels >= 0).any() else 0
    for code in sorted({row_languages[i] for i in np.flatnonzero(~covered)}):
        rows = np.array([i for i in np.flatnonzero(~covered) if row_languages[i] == code])
        sub = cluster_language([texts[i] for i in rows], config.min_topic_size)
        labels[rows] = sub + next_label
        language_of.update({int(c) + next_label: code for c in np.unique(sub)})
        next_label += int(sub.max()) + 1
    return labels, language_of


def discover_topics(
    df: pl.DataFrame,
    embeddings: np.ndarray,
    previous: pl.DataFrame | None = None,
    config: TopicsConfig = TopicsConfig(),
    *,
    cohesion: float | None = None,
    match_threshold: float | None = None,
    embed: Embed | None = None,
) -> TopicResult:
    """Topics of one customer's window: assignments, named topics and centroid state.

    Args:
        df: At least ``conversation_id`` (unique) and ``text``; ``language`` (ISO 639-1, null =
            the embedder's language) if known; ``tier`` if known (a topic is then named at the
            centroid of its main tier's messages; with ``p_<tier>``, tiers read in the topic's
            context, as published). Row i belongs to ``embeddings[i]``.
        embeddings: ``(len(df), 384)`` float vectors (normalised here anyway).
        previous: This customer's ``TopicResult.centroids`` from the last run, or None.
        config: ``min_topic_size``, ``max_topics``, ``seed``, ``cohesion``, ``match_threshold``.
        cohesion: Overrides ``config.cohesion``: target mean pairwise cosine within a topic.
        match_threshold: Overrides ``config.match_threshold``: minimum centroid cosine to keep a previous id.
        embed: The embedder's ``encode`` (same model as ``embeddings``), for topic names from
            candidate phrases; None names topics from their central message.

    Returns:
        A :class:`TopicResult`; the same input (in any row order) gives the same result.

    Raises:
        ValueError: ``embeddings`` does not have one row per row of ``df``.
    """
    if embeddings.ndim != 2 or len(embeddings) != df.height:
        raise ValueError(f"embeddings have shape {embeddings.shape}, expected ({df.height}, dim)")
    cohesion = config.cohesion if cohesion is None else cohesion
    match_threshold = config.match_threshold if match_threshold is None else match_threshold
    if df.height == 0:
        return _empty_result(previous)
    order = np.asarray(df.select(pl.arg_sort_by(["conversation_id", "text"], maintain_order=True)).to_series())
    conv_ids = [str(c) for c in df["conversation_id"].gather(order).to_list()]
    texts = [t or "" for t in df["text"].gather(order).to_list()]
    row_languages = ([c or DEFAULT_LANGUAGE for c in df["language"].gather(order).to_list()]
                     if "language" in df.columns else [DEFAULT_LANGUAGE] * df.height)
    x = _normalise(np.asarray(embeddings, dtype=np.float32)[order])
    labels, language_of = _cluster_all(x, texts, row_languages, config, cohesion)
    sizes = np.bincount(labels[labels >= 0])  # labels are 0..k-1, every one used
    clusters = sorted(range(len(sizes)), key=lambda c: (-int(sizes[c]), c))
    languages = [language_of[c] for c in clusters]
    centroids = _normalise(_cluster_sums(x, labels, len(sizes))[clusters].astype(np.float64))
    ids, retired = _match_by_language(centroids, languages, previous, match_threshold)
    topic_of = {c: tid for c, tid in zip(clusters, ids)}
    tiers = None
    if "tier" in df.columns:
        index = {t: i for i, t in enumerate(TIERS)}
        tiers = np.array([index.get(t, -1) for t in df["tier"].gather(order).to_list()], dtype=np.int64)
    published = None
    if tiers is not None and all(f"p_{t}" in df.columns for t in TIERS):
        published = _in_context(tiers, labels, df.select([pl.col(f"p_{t}").cast(pl.Float64) for t in TIERS]).to_numpy()[order])
    names, named_at, named_for = _labels(x, labels, clusters, languages, ids, centroids, texts, previous, embed, tiers,
                                         published)
    topics = _describe_topics(x, labels, clusters, centroids, topic_of, conv_ids, texts, names, languages)
    assigned = np.array([topic_of.get(int(c), OTHER_TOPIC_ID) for c in labels], dtype=object)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    assignments = pl.DataFrame(
        {"conversation_id": df["conversation_id"].cast(pl.String), "topic_id": assigned[inverse].tolist()},
        schema=ASSIGNMENTS_SCHEMA,
    )
    current = pl.DataFrame(
        {
            "topic_id": ids,
            "centroid": centroids.astype(np.float32),
            "conversations": [int(sizes[c]) for c in clusters],
            "language": languages,
            "label": names,
            "label_centroid": named_at.astype(np.float32),
            "label_tier": named_for,
        },
        schema=CENTROIDS_SCHEMA,
    )
    state = pl.concat([current, _retire(retired, config)])
    return TopicResult(assignments=assignments, topics=topics, centroids=state)


def _retire(retired: pl.DataFrame, config: TopicsConfig) -> pl.DataFrame:
    """Unmatched previous topics, kept with 0 conversations (newest ids first, bounded).

    A centroid of another width (another embedding model) is zeroed: it can never match
    again, but its id stays reserved so it is never reused.
    """
    as_list = pl.col("centroid").cast(pl.List(pl.Float32))
    zeros = pl.lit([0.0] * DIM, dtype=pl.List(pl.Float32))
    named_at = pl.col("label_centroid").cast(pl.List(pl.Float32))
    numbered = retired.with_columns(
        pl.when(as_list.list.len() == DIM).then(as_list).otherwise(zeros).alias("centroid"),
        pl.when(named_at.list.len() == DIM).then(named_at).otherwise(None).alias("label_centroid"),
    ).with_columns(
        pl.col("topic_id").str.extract(r"^t(\d+)$", 1).cast(pl.Int64, strict=False).alias("_n")
    )
    kept = numbered.sort(["_n", "topic_id"], descending=[True, False], nulls_last=True).head(config.max_topics * 2)
    return kept.select(list(CENTROIDS_SCHEMA)).with_columns(pl.lit(0, pl.Int64).alias("conversations")).cast(CENTROIDS_SCHEMA)
