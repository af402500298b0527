"""The sources file (which customer pulls from which platform) and credentials.

A sources file is YAML (see ``examples/sources.yaml``)::

    customers:
      acme:                        # customer id (the landing folder name)
        platform: zendesk          # intercom | zendesk
        conn_id: zendesk_acme      # Airflow Connection id holding the credentials
        options:
          subdomain: acme          # -> https://acme.zendesk.com
          handle_time_field: 360012345678

It never holds a credential: keys that look like one are refused. Credentials come
from the Airflow Connection ``conn_id`` (inside a task) or, for the CLI, from the
environment variable ``AIRFLOW_CONN_<CONN_ID>`` in Airflow's own JSON or URI form,
which Airflow itself also reads, so one definition serves both.

Connection fields used: Intercom: ``password`` = access token, ``host`` = optional
API base URL. Zendesk: ``login`` = agent e-mail and ``password`` = API token (basic
auth ``{email}/token:{token}``), or no login (or extra ``{"auth": "oauth"}``) and
``password`` = OAuth access token; ``host`` = optional base URL.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from taxonomy.errors import TaxonomyError
from taxonomy.storage import validate_customer_id

PLATFORMS = ("intercom", "zendesk")
CONN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
OPTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "intercom": {"api_version": str, "region": str, "base_url": str, "per_page": int, "fetch_parts": str},
    "zendesk": {
        "subdomain": str,
        "base_url": str,
        "per_page": int,
        "include_metric_sets": bool,
        "exclude_deleted": bool,
        "handle_time_field": (int, str),
        "handle_time_metric": str,
        "automated_tags": str,
        "human_tags": str,
    },
}
# Source options the ingestion reader understands, under its own names (formats_vendor.OPTION_KEYS).
INGEST_OPTION_NAMES = {
    "handle_time_field": "zendesk.handle_time_field",
    "handle_time_metric": "zendesk.handle_time_metric",
    "automated_tags": "zendesk.automated_tags",
    "human_tags": "zendesk.human_tags",
}
_SECRET_WORDS = re.compile(r"(?i)token|secret|passw|api_?key|credential|auth")


@dataclass(frozen=True)
class Source:
    """One customer's API source."""

    customer_id: str
    platform: str
    conn_id: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Credentials:
    """What a connection holds; ``secret`` never appears in ``repr`` or ``str``.

    Args:
        secret: The access token (Intercom), API token or OAuth token (Zendesk).
        login: Zendesk agent e-mail for API-token auth; None for bearer auth.
        host: Base URL override from the connection (``https://...``), if any.
        extra: The connection's extra fields (e.g. ``{"auth": "oauth"}``).
    """

    secret: str = field(repr=False)
    login: str | None = None
    host: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return repr(self)


def load_sources(path: str) -> dict[str, Source]:
    """Read and validate a sources file.

    Raises:
        TaxonomyError: naming the file and the offending field.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise TaxonomyError("sources file not found", file=path) from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"cannot read sources file ({type(exc).__name__})", file=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("customers"), dict):
        raise TaxonomyError("expected a mapping with a 'customers' mapping", file=path, field="customers")
    unknown = set(doc) - {"customers"}
    if unknown:
        raise TaxonomyError("unknown top-level key", file=path, field=sorted(unknown)[0])
    sources = [_source(path, cid, entry) for cid, entry in doc["customers"].items()]
    return {s.customer_id: s for s in sources}


def _source(path: str, cid: Any, entry: Any) -> Source:
    where = f"customers.{cid}"
    if isinstance(cid, int) and not isinstance(cid, bool):
        cid = str(cid)  # YAML reads an unquoted 12345 as a number
    validate_customer_id(cid, file=path)
    if not isinstance(entry, dict):
        raise TaxonomyError("expected a mapping with platform, conn_id and options", file=path, field=where)
    for key in entry:
        if key not in ("platform", "conn_id", "options"):
            raise TaxonomyError(_unknown_key_message(key), file=path, field=f"{where}.{key}")
    platform = entry.get("platform")
    if platform not in PLATFORMS:
        raise TaxonomyError(
            f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}", file=path, field=f"{where}.platform"
        )
    conn_id = entry.get("conn_id")
    if not isinstance(conn_id, str) or not CONN_ID_PATTERN.fullmatch(conn_id):
        raise TaxonomyError(
            "conn_id must be an Airflow Connection id (letters, digits, '_', '.', '-')",
            file=path,
            field=f"{where}.conn_id",
        )
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise TaxonomyError("options must be a mapping", file=path, field=f"{where}.options")
    allowed = OPTIONS[platform]
    for key, value in options.items():
        name = f"{where}.options.{key}"
        if key not in allowed:
            raise TaxonomyError(_unknown_key_message(key, allowed), file=path, field=name)
        if not isinstance(value, allowed[key]) or (isinstance(value, bool) and allowed[key] is int):
            raise TaxonomyError(f"wrong type {type(value).__name__}", file=path, field=name)
    _check_values(path, where, platform, options)
    return Source(cid, platform, conn_id, dict(options))


def _unknown_key_message(key: Any, allowed: dict[str, Any] | None = None) -> str:
    if _SECRET_WORDS.search(str(key)):
        return "credentials never go in the sources file: put them in the Airflow Connection named by conn_id"
    known = f" (known: {', '.join(sorted(allowed))})" if allowed else ""
    return f"unknown key{known}"


def _check_values(path: str, where: str, platform: str, options: dict[str, Any]) -> None:
    opt = f"{where}.options"
    if platform == "zendesk" and not options.get("subdomain") and not options.get("base_url"):
        raise TaxonomyError(
            "a Zendesk source needs options.subdomain (or options.base_url)", file=path, field=f"{opt}.subdomain"
        )
    if "subdomain" in options and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", str(options["subdomain"])):
        raise TaxonomyError(
            "not a Zendesk subdomain (just 'acme' for acme.zendesk.com)", file=path, field=f"{opt}.subdomain"
        )
    if "base_url" in options and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?/?", str(options["base_url"])):
        raise TaxonomyError("base_url must look like https://host[:port]", file=path, field=f"{opt}.base_url")
    if "region" in options and options["region"] not in ("us", "eu", "au"):
        raise TaxonomyError("region must be us, eu or au", file=path, field=f"{opt}.region")
    if "fetch_parts" in options and options["fetch_parts"] not in ("auto", "always", "never"):
        raise TaxonomyError("fetch_parts must be auto, always or never", file=path, field=f"{opt}.fetch_parts")
    if "api_version" in options and not re.fullmatch(r"\d+\.\d+|Unstable", options["api_version"]):
        raise TaxonomyError("api_version looks like '2.14'", file=path, field=f"{opt}.api_version")
    limit = 150 if platform == "intercom" else 1000
    if "per_page" in options and not 1 <= options["per_page"] <= limit:
        raise TaxonomyError(f"per_page must be 1..{limit}", file=path, field=f"{opt}.per_page")
    if "handle_time_field" in options and not str(options["handle_time_field"]).isdigit():
        raise TaxonomyError(
            "handle_time_field is the numeric id of a Zendesk custom field", file=path, field=f"{opt}.handle_time_field"
        )


def get_source(sources_file: str, customer_id: str) -> Source | None:
    """The customer's source, or None when the file has no entry for it."""
    return load_sources(sources_file).get(validate_customer_id(customer_id))


def ingest_options(sources_file: str, customer_id: str) -> dict[str, str]:
    """Options for :func:`taxonomy.ingest.files.ingest` implied by the customer's source (may be empty)."""
    source = get_source(sources_file, customer_id)
    if source is None:
        return {}
    return {INGEST_OPTION_NAMES[k]: str(v) for k, v in source.options.items() if k in INGEST_OPTION_NAMES}


# -- credentials -------------------------------------------------------------------------------
def credentials_from_env(conn_id: str, environ: dict[str, str] | None = None) -> Credentials:
    """Credentials from ``AIRFLOW_CONN_<CONN_ID>`` (Airflow's JSON or URI form), for the CLI.

    Raises:
        TaxonomyError: the variable is missing or unreadable (the message never quotes it).
    """
    env = os.environ if environ is None else environ
    name = "AIRFLOW_CONN_" + conn_id.upper()
    value = env.get(name)
    if not value:
        raise TaxonomyError(
            f"no credentials: set the environment variable {name} (Airflow connection "
            "JSON or URI) or define Airflow Connection " + repr(conn_id),
            field="conn_id",
        )
    try:
        fields = json.loads(value) if value.lstrip().startswith("{") else _uri_fields(value)
    except ValueError:
        raise TaxonomyError(
            f"{name} is neither Airflow connection JSON nor a connection URI", field="conn_id"
        ) from None
    return _credentials(fields, name)


def credentials_from_airflow(conn_id: str) -> Credentials:
    """Credentials from the Airflow Connection ``conn_id``; call only inside a running task."""
    from airflow.sdk import BaseHook  # lazy: keeps Airflow out of the CLI and of DAG parsing

    conn = BaseHook.get_connection(conn_id)
    return _credentials(
        {
            "login": conn.login,
            "password": conn.password,
            "host": conn.host,
            "port": conn.port,
            "extra": conn.extra_dejson,
        },
        f"Airflow Connection {conn_id!r}",
    )


def _uri_fields(uri: str) -> dict[str, Any]:
    parts = urlsplit(uri)
    if not parts.scheme:
        raise ValueError("not a URI")
    extra = dict(parse_qsl(parts.query))
    if "__extra__" in extra:
        extra = json.loads(extra["__extra__"])
    return {
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "host": unquote(parts.hostname) if parts.hostname else None,
        "port": parts.port,
        "extra": extra,
    }


def _credentials(fields: dict[str, Any], where: str) -> Credentials:
    extra = fields.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    secret = fields.get("password") or extra.get("token") or extra.get("access_token")
    if not secret:
        raise TaxonomyError(f"{where} has no password/token", field="password")
    host = fields.get("host") or None
    if host and "://" not in host:
        port = fields.get("port")
        host = f"https://{host}" + (f":{port}" if port else "")
    return Credentials(secret=str(secret), login=fields.get("login") or None, host=host, extra=dict(extra))
