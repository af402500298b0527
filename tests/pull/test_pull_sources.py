"""The sources file and credentials: validation, env/Airflow forms, nothing secret in reprs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from taxonomy.pull.sources import Credentials, credentials_from_env, ingest_options, load_sources
from taxonomy.errors import TaxonomyError
from taxonomy.pull import extract_for_interval, pull_customer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sources.yaml"


def write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_example_file_is_valid() -> None:
    sources = load_sources(str(EXAMPLE))
    assert {k: (s.platform, s.conn_id) for k, s in sources.items()} == {
        "acme": ("zendesk", "zendesk_acme"),
        "globex": ("intercom", "intercom_globex"),
    }
    assert ingest_options(str(EXAMPLE), "acme") == {"zendesk.handle_time_field": "360012345678"}
    assert ingest_options(str(EXAMPLE), "globex") == {} and ingest_options(str(EXAMPLE), "nobody") == {}


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"platform": "freshdesk", "conn_id": "c"}, "customers.acme.platform", "platform must be one of"),
        ({"platform": "intercom"}, "customers.acme.conn_id", "Airflow Connection id"),
        (
            {"platform": "intercom", "conn_id": "c", "options": {"api_token": "abc"}},
            "customers.acme.options.api_token",
            "credentials never go in the sources file",
        ),
        ({"platform": "intercom", "conn_id": "c", "password": "x"}, "customers.acme.password", "credentials never go"),
        ({"platform": "zendesk", "conn_id": "c"}, "customers.acme.options.subdomain", "needs options.subdomain"),
        (
            {"platform": "zendesk", "conn_id": "c", "options": {"subdomain": "a.b/c"}},
            "customers.acme.options.subdomain",
            "not a Zendesk",
        ),
        (
            {"platform": "intercom", "conn_id": "c", "options": {"per_page": 500}},
            "customers.acme.options.per_page",
            "1..150",
        ),
        (
            {"platform": "intercom", "conn_id": "c", "options": {"per_page": "10"}},
            "customers.acme.options.per_page",
            "wrong type",
        ),
        (
            {"platform": "intercom", "conn_id": "c", "options": {"colour": "red"}},
            "customers.acme.options.colour",
            "unknown key",
        ),
        ("intercom", "customers.acme", "expected a mapping"),
    ],
)
def test_bad_entries_name_file_and_field(tmp_path: Path, entry: object, field: str, message: str) -> None:
    path = write(tmp_path, {"customers": {"acme": entry}})
    with pytest.raises(TaxonomyError, match=message) as err:
        load_sources(path)
    assert err.value.file == path and err.value.field == field
    assert "abc" not in str(err.value)


@pytest.mark.parametrize(
    "doc", ["customers: [a, b]", "just text", "{", {"customers": {"../etc": {}}}, {"customers": {}, "x": 1}]
)
def test_bad_files_are_user_errors(tmp_path: Path, doc: object) -> None:
    with pytest.raises(TaxonomyError) as err:
        load_sources(write(tmp_path, doc))
    assert err.value.file


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="not found"):
        load_sources(str(tmp_path / "nope.yaml"))


def test_credentials_from_airflow_env_forms() -> None:
    as_json = json.dumps(
        {
            "conn_type": "http",
            "login": "a@b.com",
            "password": "s3cr3t",
            "host": "acme.zendesk.com",
            "extra": {"auth": "oauth"},
        }
    )
    creds = credentials_from_env("zendesk_acme", {"AIRFLOW_CONN_ZENDESK_ACME": as_json})
    assert (creds.secret, creds.login, creds.host, creds.extra) == (
        "s3cr3t",
        "a@b.com",
        "https://acme.zendesk.com",
        {"auth": "oauth"},
    )
    uri = "http://agent%40acme.com:p%2Fss@127.0.0.1:8080/?auth=token"
    creds = credentials_from_env("zd", {"AIRFLOW_CONN_ZD": uri})
    assert (creds.secret, creds.login, creds.host) == ("p/ss", "agent@acme.com", "https://127.0.0.1:8080")
    assert "s3cr3t" not in repr(creds) and "p/ss" not in str(creds)


def test_missing_or_empty_credentials_say_where_to_put_them() -> None:
    with pytest.raises(TaxonomyError, match="AIRFLOW_CONN_INTERCOM_X"):
        credentials_from_env("intercom_x", {})
    with pytest.raises(TaxonomyError, match="no password/token"):
        credentials_from_env("x", {"AIRFLOW_CONN_X": json.dumps({"login": "a"})})
    with pytest.raises(TaxonomyError, match="neither Airflow connection JSON"):
        credentials_from_env("x", {"AIRFLOW_CONN_X": "not a uri"})


def test_extract_without_api_source_falls_back(tmp_path: Path) -> None:
    assert extract_for_interval("acme", date(2026, 11, 24), str(tmp_path), None) is None


def test_extract_for_customer_without_source_returns_none(tmp_path: Path) -> None:
    assert extract_for_interval("initech", date(2026, 11, 24), str(tmp_path), str(EXAMPLE)) is None


def test_pull_argument_errors(tmp_path: Path) -> None:
    creds = Credentials(secret="x")
    with pytest.raises(TaxonomyError, match="before --start"):
        pull_customer(
            "globex", date(2026, 11, 2), date(2026, 11, 1), str(tmp_path), sources_file=str(EXAMPLE), credentials=creds
        )
    with pytest.raises(TaxonomyError, match="no API source"):
        pull_customer(
            "initech", date(2026, 11, 1), date(2026, 11, 1), str(tmp_path), sources_file=str(EXAMPLE), credentials=creds
        )
    with pytest.raises(TaxonomyError, match="invalid customer id"):
        pull_customer(
            "../x", date(2026, 11, 1), date(2026, 11, 1), str(tmp_path), sources_file=str(EXAMPLE), credentials=creds
        )
    with pytest.raises(TaxonomyError, match="has not begun"):
        pull_customer(
            "globex", date(2099, 1, 1), date(2099, 1, 1), str(tmp_path), sources_file=str(EXAMPLE), credentials=creds
        )


def test_numeric_customer_ids_are_read_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "customers:\n  12345:\n    platform: intercom\n    conn_id: ic\n")
    assert load_sources(path)["12345"].customer_id == "12345"
