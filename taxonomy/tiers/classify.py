"""``taxonomy classify``: a tier for every row of a CSV, JSON Lines or Parquet file.

The rows are read as a queue, the way ``taxonomy run`` reads a customer's window (README, "A
conversation's tier"): the head's tiers, then the correction fitted on the queue's own confident rows
(:mod:`taxonomy.tiers.adapt`), one queue per customer. ``--alone`` reads each row alone. Each row
also gets its language, and rows in a language the embedder does not cover are made less sure, as
in ``taxonomy run``. There is no topic stage here, so no topic context: a few tiers still differ
from what ``taxonomy run`` lists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.schema import EMBEDDING_DIM, TIERS
from taxonomy.tiers.adapt import MIN_CONFIDENT, adapt_to_queue
from taxonomy.tiers.model import EMPTY_TEXT_NOTE, MAX_EMBED_CHARS, load_classifier, temperature_of


def _read_table(path: str) -> pl.DataFrame:
    suffix = Path(path).suffix.lower()
    if not Path(path).exists():
        raise TaxonomyError("input file not found", file=path)
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=0)  # every column as text: nothing coerced
        if suffix in {".jsonl", ".ndjson"}:
            return pl.read_ndjson(path)
        if suffix == ".parquet":
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if suffix != ".parquet":
            _raise_on_bad_row(path, suffix)
        raise TaxonomyError(f"cannot read the file ({exc.__class__.__name__}: {str(exc)[:200]})", file=path) from None
    raise TaxonomyError("unsupported format: use .csv, .jsonl/.ndjson or .parquet", file=path)


def _raise_on_bad_row(path: str, suffix: str) -> None:
    """Name the first row ingestion would quarantine: a CSV row whose width differs from the
    header's, a JSON Lines line that is not valid JSON or not an object (rows in = rows out, so
    ``classify`` stops there rather than guess which value is the text)."""
    from taxonomy.ingest.formats import decode_text, iter_json_objects, read_csv_by_row
    from taxonomy.ingest.records import ERROR_KEY, not_an_object

    text = decode_text(Path(path).read_bytes(), path)
    if suffix == ".csv":
        records = read_csv_by_row(text, path).records
    else:
        records = [{**not_an_object(v), "source_row": line}
                   for line, v in iter_json_objects(text, path, prefer_lines=True) if not isinstance(v, dict)]
    for rec in records:
        if ERROR_KEY in rec:
            raise TaxonomyError(rec[ERROR_KEY][1], file=path, row=rec["source_row"])


def classify_file(input_path: str, output_path: str, text_column: str = "text", queue_column: str | None = None,
                  alone: bool = False) -> dict[str, Any]:
    """Classify every row of a file and write Parquet with the input columns plus the tier columns.

    Adds ``tier``, ``tier_confidence``, ``p_informational``, ``p_personalized``, ``p_action_led``,
    ``model_version``, ``language`` (ISO 639-1, null for blank text) and ``tier_note`` (null, or why
    a row got no tier: empty text). Input columns of the same names are replaced. Rows in = rows
    out, in order.

    The rows are read as a queue, as ``taxonomy run`` reads a customer's window: the head's tiers
    go through the correction fitted on the queue's own confident rows
    (:mod:`taxonomy.tiers.adapt`), one queue per value of ``queue_column`` (default ``customer_id``
    when the file has it, else the whole file is one queue), so one customer's rows never change
    another's tiers. Rows in a language the embedder does not cover are left out of the fit and made
    less sure (:func:`taxonomy.language.lower_unsupported_confidence`), as in ``taxonomy run``.
    ``alone``: each row read alone, the head's own probabilities (what the model card's
    leave-one-source-out figures score).

    Returns:
        ``rows``, ``blank`` (rows without text), ``tiers`` (rows per tier), ``queue_column`` (None:
        the whole file), ``queues``, ``queues_adapted`` (queues with enough confident rows to fit on,
        ``taxonomy.tiers.adapt.MIN_CONFIDENT`` in two tiers) and ``tiers_changed`` (rows whose tier the
        correction changed); ``alone``.

    Raises:
        TaxonomyError: unreadable or unsupported input, or a missing text or queue column.
    """
    from taxonomy import embed
    from taxonomy.config import load_config
    from taxonomy.language import detect_languages, lower_unsupported_confidence

    cfg = load_config()  # the configured embedding backend (onnx by default; torch for a GPU)
    df = _read_table(input_path)
    for column in (text_column, queue_column):
        if column is not None and column not in df.columns:
            raise TaxonomyError(f"no column {column!r} (columns: {', '.join(df.columns)[:300]})", file=input_path, field=column)
    if queue_column is None and not alone and "customer_id" in df.columns:
        queue_column = "customer_id"
    if df.schema[text_column] not in (pl.String, pl.Null):
        df = df.with_columns(pl.col(text_column).cast(pl.String))
    texts = [t if isinstance(t, str) else "" for t in df.get_column(text_column).to_list()]
    classifier = load_classifier()
    live = [i for i, t in enumerate(texts) if t.strip()]
    embeddings = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
    if live:
        embedder = embed.get_embedder(cfg.embedding_backend, batch_size=cfg.embedding_batch_size, device=cfg.device)
        embeddings[live] = embedder.encode([texts[i][:MAX_EMBED_CHARS] for i in live])
    languages = detect_languages([t if t.strip() else None for t in texts])
    tiers = classifier.predict(texts, embeddings).with_columns(
        pl.Series("language", [lang if t.strip() else None for lang, t in zip(languages, texts)], dtype=pl.String))
    summary: dict[str, Any] = {"rows": len(texts), "blank": len(texts) - len(live), "alone": alone,
                               "queue_column": queue_column, "queues": 0, "queues_adapted": 0, "tiers_changed": 0}
    if not alone:
        tiers = _adapted_per_queue(tiers, embeddings, df.get_column(queue_column) if queue_column else None, summary)
    tiers = lower_unsupported_confidence(tiers).drop("tier_source")
    note = pl.Series("tier_note", [None if t.strip() else EMPTY_TEXT_NOTE for t in texts], dtype=pl.String)
    added = [*tiers.columns, "tier_note"]
    out = pl.concat([df.drop([c for c in added if c in df.columns]), tiers, note.to_frame()], how="horizontal")
    Path(output_path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{output_path}.tmp-{os.getpid()}"
    out.write_parquet(tmp)
    os.replace(tmp, output_path)
    summary["tiers"] = {t: int((tiers["tier"] == t).sum()) for t in TIERS}
    return summary


def classify_summary(summary: dict[str, Any], output_path: str) -> str:
    """What ``taxonomy classify`` did, in two lines."""
    tiers = ", ".join(f"{t} {n:,}" for t, n in summary["tiers"].items())
    blank = f"; {summary['blank']:,} blank rows get no tier" if summary["blank"] else ""
    lines = [f"{summary['rows']:,} rows -> {output_path}: {tiers}{blank}"]
    too_few = f"fewer than {MIN_CONFIDENT} confident rows in two tiers"
    if summary["alone"]:
        lines.append("each row read alone (--alone): no correction from the queue")
    elif summary["queue_column"] is None:
        lines.append(f"read as one queue: adapted to its own wording ({summary['tiers_changed']:,} tiers changed)"
                     if summary["queues_adapted"] else f"read as one queue: {too_few}, so the model's own reading is kept")
    else:
        kept = summary["queues"] - summary["queues_adapted"]
        lines.append(f"read as {summary['queues']:,} queues by {summary['queue_column']}: {summary['queues_adapted']:,} "
                     f"adapted to their own wording ({summary['tiers_changed']:,} tiers changed)"
                     + (f"; {kept:,} not ({too_few}: the model's own reading)" if kept else ""))
    return "\n".join(lines)


def _adapted_per_queue(tiers: pl.DataFrame, embeddings: np.ndarray, queue: pl.Series | None,
                       summary: dict[str, Any]) -> pl.DataFrame:
    """``tiers`` with each queue's rows (one per value of ``queue``; all rows when None, null a
    queue of its own) adapted to that queue alone; counts go to ``summary``."""
    keys = queue.cast(pl.String).to_list() if queue is not None else [None] * tiers.height
    groups: dict[str | None, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    parts, order = [], []
    for rows in groups.values():
        part = tiers[rows]
        adapted = adapt_to_queue(part, embeddings[rows], temperature_of)
        if adapted is not part:
            summary["queues_adapted"] += 1
            summary["tiers_changed"] += int((adapted["tier"] != part["tier"]).sum())
        parts.append(adapted)
        order.extend(rows)
    summary["queues"] = len(groups)
    if len(groups) == 1:
        return parts[0]
    return pl.concat(parts).with_columns(pl.Series("_row", order)).sort("_row").drop("_row")
