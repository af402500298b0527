"""Stage 6, report: published ``scores/``, ``topics/`` and ``trends/`` in, CSM HTML pages out.

One page per customer and a portfolio page, light (plotly.js is one shared file in ``reports/_assets/``)
and offline (no network at view time).

- :mod:`~taxonomy.report.pages`: what each page shows, read from the published datasets.
- :mod:`~taxonomy.report.charts`: Plotly charts, the shared plotly.js file, the Jinja2 environment and the CSP.
- :mod:`~taxonomy.report.export`: one customer's tables as a spreadsheet (``taxonomy export``).
- ``templates/``: the Jinja2 templates.
"""

from __future__ import annotations

from taxonomy.report.context import describe_rates_source, hours_to_win, portfolio_rows
from taxonomy.report.pages import render_reports

__all__ = ["describe_rates_source", "hours_to_win", "portfolio_rows", "render_reports"]
