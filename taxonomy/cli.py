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
from typing import TYPE_CHECKING

from taxonomy.cli_parser import build_parser
from taxonomy.errors import StorageError, TaxonomyError

if TYPE_CHECKING:
    from taxonomy.pipeline import RunResult


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
        from taxonomy.tiers.classify import classify_file, classify_summary

        done = classify_file(args.input, args.output, text_column=args.text_column, queue_column=args.queue_column,
                             alone=args.alone)
        print(classify_summary(done, args.output))
        return 0
    if args.command == "train-tiers":
        from taxonomy.tiers import train_and_save
        from taxonomy.tiers.evaluate import train_summary

        path = train_and_save(version=args.version, models_dir=args.models_dir, reviews_uri=args.reviews)
        print(train_summary(path))
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
    if args.command == "export":
        from taxonomy.report.export import export_customer

        print(export_customer(args.output, args.customer, args.to, as_of=args.as_of, label=args.label))
        return 0
    if args.command == "migrate-layout":
        from taxonomy.storage import Store

        examined, rewritten = Store(args.output).migrate_layout()
        print(f"{examined} partition files examined, {rewritten} rewritten in the Hive layout")
        return 0
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
    except BrokenPipeError:  # the reader went away (`taxonomy show ... | head`): stop quietly, as head's writers do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141


def print_run_summary(result: RunResult) -> None:
    """Print where the outputs are and one line per customer (``taxonomy run``, ``make demo``)."""
    from taxonomy.publish import _clip, _interval, _num, _pct, _pts, read_published
    from taxonomy.storage import Store
    from taxonomy.uncertainty import after_review_held, held_out_check
    from taxonomy.window import window_bounds

    store = Store(result.output, label=result.label)
    first, last = window_bounds(result.as_of, result.window_days)
    print(f"Published as of {result.as_of} (window {first} .. {last}) under {store.uri(store.base)}/")
    print("  datasets: " + ", ".join(f"{name}/ ({len(uris)} partitions)" for name, uris in result.published.items()))
    print(
        f"  {'customer':<18} {'convs':>6} {'hours':>7} {'potential (90%)':>16} {'h/month':>8}"
        f" {'of convs':>9} {'current':>8} {'gap':>8}  top topic to automate"
    )
    versions: list[str] = []
    reviewed: list[str] = []
    for cid in result.customers:
        s = read_published(store, "scores", result.as_of, cid).row(0, named=True)
        if s["model_version"] not in versions:
            versions.append(s["model_version"])
        if s.get("reviewed_hours_share"):
            reviewed.append(f"{cid} {100 * s['reviewed_hours_share']:.0f}%")
        topics = read_published(store, "topics", result.as_of, cid).sort("rank")
        top = topics.row(0, named=True)["label"] if topics.height else "-"
        top = _clip(top, 40)
        print(
            f"  {cid:<18} {s['conversations']:>6} {_num(s['handle_time_hours'], '.1f'):>7} {_interval(s, 'automation_potential'):>16}"
            f" {_num(s['automation_potential_hours_per_month'], '.0f'):>8} {_pct(s['automation_potential_volume'], 0).strip():>9}"
            f" {_pct(s['current_automation_rate']).strip():>8} {_pts(s['automation_gap']):>8}  {top}"
        )
    print("  potential = share of agent hours automation can remove; h/month = those hours a month;")
    print("  of convs = the same share counted in conversations; current (automated today) and gap count conversations too.")
    print("  the interval is 90%: the tier model's uncertainty on topics nobody has reviewed (taxonomy review narrows it).")
    for version in versions:
        check = held_out_check(version)
        if check:
            print(f"  measured on queues from {check['sources']} sources {version} never saw, such intervals held the"
                  f" true hours share in {100 * check['coverage']:.0f}% of {check['checks']} checks.")
        after = held_out_check(version, after_review=True)
        if after and reviewed:
            print(f"  hours reviewed by a person: {', '.join(reviewed)}. On such queues reviewed in full, {after_review_held(after)}.")
    for cid, why in result.failed.items():
        print(f"  {cid:<20} FAILED: {why}")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    print(f"  stage times: {timing}")


if __name__ == "__main__":
    sys.exit(main())
