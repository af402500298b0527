"""The ``taxonomy`` command line.

Each subcommand parses its arguments and calls one function of the package,
imported lazily so ``taxonomy --help`` is instant. Errors the user can cause
(:class:`~taxonomy.errors.TaxonomyError`) print one line and exit 2; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from taxonomy.errors import StorageError, TaxonomyError

if TYPE_CHECKING:
    from taxonomy.pipeline import RunResult


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
        "tier_confidence, p_informational, p_personalized, p_action_led and model_version.",
    )
    p.add_argument("--input", required=True, metavar="FILE", help="CSV, JSONL or Parquet file")
    p.add_argument("--output", required=True, metavar="FILE.parquet", help="where to write the result")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")

    p = sub.add_parser(
        "train-tiers",
        help="train the tier classifier (seeded, reproducible) into models/tier-classifier/<version>/",
    )
    p.add_argument("--version", help="model version to write (default: the current one)")
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


def _column_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    mapping = {}
    for pair in text.split(","):
        src, sep, dst = pair.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise TaxonomyError(f"--column-map entries look like SRC=DST, got {pair!r}")
        mapping[src.strip()] = dst.strip()
    return mapping


def _customer_options(sources: str | None) -> dict[str, dict[str, str]] | None:
    """Per-customer reader options from a sources file (None without one)."""
    if not sources:
        return None
    from taxonomy.pull import ingest_options, load_sources

    return {cid: ingest_options(sources, cid) for cid in load_sources(sources)}


def dispatch(args: argparse.Namespace) -> int:
    """Run one parsed subcommand; return the exit code."""
    from taxonomy.config import load_config

    if args.command == "ingest":
        column_map = _column_map(args.column_map)
        from taxonomy.ingest import ingest, print_report

        report = ingest(
            args.input,
            args.output,
            start=args.start,
            end=args.end,
            customers=args.customer,
            fmt=args.format,
            column_map=column_map,
            label=args.label,
            config=load_config(args.config),
            customer_options=_customer_options(args.sources),
        )
        print_report(report)
        return 0
    if args.command == "classify":
        from taxonomy.tiers import classify_file

        classify_file(args.input, args.output, text_column=args.text_column)
        return 0
    if args.command == "train-tiers":
        from taxonomy.tiers import train_and_save

        train_and_save(version=args.version, models_dir=args.models_dir, reviews_uri=args.reviews)
        return 0
    if args.command == "review":
        from taxonomy.review.cli import review_cli

        print(review_cli(args.output, args.customer, as_of=args.as_of, sheet=args.sheet, apply=args.apply,
                         reviewer=args.reviewer, config=load_config(args.config), label=args.label))
        return 0
    if args.command == "run":
        from taxonomy.pipeline import run

        result = run(
            args.input,
            args.output,
            as_of=args.as_of,
            customers=args.customer,
            fmt=args.format,
            label=args.label,
            config=load_config(args.config, window_days=args.window_days),
            customer_options=_customer_options(args.sources),
        )
        print_run_summary(result)
        return 0
    if args.command == "show":
        from taxonomy.publish import show

        print(show(args.output, args.customer, as_of=args.as_of, label=args.label, top=args.top))
        return 0
    if args.command == "report":
        from taxonomy.report import render_reports

        for path in render_reports(args.output, as_of=args.as_of, customers=args.customer, label=args.label):
            print(path)
        return 0
    if args.command in ("backtest", "compare", "promote"):
        return _proving(args)
    if args.command == "pull":
        from taxonomy.pull import pull_cli

        print(pull_cli(args.customer, args.start, args.end, args.landing, sources_file=args.sources))
        return 0
    if args.command == "make-sample":
        from taxonomy.samples import write_sample

        print(write_sample(args.output, customers=args.customers, conversations=args.conversations, days=args.days, seed=args.seed))
        return 0
    raise AssertionError(args.command)


def _proving(args: argparse.Namespace) -> int:
    """``backtest``, ``compare`` and ``promote``."""
    from taxonomy import proving

    if args.command == "backtest":
        from taxonomy.storage import Store

        store = Store(args.output, label=args.label)
        skipped: dict[str, str] = {}
        # Named customers must succeed; over all customers, those without outcome data are skipped and listed.
        written = proving.run_backtests(store, args.achieved_at, args.customer, predicted_at=args.predicted_at,
                                        strict=bool(args.customer), skipped=skipped)
        for cid, why in skipped.items():
            print(f"{cid}: skipped: {why}")
        if not written:
            raise TaxonomyError(f"no customer could be back-tested as of {args.achieved_at}")
        for cid, uri in written.items():
            print(proving.format_backtest(store.read_partition(store.partition("backtest", as_of=args.achieved_at, customer_id=cid))))
            print(f"  written: {uri}")
        return 0
    if args.command == "compare":
        as_of, frames, compared = proving.compare_runs(args.output, args.label, against=args.against, as_of=args.as_of)
        print(proving.format_comparison(args.label, args.against, as_of, frames, compared))
        return 0
    if args.rollback:
        m = proving.rollback(args.output, args.promotion)
        print(f"rolled back promotion {m['id']}: label={m['label']} as of {m['as_of']} for {', '.join(m['customers'])}")
        return 0
    if not args.label or not args.as_of:
        raise TaxonomyError("promote needs --label and --as-of (or --rollback)")
    m = proving.promote(args.output, args.label, args.as_of, args.customer)
    print(f"promoted label={m['label']} as of {m['as_of']} to production for {', '.join(m['customers'])}"
          f" (promotion {m['id']}; undo with `taxonomy promote --output {args.output} --rollback --promotion {m['id']}`)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``taxonomy`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return dispatch(args)
    except TaxonomyError as exc:
        print(f"taxonomy {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"taxonomy {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("taxonomy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())


def print_run_summary(result: RunResult) -> None:
    """Print where the outputs are and one line per customer (``taxonomy run``, ``make demo``)."""
    from taxonomy.publish import _interval, _num, _pct, read_published
    from taxonomy.storage import Store
    from taxonomy.window import window_bounds

    store = Store(result.output, label=result.label)
    first, last = window_bounds(result.as_of, result.window_days)
    print(f"Published as of {result.as_of} (window {first} .. {last}) under {store.uri(store.base)}/")
    print("  datasets: " + ", ".join(f"{name}/ ({len(uris)} partitions)" for name, uris in result.published.items()))
    print(
        f"  {'customer':<18} {'convs':>6} {'hours':>7} {'potential':>9} {'h/month':>8}"
        f" {'by volume':>9} {'current':>8} {'gap':>6}  top topic to automate"
    )
    for cid in result.customers:
        s = read_published(store, "scores", result.as_of, cid).row(0, named=True)
        topics = read_published(store, "topics", result.as_of, cid).sort("rank")
        top = topics.row(0, named=True)["label"] if topics.height else "-"
        print(
            f"  {cid:<18} {s['conversations']:>6} {_num(s['handle_time_hours'], '.1f'):>7} {_interval(s, 'automation_potential'):>24}"
            f" {_num(s['automation_potential_hours_per_month'], '.0f'):>8} {_pct(s['automation_potential_volume']).strip():>9}"
            f" {_pct(s['current_automation_rate']).strip():>8} {_pct(s['automation_gap']).strip():>6}  {top[:40]}"
        )
    print("  potential = share of agent hours automation can remove; current and gap are by conversation count.")
    print("  the interval is 90%: the tier model's uncertainty on topics nobody has reviewed (taxonomy review narrows it).")
    for cid, why in result.failed.items():
        print(f"  {cid:<20} FAILED: {why}")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    print(f"  stage times: {timing}")
