"""CSM report pages: bytes per customer page and time until every chart is drawn, in headless Chromium.

Run from the repository root (needs Debian's chromium, see scripts/install_chromium.sh)::

    .venv/bin/python -m benchmarks.report_pages            # ~1-2 min on 2 cores

It runs the bundled sample (``examples/landing``, ``examples/config.yaml``; the hashing embedder,
since page weight and drawing do not depend on the vectors) with ``taxonomy run`` and renders the
pages with ``taxonomy report`` (timed). Two variants of every customer page are then opened side by
side, interleaved, ``--rounds`` times each, each load in a fresh tab of one headless Chromium:

- ``shared``: the page as rendered, loading plotly.js from ``reports/_assets/`` (issue 15);
- ``inline``: the same page with plotly.js inlined and hash-pinned in its CSP, as every page was
  before issue 15 (byte for byte the former layout: same bundle, same charts).

Recorded per page and variant: the page's bytes, the bytes of the files it loads beside it, and the
milliseconds from navigation start to the first frame in which every chart has drawn its bars
(``performance.now()`` in the page). Writes ``benchmarks/results/report_pages.{json,md}``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["plotly", "jinja2", "polars"]
DRAWN_AT = """new Promise(resolve => {
  const drawn = () => {
    const charts = [...document.querySelectorAll('.plotly-graph-div')];
    return charts.length > 0 && charts.every(gd => gd.querySelector('svg.main-svg') &&
      gd.querySelectorAll('g.trace.bars path').length > 0);
  };
  const tick = () => drawn() ? resolve(performance.now()) : requestAnimationFrame(tick);
  tick();
})"""


def build_pages(workdir: Path) -> tuple[list[Path], float]:
    """Run the bundled sample and render its pages; return the customer pages and the render seconds."""
    from taxonomy.config import load_config
    from taxonomy.pipeline import run
    from taxonomy.report import render_reports

    cfg = load_config(str(REPO / "examples" / "config.yaml"), embedding_backend="hashing")
    run(str(REPO / "examples" / "landing"), str(workdir), config=cfg, progress=False)
    start = time.perf_counter()
    uris = render_reports(str(workdir))
    return [Path(u) for u in uris[:-1]], time.perf_counter() - start


def inline_variant(page: Path) -> Path:
    """A copy of ``page`` with plotly.js inlined (the layout before issue 15), beside it."""
    from taxonomy.report.charts import SCRIPT_RE, plotly_asset, with_csp

    html = page.read_text(encoding="utf-8")
    name, data = plotly_asset()
    bundle = data.decode("utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "<!--CSP-->", html, count=1)
    html = html.replace(f'<script src="../../_assets/{name}"></script>', f"<script>{bundle}</script>", 1)
    out = page.with_name("index-inline.html")
    out.write_text(with_csp(html, SCRIPT_RE.findall(html)), encoding="utf-8")
    return out


def measure(pages: list[Path], rounds: int) -> list[dict[str, Any]]:
    """Bytes and drawing times of each page in both variants (``rounds`` fresh tabs each, interleaved)."""
    sys.path.insert(0, str(REPO))
    from tests.browser import Chromium

    variants = {(p, v): (p if v == "shared" else inline_variant(p)) for p in pages for v in ("shared", "inline")}
    times: dict[tuple[Path, str], list[float]] = {k: [] for k in variants}
    loaded: dict[tuple[Path, str], list[str]] = {}
    with Chromium() as browser:
        for i in range(rounds):
            order = list(variants) if i % 2 == 0 else list(reversed(variants))
            for key in order:
                page = browser.open_page(variants[key].as_uri())
                try:
                    times[key].append(float(page.evaluate(DRAWN_AT)))
                    loaded[key] = [u for u in page.requests() if u != variants[key].as_uri()]
                    if page.errors():
                        raise RuntimeError(f"{variants[key]}: {page.errors()}")
                finally:
                    page.close()
    rows = []
    for (page_path, variant), path in variants.items():
        assets = [Path(u.removeprefix("file://")) for u in loaded[(page_path, variant)] if u.startswith("file://")]
        rows.append({
            "page": page_path.parent.name.removeprefix("customer_id="), "variant": variant,
            "page_bytes": path.stat().st_size, "loaded_beside_bytes": sum(a.stat().st_size for a in assets),
            "loaded_beside": [a.name for a in assets], "drawn_ms": times[(page_path, variant)],
            "drawn_ms_median": statistics.median(times[(page_path, variant)]),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="loads of each page and variant (default: 7)")
    args = parser.parse_args(argv)

    info = machine(PACKAGES)
    with tempfile.TemporaryDirectory(prefix="report-pages-") as tmp:
        pages, render_s = build_pages(Path(tmp))
        rows = measure(pages, args.rounds)
    data = {"machine": stamp_end(info), "render_seconds": render_s, "rounds": args.rounds, "pages": rows}
    table = [[r["page"], r["variant"], r["page_bytes"], r["loaded_beside_bytes"], round(r["drawn_ms_median"]),
              round(min(r["drawn_ms"]))] for r in sorted(rows, key=lambda r: (r["page"], r["variant"] != "inline"))]
    med = {v: statistics.median(x for r in rows if r["variant"] == v for x in r["drawn_ms"]) for v in ("inline", "shared")}
    size = {v: statistics.median(r["page_bytes"] for r in rows if r["variant"] == v) for v in ("inline", "shared")}
    markdown = "\n".join([
        "# Report pages: weight and drawing time", "",
        "Bundled sample (hashing embedder), every customer page in two variants, loaded interleaved in fresh tabs "
        "of one headless Chromium (file://, no network): `inline` = plotly.js inside every page (before issue 15), "
        "`shared` = plotly.js in one file in `reports/_assets/` (issue 15). drawn ms: navigation start to the "
        "first frame with every chart's bars drawn.", "",
        markdown_table(["page", "variant", "page bytes", "loaded beside (bytes)", "drawn ms (median)",
                        "drawn ms (fastest)"], table), "",
        f"Median page: {size['inline']:,.0f} -> {size['shared']:,.0f} bytes "
        f"({size['inline'] / size['shared']:.0f}x lighter). Median time to every chart drawn: "
        f"{med['inline']:.0f} -> {med['shared']:.0f} ms ({args.rounds} rounds). "
        f"Rendering all {len(pages)} customer pages and the portfolio took {render_s:.2f} s.", "",
        machine_markdown(data["machine"]),
    ])
    json_path, md_path = write_results("report_pages", data, markdown)
    print(markdown)
    print(f"\nwrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
