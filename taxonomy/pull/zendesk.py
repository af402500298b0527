"""Zendesk: the cursor-based Incremental Ticket Export, page by page.

``GET /api/v2/incremental/tickets/cursor.json?start_time=<epoch>`` then
``?cursor=<after_cursor>`` until ``end_of_stream`` is true. The export has no end
time: it returns every ticket changed since ``start_time`` (ordered by
``generated_timestamp``), up to a minute before the request. We stop once a page
reaches past the interval's end, so a day's file holds whole API pages and its
last page may carry tickets changed shortly after that day (they come again in
the next day's file; ingestion keeps the latest update of a ticket).

Options: ``per_page`` (max 1000), ``include_metric_sets`` (sideload
``metric_sets``; on by default when ``handle_time_metric`` is set) and
``exclude_deleted``. The handle-time custom field needs no extra request: custom
field values are part of every ticket. Authentication: basic
``{email}/token:{api_token}`` when the connection has a login, else OAuth bearer.
The endpoint allows 10 requests a minute; 429 answers carry ``Retry-After``,
which the client obeys.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from taxonomy.pull.http import HttpClient, RetryPolicy
from taxonomy.pull.sources import Credentials, Source
from taxonomy.errors import TaxonomyError

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
MAX_PAGES = 100_000


def client(source: Source, creds: Credentials, policy: RetryPolicy, sleep: Any) -> HttpClient:
    """An HTTP client authenticated for ``source``."""
    secrets: tuple[str, ...]
    if creds.login and creds.extra.get("auth") != "oauth":
        token = base64.b64encode(f"{creds.login}/token:{creds.secret}".encode()).decode()
        auth = f"Basic {token}"
        secrets = (creds.secret, token)
    else:
        auth, secrets = f"Bearer {creds.secret}", (creds.secret,)
    return HttpClient("Zendesk", {"Authorization": auth, "Accept": "application/json"}, policy, sleep, secrets=secrets)


def base_url(source: Source, creds: Credentials) -> str:
    """Sources-file ``base_url``, else the connection's host, else ``https://<subdomain>.zendesk.com``."""
    url = source.options.get("base_url") or creds.host or f"https://{source.options['subdomain']}.zendesk.com"
    return url.rstrip("/")


def pages(http: HttpClient, base: str, source: Source, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Yield each export page from ``start`` until the stream ends or passes ``end``."""
    url = base + EXPORT_PATH
    opts = source.options
    common: dict[str, Any] = {"per_page": int(opts.get("per_page", 1000))}
    if opts.get("include_metric_sets", bool(opts.get("handle_time_metric"))):
        common["include"] = "metric_sets"
    if opts.get("exclude_deleted"):
        common["exclude_deleted"] = "true"
    params: dict[str, Any] = {"start_time": int(start.timestamp()), **common}
    end_epoch = int(end.timestamp())
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page, _text = http.get_json(url, params=params)
        if not isinstance(page, dict) or not isinstance(page.get("tickets"), list) or "end_of_stream" not in page:
            raise TaxonomyError(
                "unexpected answer: no 'tickets' list or 'end_of_stream' (is this the Zendesk API?)", file=url
            )
        yield page
        cursor = page.get("after_cursor")
        if page["end_of_stream"] or not cursor or _past(page["tickets"], end_epoch):
            return
        if cursor in seen:
            raise TaxonomyError("Zendesk returned the same after_cursor twice; stopping instead of looping", file=url)
        seen.add(cursor)
        params = {"cursor": cursor, **common}
    raise TaxonomyError(f"more than {MAX_PAGES} pages for one day; narrow the interval", file=url)


def _past(tickets: list[Any], end_epoch: int) -> bool:
    """Whether the page's last ticket changed at or after ``end_epoch``."""
    if not tickets or not isinstance(tickets[-1], dict):
        return False
    stamp = tickets[-1].get("generated_timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return stamp >= end_epoch
    updated = tickets[-1].get("updated_at")
    try:
        return datetime.fromisoformat(str(updated).replace("Z", "+00:00")).timestamp() >= end_epoch
    except ValueError:
        return False
