"""Scoring arithmetic, peer rates, nulls, topic ranking and weekly trends."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest

from taxonomy.config import ScoringConfig
from taxonomy.schema import SCORES_OUT, TIERS, TOPICS_OUT, TRENDS_OUT
from taxonomy.scoring import achievable_rates, customer_tier_stats, next_best_action, score_customer

RATES = {"informational": 0.8, "personalized": 0.6, "action_led": 0.35}
WINDOW = {"as_of": date(2026, 3, 1), "window_start": date(2026, 2, 1), "window_end": date(2026, 2, 28)}


def conversations(rows: list[tuple]) -> pl.DataFrame:
    """Rows of (tier, topic_id, handle_time_seconds, automated[, created_at])."""
    out = []
    for i, row in enumerate(rows):
        tier, topic, ht, automated = row[:4]
        created = row[4] if len(row) > 4 else datetime(2026, 2, 2, 9, tzinfo=timezone.utc)
        out.append({
            "conversation_id": f"c{i:03d}", "customer_id": "acme", "created_at": created, "text": f"text {i}",
            "handle_time_seconds": ht, "automated": automated, "tier": tier, "tier_confidence": 0.9,
            "tier_source": "model", "topic_id": topic,
        })
    return pl.DataFrame(out, schema_overrides={"handle_time_seconds": pl.Float64, "automated": pl.Boolean})


def topics_frame(labels: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({
        "topic_id": list(labels), "label": list(labels.values()),
        "keywords": [[v] for v in labels.values()], "example_conversation_ids": [["c000"] for _ in labels],
        "conversations": [1 for _ in labels],
    })


def score(rows: list[tuple], labels: dict[str, str] | None = None, rates: dict[str, float] = RATES, **window):
    frame = conversations(rows)
    labels = labels or {t: f"label {t}" for t in sorted(set(frame["topic_id"].drop_nulls()))}
    return score_customer(
        frame, topics_frame(labels), rates, "default", customer_id="acme", model_version="m1",
        pipeline_version="p1", run_id="r1", **{**WINDOW, **window},
    )


def field_example() -> list[tuple]:
    """TIERS.md: 10 password resets of 5 minutes against 1 refund dispute of 30 minutes."""
    return [("informational", "t0001", 300.0, None)] * 10 + [("action_led", "t0002", 1800.0, None)]


def test_field_example_from_tiers_md() -> None:
    result = score(field_example(), {"t0001": "password reset", "t0002": "refund dispute"})
    s = result.scores.row(0, named=True)
    assert s["handle_time_share_action_led"] == pytest.approx(30 / 80)  # 37.5 % of the hours
    assert s["volume_share_action_led"] == pytest.approx(1 / 11)  # from 9.09 % of the volume
    assert s["handle_time_share_informational"] == pytest.approx(50 / 80)
    assert s["handle_time_share_personalized"] == 0.0 and s["volume_share_personalized"] == 0.0
    assert s["handle_time_hours"] == pytest.approx(4800 / 3600)
    assert s["automation_potential"] == pytest.approx((3000 * 0.8 + 1800 * 0.35) / 4800)
    assert s["automation_potential_volume"] == pytest.approx((10 * 0.8 + 0.35) / 11)
    assert s["potential_knowledge_only"] == pytest.approx(2400 / 4800)
    assert s["potential_with_data_connectors"] == pytest.approx(2400 / 4800)
    assert s["potential_with_procedures"] == pytest.approx(s["automation_potential"])
    # 28-day window (Feb 1 .. Feb 28 inclusive) scaled to 30 days.
    assert s["automation_potential_hours_per_month"] == pytest.approx(3030 / 3600 * 30 / 28)
    assert s["missing_handle_time_share"] == 0.0
    assert s["current_automation_rate"] is None and s["automation_gap"] is None
    assert s["other_topic_share"] == 0.0
    assert (s["customer_id"], s["rates_source"], s["run_id"], s["as_of"]) == ("acme", "default", "r1", date(2026, 3, 1))
    assert result.scores.schema == pl.Schema(SCORES_OUT)


def test_topics_ranked_by_hours_to_win_with_lever_and_action() -> None:
    result = score(field_example(), {"t0001": "password reset", "t0002": "refund dispute"})
    topics = result.topics
    assert topics.schema == pl.Schema(TOPICS_OUT)
    first, second = topics.sort("rank").to_dicts()
    # Resets: 3000 s x 0.8 = 2400 s; dispute: 1800 s x 0.35 = 630 s (per 28 days -> per 30).
    assert first["topic_id"] == "t0001" and first["rank"] == 1
    assert first["hours_to_win"] == pytest.approx(2400 / 3600 * 30 / 28)
    assert second["hours_to_win"] == pytest.approx(630 / 3600 * 30 / 28)
    assert (first["tier"], first["action_kind"]) == ("informational", "knowledge_content")
    assert (second["tier"], second["action_kind"]) == ("action_led", "procedure")
    assert "refund dispute" in second["next_best_action"] and "Automate" in second["next_best_action"]
    assert "~0.2 agent hours/month to win" in second["next_best_action"]  # 630 s x 30/28 = 0.19 h
    assert second["hours_share"] == pytest.approx(630 / (2400 + 630))
    assert second["handle_time_share"] == pytest.approx(0.375)
    assert second["volume_share"] == pytest.approx(1 / 11)
    assert second["automation_potential"] == pytest.approx(0.35)
    assert first["share_informational"] == 1.0 and first["share_action_led"] == 0.0
    assert first["keywords"] == ["password reset"] and first["example_conversation_ids"] == ["c000"]


def test_ladder_adds_one_tier_at_a_time() -> None:
    rows = [("informational", "a", 100.0, None), ("personalized", "b", 200.0, None), ("action_led", "c", 700.0, None)]
    s = score(rows).scores.row(0, named=True)
    assert s["potential_knowledge_only"] == pytest.approx(80 / 1000)
    assert s["potential_with_data_connectors"] == pytest.approx((80 + 120) / 1000)
    assert s["potential_with_procedures"] == pytest.approx((80 + 120 + 245) / 1000)
    assert s["automation_potential"] == pytest.approx(0.445)


def test_missing_handle_time_counts_by_volume_only() -> None:
    rows = [("informational", "a", 600.0, None), ("action_led", "b", None, None), ("action_led", "b", None, None),
            ("personalized", "a", 0.0, None)]
    result = score(rows)
    s = result.scores.row(0, named=True)
    assert s["missing_handle_time_share"] == pytest.approx(0.5)
    assert s["volume_share_action_led"] == pytest.approx(0.5)
    assert s["handle_time_share_action_led"] == 0.0
    assert s["handle_time_hours"] == pytest.approx(600 / 3600)
    assert s["automation_potential"] == pytest.approx(0.8)
    assert s["automation_potential_volume"] == pytest.approx((0.8 + 0.35 + 0.35 + 0.6) / 4)
    b = result.topics.filter(pl.col("topic_id") == "b").row(0, named=True)
    assert b["handle_time_seconds"] is None and b["hours_to_win"] is None and b["conversations"] == 2
    assert b["rank"] == 2  # unknown hours rank after known ones


def test_no_handle_time_at_all_gives_null_hours() -> None:
    s = score([("informational", "a", None, True), ("action_led", "a", None, False)]).scores.row(0, named=True)
    assert s["handle_time_hours"] is None and s["automation_potential"] is None
    assert s["automation_potential_hours_per_month"] is None and s["potential_knowledge_only"] is None
    assert s["missing_handle_time_share"] == 1.0
    assert s["automation_potential_volume"] == pytest.approx((0.8 + 0.35) / 2)


def test_current_rate_by_volume_and_gap() -> None:
    rows = [("informational", "a", 0.0, True), ("informational", "a", 300.0, False),
            ("action_led", "b", 900.0, False), ("action_led", "b", 900.0, None)]
    result = score(rows)
    s = result.scores.row(0, named=True)
    assert s["current_automation_rate"] == pytest.approx(1 / 3)  # rows with a known outcome only
    assert s["automation_gap"] == pytest.approx((0.8 * 2 + 0.35 * 2) / 4 - 1 / 3)
    a = result.topics.filter(pl.col("topic_id") == "a").row(0, named=True)
    assert a["current_automation_rate"] == pytest.approx(0.5)
    # The automated row is already won: only the 300 s conversation counts.
    assert a["hours_to_win"] == pytest.approx(300 * 0.8 / 3600 * 30 / 28)


def test_other_topic_share_and_rank_last() -> None:
    rows = [("action_led", "other", 5000.0, None), ("informational", "t0001", 60.0, None)]
    result = score(rows, {"t0001": "opening hours", "other": "other (small mixed requests)"})
    assert result.scores["other_topic_share"][0] == pytest.approx(0.5)
    assert result.topics.sort("rank")["topic_id"].to_list() == ["t0001", "other"]


def test_weekly_trends_iso_monday() -> None:
    sunday = datetime(2026, 2, 8, 23, tzinfo=timezone.utc)
    monday = datetime(2026, 2, 9, 1, tzinfo=timezone.utc)
    rows = [("informational", "a", 60.0, None, sunday), ("informational", "a", None, None, sunday),
            ("informational", "a", 30.0, None, monday), ("action_led", "b", None, None, monday)]
    trends = score(rows).trends
    assert trends.schema == pl.Schema(TRENDS_OUT)
    got = {(r["week"], r["tier"], r["topic_id"]): (r["conversations"], r["handle_time_seconds"]) for r in trends.to_dicts()}
    assert got == {
        (date(2026, 2, 2), "informational", "a"): (2, 60.0),
        (date(2026, 2, 9), "informational", "a"): (1, 30.0),
        (date(2026, 2, 9), "action_led", "b"): (1, None),
    }
    assert set(trends["customer_id"]) == {"acme"}


def test_empty_window_scores_without_error() -> None:
    empty = conversations([]).head(0)
    result = score_customer(empty, topics_frame({}), RATES, "default", customer_id="acme", model_version="m",
                            pipeline_version="p", run_id="r", **WINDOW)
    s = result.scores.row(0, named=True)
    assert s["conversations"] == 0 and s["automation_potential"] is None and s["volume_share_action_led"] is None
    assert result.topics.height == 0 and result.trends.height == 0


def test_customer_tier_stats() -> None:
    stats = customer_tier_stats(conversations([("informational", "a", 60.0, True), ("informational", "a", None, None),
                                               ("action_led", "b", 30.0, False)]))
    got = {r["tier"]: r for r in stats.to_dicts()}
    assert got["informational"] == {"tier": "informational", "conversations": 2, "with_outcome": 1, "automated": 1,
                                    "with_handle_time": 1, "handle_time_seconds": 60.0}
    assert got["personalized"]["conversations"] == 0
    assert got["action_led"]["automated"] == 0 and got["action_led"]["with_outcome"] == 1


def peer(automated: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """Tier stats with (automated, with_outcome) per tier."""
    return pl.DataFrame({
        "tier": list(automated), "conversations": [v[1] for v in automated.values()],
        "with_outcome": [v[1] for v in automated.values()], "automated": [v[0] for v in automated.values()],
        "with_handle_time": [0] * len(automated), "handle_time_seconds": [0.0] * len(automated),
    })


def test_rates_default_when_too_few_peers() -> None:
    config = ScoringConfig(peer_min_conversations=100, peer_min_customers=3)
    stats = {"a": peer({"informational": (90, 100)}), "b": peer({"informational": (50, 100)}),
             "small": peer({"informational": (9, 10)})}  # too few conversations to be a peer
    rates, source = achievable_rates(stats, config)
    assert source == "default" and rates == config.default_rates


def test_rates_from_peers_percentile() -> None:
    config = ScoringConfig(peer_min_conversations=100, peer_min_customers=3, peer_percentile=0.75)
    tiers = lambda i, p, a: {"informational": (i, 100), "personalized": (p, 100), "action_led": (a, 100)}  # noqa: E731
    stats = {"a": peer(tiers(90, 40, 10)), "b": peer(tiers(70, 60, 30)), "c": peer(tiers(50, 20, 20)),
             "d": peer(tiers(80, 50, 40)), "tiny": peer(tiers(1, 1, 1)).with_columns(pl.lit(1).alias("with_outcome"))}
    rates, source = achievable_rates(stats, config)
    assert source == "peers:p75:n=4"
    # Quantile 0.75 (linear) of the four peers' rates.
    assert rates["informational"] == pytest.approx(0.825)  # of .5 .7 .8 .9
    assert rates["personalized"] == pytest.approx(0.525)  # of .2 .4 .5 .6
    assert rates["action_led"] == pytest.approx(0.325)  # of .1 .2 .3 .4


def test_rates_tier_without_enough_peers_falls_back() -> None:
    config = ScoringConfig(peer_min_conversations=100, peer_min_customers=2)
    stats = {"a": peer({"informational": (60, 100), "action_led": (0, 0)}),
             "b": peer({"informational": (80, 100)})}
    rates, source = achievable_rates(stats, config)
    assert rates["informational"] == pytest.approx(0.75)
    assert rates["action_led"] == config.default_rates["action_led"]
    assert source == "peers:p75:n=2;default:personalized,action_led"


def test_next_best_action_mentions_label_and_hours() -> None:
    line = next_best_action("card arrival / tracking", "data_connector", 12.34)
    assert "card arrival / tracking" in line and "12.3" in line and "\n" not in line


def test_tier_stats_without_outcome_column_and_empty() -> None:
    frame = conversations([("personalized", "a", 10.0, None)]).drop("automated")
    stats = {r["tier"]: r for r in customer_tier_stats(frame).to_dicts()}
    assert stats["personalized"]["conversations"] == 1 and stats["personalized"]["with_outcome"] == 0
    assert customer_tier_stats(conversations([]))["conversations"].to_list() == [0, 0, 0]


def test_a_mixed_topics_action_quotes_only_its_tiers_requests() -> None:
    """A topic of size-chart questions (informational, the majority) and a few long exchanges
    (action-led): its help-centre action quotes the questions, never the exchanges."""
    rows = [("informational", "t0001", 60.0, None)] * 6 + [("action_led", "t0001", 1800.0, None)] * 3
    frame = conversations(rows).with_columns(pl.Series("text", [
        "Where do I find the size chart for the rain jacket?", "How does the rain jacket fit, should I size up?",
        "Where do I find the size chart for the rain jacket?", "How does the rain jacket fit, should I size up?",
        "Where do I find the size chart for the rain jacket?", "Is the rain jacket true to size?",
        "The rain jacket came in the wrong colour, I need an exchange.",
        "The rain jacket came in the wrong colour, I need an exchange.",
        "The rain jacket came in the wrong size, please exchange it.",
    ]))
    topics = score_customer(frame, topics_frame({"t0001": "rain jacket"}), RATES, "default", customer_id="acme",
                            model_version="m1", pipeline_version="p1", run_id="r1", **WINDOW).topics
    topic = topics.row(0, named=True)
    assert topic["tier"] == "informational"
    assert "Where do I find the size chart for the rain jacket?" in topic["nba_questions"]
    assert not [q for q in topic["nba_questions"] if "exchange" in q.lower() or "colour" in q.lower()]


def test_next_actions_leave_out_what_the_customers_end_users_write_whatever_they_ask() -> None:
    from taxonomy.actions import add_actions

    asks = ["Where is my refund?", "Why is my transfer pending?", "What is my card limit?", "Where is my order?",
            "Why was my payment declined?"]
    records = [{"topic_id": f"t{i}", "label": ask, "tier": "personalized", "hours_to_win": 2.0, "keywords": None,
                "_texts": [f"{ask} My colleague told me to contact you.", f"{ask.rstrip('?')}, my colleague told me to contact you."] * 2,
                "_tiers": ["personalized"] * 4} for i, ask in enumerate(asks)]
    add_actions(records)  # the sentence is in all five topics: said whatever the request
    assert [[q.rstrip("?") for q in r["nba_questions"]] for r in records] == [[ask.rstrip("?")] for ask in asks]
    assert not any("colleague" in r["next_best_action"] for r in records)


def test_a_mixed_topics_action_claims_only_its_tiers_hours_and_names_the_rest() -> None:
    """The same topic: its six size-chart questions hold 6 of its 96 agent minutes. The help-centre
    action used to claim the whole topic's hours to win; it claims the questions' hours
    (``nba_hours_to_win``), and names the exchanges' hours and what they ask beside it."""
    rows = [("informational", "t0001", 60.0, None)] * 6 + [("action_led", "t0001", 1800.0, None)] * 3
    frame = conversations(rows).with_columns(pl.Series("text", [
        "Where do I find the size chart for the rain jacket?", "How does the rain jacket fit, should I size up?"] * 3 + [
        "The rain jacket came in the wrong colour, please exchange it.",
        "The rain jacket came in the wrong colour, I need to exchange it.",
        "The rain jacket came in the wrong size, please exchange it."]))
    topic = score_customer(frame, topics_frame({"t0001": "rain jacket"}), RATES, "default", customer_id="acme",
                           model_version="m1", pipeline_version="p1", run_id="r1", **WINDOW).topics.row(0, named=True)
    per_month = 30 / 28
    own = 6 * 60 * RATES["informational"] / 3600 * per_month
    rest = 3 * 1800 * RATES["action_led"] / 3600 * per_month
    assert topic["hours_to_win"] == pytest.approx(own + rest) and topic["nba_hours_to_win"] == pytest.approx(own)
    action = topic["next_best_action"]
    assert action.startswith("Publish help-centre answers") and f"~{own:.1f} agent hours/month to win" in action
    assert f"to win of the topic's {own + rest:.1f}" in action  # the table's "still to win" is the whole topic's
    assert f'Its action-led requests ("exchange") hold ~{rest:.1f} agent hours/month more: they need a procedure.' in action
    # A tier holding under a quarter of the topic's hours to win is not named.
    small = conversations(rows[:6] + [("action_led", "t0001", 10.0, None)]).with_columns(
        pl.Series("text", ["Is the rain jacket true to size?"] * 6 + ["Please exchange the rain jacket."]))
    quiet = score_customer(small, topics_frame({"t0001": "rain jacket"}), RATES, "default", customer_id="acme",
                           model_version="m1", pipeline_version="p1", run_id="r1", **WINDOW).topics.row(0, named=True)
    assert "Its action-led" not in quiet["next_best_action"] and quiet["nba_hours_to_win"] < quiet["hours_to_win"]
    said = round(quiet["nba_hours_to_win"], 1) != round(quiet["hours_to_win"], 1)
    assert ("of the topic's" in quiet["next_best_action"]) == said  # the rest is said only where it shows


def test_an_action_quotes_the_requests_the_model_itself_reads_in_its_tier() -> None:
    """A how-to listed with its topic's activations (the topic's context moved it there) is no request
    a procedure handles: the action quotes the messages whose own probabilities put them in its tier,
    and falls back to every listed one where none do."""
    asks = ["Please activate my new card now.", "Activate my card, it arrived today.", "I need my card activated."]
    how = "My new card is here, what's the process for activating it?"
    rows = [("action_led", "t0001", 600.0, None)] * 4 + [("action_led", "t0002", 600.0, None)] * 2
    p = [(0.05, 0.05, 0.9)] * 3 + [(0.7, 0.05, 0.25)] + [(0.7, 0.05, 0.25)] * 2
    frame = conversations(rows).with_columns(
        pl.Series("text", asks + [how, how, "How do I activate the card I just got?"]),
        *[pl.Series(f"p_{t}", [x[i] for x in p]) for i, t in enumerate(TIERS)])
    topics = score_customer(frame, topics_frame({"t0001": "Activate my card", "t0002": "Card activation"}), RATES, "default",
                            customer_id="acme", model_version="m1", pipeline_version="p1", run_id="r1", **WINDOW).topics
    first, second = topics.filter(pl.col("topic_id") == "t0001").row(0, named=True), topics.filter(pl.col("topic_id") == "t0002").row(0, named=True)
    assert first["tier"] == "action_led" and first["nba_questions"]
    assert not [q for q in first["nba_questions"] if "process" in q] and how not in first["next_best_action"]
    assert second["nba_questions"]  # no message of its own tier: the listed ones are quoted
