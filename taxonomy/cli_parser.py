"""The ``taxonomy`` command line's arguments: every subcommand, its options and its help text.

:mod:`taxonomy.cli` parses with :func:`build_parser` and dispatches; nothing here imports the
pipeline, so ``taxonomy --help`` stays instant.
"""

from __future__ import annotations

import argparse
from datetime import date



def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {value!r}") from None


def _add_common(p: argparse.ArgumentParser, *, label: bool = True) -> None:
    if label:
        p.add_argument(
            "--label",
            help="write under OUTPUT/label=LABEL/ instead of the production namespace "
            "(experiments and backfills with changed settings)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taxonomy",
        description="Support-queue automation-potential analytics: how much of each customer's "
        "support queue (by agent hours) an AI agent can take over, where, and what to build next.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "ingest",
        help="read exports (CSV, JSONL, Parquet, Intercom, Zendesk) into the canonical schema",
        description="Read support-conversation exports, validate them, and write "
        "OUTPUT/conversations_raw/ (partitioned by customer_id and date) plus OUTPUT/quarantine/ "
        "for rows that fail validation. INPUT is one export file or a landing root laid out as "
        "<root>/<customer_id>/<YYYY-MM-DD>/<file>; local path or s3://bucket/prefix.",
    )
    p.add_argument("--input", required=True, metavar="URI", help="export file or landing root")
    p.add_argument("--output", required=True, metavar="URI", help="output root (local path or s3://...)")
    p.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first date to ingest (inclusive)")
    p.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="last date to ingest (inclusive)")
    p.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable)")
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "csv", "jsonl", "parquet", "intercom", "zendesk"],
        help="export format (default: auto, from file extension and content)",
    )
    p.add_argument(
        "--column-map",
        metavar="SRC=DST[,SRC=DST...]",
        help="rename source columns to canonical names, e.g. 'ticket_id=conversation_id,body=text'",
    )
    p.add_argument("--config", metavar="FILE", help="YAML settings (see examples/config.yaml)")
    p.add_argument("--sources", metavar="FILE", help="sources file with per-customer reader options (see examples/sources.yaml)")
    _add_common(p)

    p = sub.add_parser(
        "classify",
        help="add a tier (informational / personalized / action_led) to every row of a file",
        description="Classify each row's text into a tier. Keeps every input column and adds tier, "
        "tier_confidence, p_informational, p_personalized, p_action_led, model_version, language and tier_note. "
        "The rows are read as a queue, as `taxonomy run` reads a customer's window: the model's tiers are "
        "corrected by what the queue's own confident rows show of its wording, separately for each customer "
        "(--queue-column, default customer_id where the file has it; else the whole file is one queue). "
        "Topics are not formed here, so a few tiers still differ from what `taxonomy run` lists (README: "
        "\"A conversation's tier\").",
    )
    p.add_argument("--input", required=True, metavar="FILE", help="CSV, JSONL or Parquet file")
    p.add_argument("--output", required=True, metavar="FILE.parquet", help="where to write the result")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--queue-column", metavar="COLUMN",
                   help="rows with the same value are one queue, adapted on its own (default: customer_id if the "
                   "file has it, else the whole file is one queue)")
    p.add_argument("--alone", action="store_true",
                   help="read each row alone: the model's own probabilities, no correction from the queue")

    p = sub.add_parser(
        "train-tiers",
        help="train the tier classifier (seeded, reproducible) into models/tier-classifier/<version>/; "
        "needs the tier corpus built (models/tier-corpus/SOURCES.md)",
    )
    p.add_argument("--version", help="model version to write (default: the current one); a version that exists is "
                   "rebuilt with the settings its config.json records, a new one gets the defaults (tier-clf-v8's and v9's)")
    p.add_argument("--models-dir", default=None, help="models folder (default: the project's models/)")

    p.add_argument("--reviews", metavar="URI", help="also learn from the reviewed messages (embeddings only) of every "
                   "customer under this output root; the model card then reports leave-one-customer-out figures")

    p = sub.add_parser(
        "review",
        help="write a customer's tier review sheet (CSV), or record a filled one with --apply",
        description="--sheet FILE.csv writes one row per topic in the order a reviewer's minutes pay most "
        "(heavy, uncertain, mixed topics first) plus FILE.messages.csv for mixed topics. Fill 'tier' "
        "(informational, personalized, action_led, or split + message tiers), then --apply FILE.csv records "
        "the answers under the customer's state; every later run applies them (tier_source 'review').",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root of a run")
    p.add_argument("--customer", required=True, metavar="ID")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="analysis to review (default: the latest; --apply takes it from the sheet)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--sheet", metavar="FILE.csv", help="write the review sheet here")
    what.add_argument("--apply", metavar="FILE.csv", help="record a filled review sheet")
    p.add_argument("--reviewer", metavar="NAME", help="who reviewed the rows whose reviewer column is empty (default: your login)")
    p.add_argument("--config", metavar="FILE", help="YAML settings (see examples/config.yaml)")
    _add_common(p)

    p = sub.add_parser(
        "run",
        help="ingest, classify, find topics, score and publish: the main job",
        description="Run the whole pipeline for the analysis window ending at --as-of and publish "
        "conversations/, topics/, scores/ and trends/ under OUTPUT (Hive-partitioned Parquet, "
        "as_of=YYYY-MM-DD/customer_id=ID/).",
    )
    p.add_argument("--input", required=True, metavar="URI", help="export file or landing root")
    p.add_argument("--output", required=True, metavar="URI", help="output root (local path or s3://...)")
    p.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="end of the window, exclusive (default: the day after the latest conversation)"
    )
    p.add_argument("--window-days", type=int, metavar="N", help="window length in days (default: 28)")
    p.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable)")
    p.add_argument("--config", metavar="FILE", help="YAML settings (see examples/config.yaml)")
    p.add_argument(
        "--format", default="auto", choices=["auto", "csv", "jsonl", "parquet", "intercom", "zendesk"],
        help="export format (default: auto, from file extension and content)",
    )
    p.add_argument("--sources", metavar="FILE", help="sources file with per-customer reader options (see examples/sources.yaml)")
    _add_common(p)

    p = sub.add_parser("show", help="print a customer's scores, ladder and top topics")
    p.add_argument("--output", required=True, metavar="URI", help="output root of a run")
    p.add_argument("--customer", required=True, metavar="ID")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest published")
    p.add_argument("--top", type=int, default=10, metavar="N", help="topics to list (default: 10)")
    _add_common(p)

    p = sub.add_parser("report", help="render the CSM HTML pages (one per customer, plus a portfolio)")
    p.add_argument("--output", required=True, metavar="URI", help="output root of a run")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest published")
    p.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable)")
    _add_common(p)

    p = sub.add_parser(
        "backtest",
        help="did the prediction come true? predicted vs achieved automation per topic, tier and customer",
        description="Compare the potential published as of --predicted-at with the automation each customer "
        "reached in the window ending the day before --achieved-at (topics by stable id, tiers, levers shipped) "
        "and write OUTPUT/backtest/as_of=ACHIEVED/customer_id=ID/. Both dates must be published.",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root of the runs")
    p.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable; default: all)")
    p.add_argument("--predicted-at", required=True, type=_date, metavar="YYYY-MM-DD", help="as-of date of the prediction")
    p.add_argument("--achieved-at", required=True, type=_date, metavar="YYYY-MM-DD", help="as-of date of the outcome window")
    _add_common(p)

    p = sub.add_parser(
        "compare",
        help="what a labelled run changed against production (or another label), per customer",
        description="Print, and write under OUTPUT/label=NAME/compare/, each changed customer's potential and "
        "tier-share deltas and its topics added, removed, renamed or re-tiered, biggest movers first.",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root")
    p.add_argument("--label", required=True, metavar="NAME", help="the labelled run under review")
    p.add_argument("--against", default="production", metavar="production|LABEL", help="baseline (default: production)")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the label's latest published")

    p = sub.add_parser(
        "promote",
        help="make a reviewed label's outputs the production ones (atomically), or roll back",
        description="Swap the label's published partitions of --as-of into production, customer by customer "
        "(readers see the old or the new outputs, never a mix), keeping what they replace under "
        "OUTPUT/promotions/ so --rollback restores it exactly.",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root")
    p.add_argument("--label", metavar="NAME", help="the reviewed label (required unless --rollback)")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="the as-of date to promote (required unless --rollback)")
    p.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable)")
    p.add_argument("--rollback", action="store_true", help="undo the latest promotion in force (or --promotion ID)")
    p.add_argument("--promotion", metavar="ID", help="with --rollback: the promotion to undo")

    p = sub.add_parser(
        "export",
        help="write one customer's scores, ladder, topics and weekly trend to a spreadsheet (.xlsx) or .csv",
        description="What a CSM forwards to a customer: scores, ladder, topics with next best actions, weekly trend. "
        "FILE.xlsx: one sheet each, numbers as numbers; FILE.csv: the same tables one after another.",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root of a run")
    p.add_argument("--customer", required=True, metavar="ID")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest published")
    p.add_argument("--to", required=True, metavar="FILE", help="the file to write: .xlsx or .csv")
    _add_common(p)

    p = sub.add_parser(
        "migrate-layout",
        help="rewrite an output root written before the Hive layout so every reader opens it",
        description="Rewrite partitions whose files still hold their partition columns in the Hive layout (partition "
        "columns in the path only); atomic per file, idempotent, metadata kept, every label=/ namespace included.",
    )
    p.add_argument("--output", required=True, metavar="URI", help="output root (local path or s3://...)")

    p = sub.add_parser(
        "pull",
        help="pull one customer's conversations from Intercom or Zendesk into the landing zone",
        description="Pull conversations updated in [--start, --end] from the customer's support platform "
        "(per the sources file) and land the raw API pages, gzipped JSONL, under "
        "LANDING/<customer_id>/<YYYY-MM-DD>/. Credentials come from environment variables only.",
    )
    p.add_argument("--customer", required=True, metavar="ID")
    p.add_argument("--start", required=True, type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--end", required=True, type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--landing", required=True, metavar="URI", help="landing root (local path or s3://...)")
    p.add_argument("--sources", default="sources.yaml", metavar="FILE", help="sources file (default: sources.yaml)")

    p = sub.add_parser(
        "make-sample",
        help="generate synthetic multi-customer exports (the bundled sample, or millions of rows for benchmarks)",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="landing root to write")
    p.add_argument("--customers", type=int, default=5, help="number of customers (default: 5, the bundled ones)")
    p.add_argument("--conversations", type=int, default=None, help="total conversations (default: the bundled sample's size)")
    p.add_argument("--days", type=int, default=63, help="days of history (default: 63)")
    p.add_argument("--seed", type=int, default=7)
    return parser
