"""HTTP with retries for the vendor connectors: rate limits, 5xx, timeouts.

One :class:`HttpClient` per pull. It

- honours ``Retry-After`` on HTTP 429 (and 503), in seconds or as an HTTP date;
- retries 5xx answers, timeouts and dropped connections with exponential backoff
  and full jitter, at most ``RetryPolicy.max_attempts`` tries per request;
- fails at once on other 4xx answers (bad credentials, unknown subdomain) and on a
  body that is not JSON, since repeating those cannot help;
- raises :class:`~taxonomy.errors.TaxonomyError` with the vendor, URL path and
  status, never a header, a token or more than a short, redacted bit of body.

``sleep`` and ``clock`` are injectable so tests run in milliseconds.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from taxonomy.errors import TaxonomyError
from taxonomy.redact import redact_text

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    Args:
        max_attempts: Tries per request, the first included.
        backoff_base: Seconds before the first retry; doubles each retry.
        backoff_max: Ceiling of one backoff wait.
        retry_after_max: Longest ``Retry-After`` obeyed; a longer one fails the pull
            (better to fail the task and let the scheduler retry than hold a worker).
        connect_timeout: Seconds to open a connection.
        read_timeout: Seconds to wait for the server between bytes.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 900.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass
class HttpStats:
    """What one client did, for the pull summary."""

    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0


@dataclass
class HttpClient:
    """A JSON-over-HTTP client with retries; see the module docstring.

    Args:
        vendor: Name for messages (``Intercom``, ``Zendesk``).
        headers: Sent with every request (authentication included; never logged).
        policy: Retry and timeout settings.
        sleep: Waits between tries (``time.sleep``; tests pass a recorder).
        secrets: Strings scrubbed from any message this client builds.
    """

    vendor: str
    headers: dict[str, str] = field(repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    secrets: tuple[str, ...] = field(default=(), repr=False)
    stats: HttpStats = field(default_factory=HttpStats)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.headers.update(self.headers)
        # An explicit (no-op) auth stops requests from replacing our Authorization header with
        # ~/.netrc credentials; proxy settings from the environment still apply.
        self._session.auth = _keep_headers

    def close(self) -> None:
        """Release the connection pool."""
        self._session.close()

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, str]:
        """GET ``url`` and return ``(parsed JSON, response text)``."""
        return self._request("GET", url, params=params)

    def post_json(self, url: str, body: dict[str, Any]) -> tuple[Any, str]:
        """POST a JSON ``body`` to ``url`` and return ``(parsed JSON, response text)``."""
        return self._request("POST", url, json_body=body)

    def _request(
        self, method: str, url: str, *, params: dict[str, Any] | None = None, json_body: dict[str, Any] | None = None
    ) -> tuple[Any, str]:
        where = urlsplit(url).path or "/"
        last = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            self.stats.requests += 1
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"{type(exc).__name__} (no answer within {self.policy.read_timeout:g}s or connection lost)"
                wait = self._backoff(attempt)
            else:
                if resp.status_code < 300:
                    return self._parse(resp, where), resp.text
                if resp.status_code not in RETRY_STATUSES:
                    raise self._error(
                        f"HTTP {resp.status_code} from {method} {where}{_hint(resp.status_code)}: "
                        f"{self._snippet(resp.text)}",
                        url,
                    )
                last = f"HTTP {resp.status_code}"
                asked = self._retry_after(resp, where) if resp.status_code in (429, 503) else None
                wait = self._backoff(attempt) if asked is None else asked
            if attempt == self.policy.max_attempts:
                break
            self.stats.retries += 1
            self.stats.waited_seconds += wait
            log.warning(
                "%s %s %s: %s; retry %d/%d in %.1fs",
                self.vendor,
                method,
                where,
                last,
                attempt,
                self.policy.max_attempts - 1,
                wait,
            )
            self.sleep(wait)
        raise self._error(f"{method} {where} failed after {self.policy.max_attempts} attempts; last: {last}", url)

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of many tasks hitting the same vendor at once.
        ceiling = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def _retry_after(self, resp: requests.Response, where: str) -> float | None:
        value = resp.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
            if parsed is None:
                return None
            seconds = parsed.timestamp() - time.time()
        seconds = max(0.0, seconds)
        if seconds > self.policy.retry_after_max:
            raise self._error(
                f"{where}: rate limited, and Retry-After asks for {seconds:.0f}s "
                f"(more than {self.policy.retry_after_max:.0f}s); try again later",
                resp.url,
            )
        return seconds

    def _parse(self, resp: requests.Response, where: str) -> Any:
        try:
            return json.loads(resp.text)
        except json.JSONDecodeError as exc:
            raise self._error(
                f"{where} returned a body that is not valid JSON ({exc.msg} at char {exc.pos} of "
                f"{len(resp.text)}; truncated or not an API answer); nothing was landed",
                resp.url,
            ) from None

    def _snippet(self, text: str) -> str:
        return self._scrub(redact_text(" ".join(text.split())[:200])) or "(empty body)"

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _error(self, message: str, url: str) -> TaxonomyError:
        parts = urlsplit(url)
        return TaxonomyError(
            self._scrub(f"{self.vendor}: {message}"), file=self._scrub(f"{parts.scheme}://{parts.netloc}{parts.path}")
        )


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _hint(status: int) -> str:
    return {
        401: " (the connection's token or login was refused)",
        403: " (the token lacks permission to read conversations)",
        404: " (wrong subdomain/region or API path)",
    }.get(status, "")
