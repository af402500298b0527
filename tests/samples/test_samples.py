"""The synthetic export generator: determinism, volumes, distributions, vendor shapes, streaming."""

from __future__ import annotations

import csv
import html
import json
import re
import statistics
import tracemalloc
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from taxonomy.samples import generate as samples
from taxonomy.cli import main
from taxonomy.errors import TaxonomyError
from taxonomy.samples.exports import ZENDESK_TIME_SPENT_FIELD
from taxonomy.samples import END_DATE, banking77_path, iter_conversations, plan_counts, write_sample
from taxonomy.schema import CONVERSATION, CUSTOMER_ID_PATTERN, TIERS
from taxonomy.storage import validate_customer_id

REPO = Path(__file__).resolve().parents[2]
FILE_RE = re.compile(r"^(?P<cid>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<name>[^/]+\.(csv|json))$")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _plain(body: str) -> str:
    """What a reader makes of an HTML body: tags dropped, entities decoded, whitespace normalised."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def bundled() -> list[dict]:
    return list(iter_conversations(truth=True))


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("landing") / "root"
    write_sample(str(root), customers=4, conversations=900, days=10, seed=3)
    return root, list(iter_conversations(4, 900, 10, 3))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        write_sample(str(tmp_path / name), customers=5, conversations=700, days=6, seed=seed)
    a, b, c = (_files(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_exact_totals_unique_ids_and_canonical_columns() -> None:
    rows = list(iter_conversations(customers=7, conversations=1234, days=9, seed=5))
    assert len(rows) == 1234
    allowed = set(CONVERSATION) - {"source_file", "source_row"}
    assert all(set(r) == allowed for r in rows)
    per = Counter(r["customer_id"] for r in rows)
    assert len(per) == 7
    assert len({(r["customer_id"], r["conversation_id"]) for r in rows}) == 1234
    assert all(r["text"].strip() for r in rows)


def test_bundled_volume_window_and_industries(bundled: list[dict]) -> None:
    profiles = samples.customer_profiles(5)
    assert {p.industry for p in profiles} == {"fintech", "e-commerce", "saas", "travel"}
    assert {p.fmt for p in profiles} == {"csv", "intercom", "zendesk"}
    assert 5 * 63 * 20 <= len(bundled) <= 9000
    per_day = Counter((r["customer_id"], r["created_at"].date()) for r in bundled)
    assert len(per_day) == 5 * 63
    for p in profiles:
        mean = sum(n for (c, _), n in per_day.items() if c == p.customer_id) / 63
        assert 18 <= mean <= 40, (p.customer_id, mean)
    days = {r["created_at"].date() for r in bundled}
    assert max(days) == END_DATE == date(2026, 11, 22) and (max(days) - min(days)).days == 62


def test_handle_time_medians_per_tier(bundled: list[dict]) -> None:
    by_tier = defaultdict(list)
    for r in bundled:
        if r["handle_time_seconds"] is not None and not r["automated"]:
            by_tier[r["true_tier"]].append(r["handle_time_seconds"] / 60)
    med = {t: statistics.median(v) for t, v in by_tier.items()}
    assert 4.0 <= med["informational"] <= 6.5
    assert 8.0 <= med["personalized"] <= 12.5
    assert 22.0 <= med["action_led"] <= 33.0
    # Skewed: the mean sits above the median, and nothing is absurd.
    assert statistics.mean(by_tier["action_led"]) > 1.1 * med["action_led"]
    assert max(max(v) for v in by_tier.values()) <= 6 * 60


def test_missing_handle_times_only_for_one_customer(bundled: list[dict]) -> None:
    missing = Counter(r["customer_id"] for r in bundled if r["handle_time_seconds"] is None)
    total = Counter(r["customer_id"] for r in bundled)
    assert set(missing) == {"wayfarer"}
    assert 0.01 <= missing["wayfarer"] / total["wayfarer"] <= 0.08


def test_tier_mix_and_automation_differ_by_customer(bundled: list[dict]) -> None:
    share = defaultdict(Counter)
    auto = defaultdict(lambda: defaultdict(list))
    for r in bundled:
        share[r["customer_id"]][r["true_tier"]] += 1
        if r["automated"] is not None:
            auto[r["customer_id"]][r["true_tier"]].append(r["automated"])
    frac = {c: {t: n / sum(cnt.values()) for t, n in cnt.items()} for c, cnt in share.items()}
    assert frac["loopdesk"]["informational"] > frac["acme-bank"]["informational"] + 0.1
    assert frac["acme-bank"]["action_led"] > frac["loopdesk"]["action_led"] + 0.1
    assert set(auto) == {"loopdesk", "wayfarer", "brightcart"}
    for cust in (auto["loopdesk"], auto["wayfarer"]):
        rate = {t: sum(v) / len(v) for t, v in cust.items()}
        assert rate["informational"] > rate["personalized"] > rate["action_led"]
    assert statistics.mean(auto["loopdesk"]["informational"]) > statistics.mean(auto["wayfarer"]["informational"])
    # Automated conversations took no agent time.
    assert all(r["handle_time_seconds"] == 0.0 for r in bundled if r["automated"])


def test_brightcart_ships_its_levers_one_after_the_other(bundled: list[dict]) -> None:
    """Knowledge content 4 weeks before the end, data connectors 3 weeks, procedures 2 weeks."""
    rate = defaultdict(lambda: [0, 0])
    for r in bundled:
        if r["customer_id"] == "brightcart":
            weeks_left = (END_DATE - r["created_at"].date()).days // 7  # 0 = the last week
            cell = rate[(r["true_tier"], min(weeks_left, 4))]
            cell[0] += r["automated"]
            cell[1] += 1
    share = {k: a / n for k, (a, n) in rate.items()}
    assert share[("informational", 4)] < 0.15 and share[("informational", 3)] > 0.6
    assert share[("personalized", 3)] < 0.1 and share[("personalized", 2)] > 0.3
    assert share[("action_led", 2)] < 0.05 and share[("action_led", 1)] > 0.1
    profile = samples.customer_profiles(5)[4]
    assert profile.rates_on(END_DATE) == {"informational": 0.72, "personalized": 0.45, "action_led": 0.2}
    # Benchmark-size samples: every third generated customer with outcomes ships levers as well.
    generated = samples.customer_profiles(40)[5:]
    assert any(p.levers for p in generated) and all(p.automated_rates for p in generated if p.levers)


def test_texts_are_varied_carry_pii_and_some_other_languages(bundled: list[dict]) -> None:
    texts = [r["text"] for r in bundled]
    assert len(set(texts)) > 0.9 * len(texts)
    intents = {(r["customer_id"], r["true_intent"]) for r in bundled}
    for cid in ("shopwave", "loopdesk", "wayfarer"):
        assert sum(1 for c, _ in intents if c == cid) >= 10
    assert sum(bool(re.search(r"[\w.]+@[\w.]+\.\w+", t)) for t in texts) > 50
    assert any(re.search(r"\b[A-Z]{2}\d{2} ?[A-Z0-9]{4}", t) for t in texts)  # IBAN
    assert any(re.search(r"\b4\d{3} ?\d{4} ?\d{4} ?\d{4}\b", t) for t in texts)  # card
    langs = Counter(r["language"] for r in bundled if r["customer_id"] == "wayfarer")
    assert 0.01 < sum(n for lang, n in langs.items() if lang != "en") / sum(langs.values()) < 0.1


def test_layout_and_customer_ids(small_landing: tuple[Path, list[dict]]) -> None:
    root, rows = small_landing
    files = _files(root)
    assert "_PROVENANCE.md" in files
    days = {r["created_at"].date().isoformat() for r in rows}
    for rel in files:
        if rel == "_PROVENANCE.md":
            continue
        m = FILE_RE.match(rel)
        assert m, rel
        assert validate_customer_id(m["cid"]) and CUSTOMER_ID_PATTERN.fullmatch(m["cid"])
        assert m["day"] in days


def _by_id(rows: list[dict], cid: str) -> dict[str, dict]:
    return {r["conversation_id"]: r for r in rows if r["customer_id"] == cid}


def test_intercom_pages_match_the_api_shape_and_the_canonical_rows(small_landing: tuple[Path, list[dict]]) -> None:
    root, rows = small_landing
    want = _by_id(rows, "loopdesk")
    seen = {}
    for path in sorted((root / "loopdesk").rglob("*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        assert page["type"] == "conversation.list" and page["pages"]["type"] == "pages"
        for c in page["conversations"]:
            assert c["type"] == "conversation" and isinstance(c["id"], str) and isinstance(c["created_at"], int)
            assert c["source"]["body"].startswith("<") and c["source"]["delivered_as"] == "customer_initiated"
            assert c["source"]["author"]["type"] == "user" and "@" in c["source"]["author"]["email"]
            seen[c["id"]] = c
    assert seen.keys() == want.keys()
    for cid, c in seen.items():
        r, st = want[cid], c["statistics"]
        assert _plain(c["source"]["body"]) == " ".join(r["text"].split())
        assert datetime.fromtimestamp(c["created_at"], r["created_at"].tzinfo) == r["created_at"]
        assert st["adjusted_handling_time"] == r["handle_time_seconds"]
        assert st["handling_time"] >= st["adjusted_handling_time"]
        resolved = c["ai_agent_participated"] and c["ai_agent"]["resolution_state"] in ("assumed_resolution", "confirmed_resolution")
        assert resolved == r["automated"]
        assert (c["conversation_rating"] or {}).get("rating") == (None if r["csat"] is None else int(r["csat"]))


def test_zendesk_pages_match_the_incremental_export_shape(small_landing: tuple[Path, list[dict]]) -> None:
    root, rows = small_landing
    want = _by_id(rows, "shopwave")
    latest: dict[str, dict] = {}
    listed = 0
    for path in sorted((root / "shopwave").rglob("*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        assert set(page) == {"tickets", "after_url", "after_cursor", "before_url", "before_cursor", "end_of_stream"}
        assert page["end_of_stream"] is True and page["after_url"].endswith(page["after_cursor"])
        for t in page["tickets"]:
            listed += 1
            assert isinstance(t["id"], int) and t["via"]["channel"] and t["satisfaction_rating"]["score"]
            datetime.strptime(t["created_at"], "%Y-%m-%dT%H:%M:%SZ")
            prev = latest.get(str(t["id"]))
            if prev is None or t["updated_at"] > prev["updated_at"]:
                latest[str(t["id"])] = t
    assert latest.keys() == want.keys()
    assert listed > len(latest)  # tickets updated on a later day are listed again
    for tid, t in latest.items():
        r = want[tid]
        assert " ".join(t["description"].split()) == " ".join(r["text"].split())
        spent = {f["id"]: f["value"] for f in t["custom_fields"]}[ZENDESK_TIME_SPENT_FIELD]
        assert float(spent) == r["handle_time_seconds"]
        assert t["via"]["channel"] == r["channel"]


def test_csv_files_use_canonical_columns(small_landing: tuple[Path, list[dict]]) -> None:
    root, rows = small_landing
    for cid in ("acme-bank", "wayfarer"):
        want = _by_id(rows, cid)
        got = {}
        for path in sorted((root / cid).rglob("*.csv")):
            with path.open(encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                assert set(reader.fieldnames) <= set(CONVERSATION)
                got.update({row["conversation_id"]: row for row in reader})
        assert got.keys() == want.keys()
        for k, row in got.items():
            r = want[k]
            assert " ".join(row["text"].split()) == r["text"]
            assert (float(row["handle_time_seconds"]) if row["handle_time_seconds"] else None) == r["handle_time_seconds"]
            assert datetime.fromisoformat(row["created_at"]) == r["created_at"]
            if "automated" in row:
                assert row["automated"] == str(r["automated"]).lower()


def _peak_bytes(output: Path, conversations: int, days: int) -> int:
    tracemalloc.start()
    try:
        write_sample(str(output), customers=10, conversations=conversations, days=days, seed=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_big_mode_streams_with_bounded_memory(tmp_path: Path) -> None:
    list(iter_conversations(customers=1, conversations=5, days=1))  # load the text banks first
    small = _peak_bytes(tmp_path / "small", 1_000, 5)
    large = _peak_bytes(tmp_path / "large", 5_000, 25)  # 5x the rows, same rows per customer-day
    folders = {p.parent for p in (tmp_path / "large").rglob("*") if p.is_file() and p.name != "_PROVENANCE.md"}
    assert len(folders) == 10 * 25  # one folder per customer-day (an Intercom day may hold several pages)
    # Memory follows the largest customer-day, not the total: holding all rows would grow 5x.
    assert large < 1.6 * small + 1e6, (small, large)


def test_plan_counts_is_exact_and_skewed_across_customers() -> None:
    profiles = samples.customer_profiles(200)
    assert len({p.customer_id for p in profiles}) == 200
    assert all(CUSTOMER_ID_PATTERN.fullmatch(p.customer_id) for p in profiles)
    plan = plan_counts(profiles, 1_000_000, 63, seed=7)
    per_customer = sorted(sum(days) for days in plan)
    assert sum(per_customer) == 1_000_000 and all(len(d) == 63 for d in plan)
    assert per_customer[-1] > 3 * per_customer[0]


def test_cli_make_sample_and_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "land")
    assert main(["make-sample", "--output", out, "--customers", "5", "--conversations", "300", "--days", "4"]) == 0
    assert "Wrote 300 synthetic conversations for 5 customers" in capsys.readouterr().out
    assert main(["make-sample", "--output", out]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "Traceback" not in err


@pytest.mark.parametrize("kwargs", [{"customers": 0}, {"days": 0}, {"conversations": -1}])
def test_bad_arguments_raise_taxonomy_error(kwargs: dict) -> None:
    with pytest.raises(TaxonomyError):
        list(iter_conversations(**kwargs))


def test_fintech_falls_back_to_own_texts_without_banking77(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(samples.BANKING77_ENV, "/nonexistent/train_tiers.csv")
    rows = list(iter_conversations(customers=1, conversations=200, days=3, truth=True))
    assert {r["true_intent"] for r in rows} <= set(samples.intent_bank.FINTECH)
    assert {r["true_tier"] for r in rows} == set(TIERS)


@pytest.mark.skipif(banking77_path() is None, reason="Banking77 tier file (shared/data) not available")
def test_bundled_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    bundled_root = REPO / "examples" / "landing"
    if not bundled_root.is_dir():
        pytest.skip("examples/landing not generated")
    write_sample(str(tmp_path / "again"))
    assert _files(tmp_path / "again") == _files(bundled_root)


def test_the_bundled_samples_people_are_redacted(bundled: list[dict]) -> None:
    """The generator writes its people's names into messages, often in lower case ("it should be david
    jensen", "kind regards, hugo duubois"); after redaction only a name outside the public name lists
    signed after "best," stays (a word often read so: "the best, cheapest")."""
    from taxonomy.people import name_lists
    from taxonomy.redact import redact_text
    from taxonomy.samples.texts import FIRST_NAMES, LAST_NAMES

    people = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in FIRST_NAMES + LAST_NAMES) + r")\b", re.IGNORECASE)
    texts = [r["text"] for r in bundled]
    assert sum(bool(people.search(t)) for t in texts) > 200  # the sample does carry names
    left = [t for t in map(redact_text, texts) if people.search(t)]
    given = name_lists()[0]
    for text in left:
        m = re.search(r"\bbest, (\w+)\W*$", text)
        assert m and m.group(1).lower() not in given, text
    assert len(left) <= 0.001 * len(texts)
