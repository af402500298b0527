"""Intercom: conversations updated in an interval, page by page.

``POST /conversations/search`` with ``updated_at > start - 1 AND updated_at < end``
(Intercom search offers only strict ``>``/``<`` on timestamps; with day-aligned
intervals the filter is also right if Intercom compares at day granularity, as it
documents for contact search), ``pagination: {per_page, starting_after}`` and the
next cursor from ``pages.next.starting_after``. Headers: ``Authorization: Bearer``,
``Intercom-Version`` pinned (default :data:`API_VERSION`, per source
``options.api_version``).

Conversation parts: a search result has no ``conversation_parts``, and its
``source.body`` is empty when the conversation did not open with a customer
message in the usual way. With ``options.fetch_parts``: ``auto`` (default) fetches
``GET /conversations/{id}`` for those conversations and for ones without
``statistics``; ``always`` for every conversation (full transcripts, one request
each); ``never`` not at all. A fetched conversation replaces its search-result
entry in the landed page (it is a superset of it), so each conversation appears
once per page and the readers need nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from taxonomy.pull.http import HttpClient, RetryPolicy
from taxonomy.pull.sources import Credentials, Source
from taxonomy.errors import TaxonomyError

API_VERSION = "2.14"  # the current REST API reference version when this was written (Nov 2026)
BASE_URLS = {"us": "https://api.intercom.io", "eu": "https://api.eu.intercom.io", "au": "https://api.au.intercom.io"}
MAX_PAGES = 100_000


def client(source: Source, creds: Credentials, policy: RetryPolicy, sleep: Any) -> HttpClient:
    """An HTTP client authenticated for ``source``."""
    headers = {
        "Authorization": f"Bearer {creds.secret}",
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Intercom-Version": str(source.options.get("api_version", API_VERSION)),
    }
    return HttpClient("Intercom", headers, policy, sleep, secrets=(creds.secret,))


def base_url(source: Source, creds: Credentials) -> str:
    """Sources-file ``base_url``, else the connection's host, else the region's API host."""
    url = source.options.get("base_url") or creds.host or BASE_URLS[source.options.get("region", "us")]
    return url.rstrip("/")


def pages(http: HttpClient, base: str, source: Source, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Yield each search page for conversations updated in ``[start, end)``, parts filled in as configured."""
    per_page = int(source.options.get("per_page", 150))
    fetch = source.options.get("fetch_parts", "auto")
    query = {
        "operator": "AND",
        "value": [
            {"field": "updated_at", "operator": ">", "value": int(start.timestamp()) - 1},
            {"field": "updated_at", "operator": "<", "value": int(end.timestamp())},
        ],
    }
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        pagination: dict[str, Any] = {"per_page": per_page}
        if cursor:
            pagination["starting_after"] = cursor
        page, _text = http.post_json(f"{base}/conversations/search", {"query": query, "pagination": pagination})
        convs = _conversations(page, base)
        if fetch != "never":
            page["conversations"] = [_with_parts(http, base, c) if _needs_parts(c, fetch) else c for c in convs]
        yield page
        cursor = _next_cursor(page)
        if not cursor:
            return
        if cursor in seen:
            raise TaxonomyError(
                "Intercom returned the same page cursor twice; stopping instead of looping",
                file=f"{base}/conversations/search",
            )
        seen.add(cursor)
    raise TaxonomyError(
        f"more than {MAX_PAGES} pages for one day; narrow the interval", file=f"{base}/conversations/search"
    )


def _conversations(page: Any, base: str) -> list[Any]:
    if not isinstance(page, dict) or not isinstance(page.get("conversations"), list):
        raise TaxonomyError(
            "unexpected answer: no 'conversations' list (is this the Intercom API?)",
            file=f"{base}/conversations/search",
        )
    return page["conversations"]


def _next_cursor(page: dict[str, Any]) -> str | None:
    pages_obj = page.get("pages")
    nxt = pages_obj.get("next") if isinstance(pages_obj, dict) else None
    cursor = nxt.get("starting_after") if isinstance(nxt, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


def _needs_parts(conv: Any, fetch: str) -> bool:
    if not isinstance(conv, dict) or not conv.get("id"):
        return False
    if fetch == "always":
        return True
    source = conv.get("source")
    body = source.get("body") if isinstance(source, dict) else None
    return not (isinstance(body, str) and body.strip()) or not isinstance(conv.get("statistics"), dict)


def _with_parts(http: HttpClient, base: str, conv: dict[str, Any]) -> dict[str, Any]:
    full, _text = http.get_json(f"{base}/conversations/{conv['id']}")
    if not isinstance(full, dict) or str(full.get("id")) != str(conv["id"]):
        raise TaxonomyError(f"unexpected answer for conversation {conv['id']}", file=f"{base}/conversations/{{id}}")
    return full
