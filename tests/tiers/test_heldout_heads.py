"""Benchmarks score a queue only with a head that never saw its source (benchmarks/_heldout.py)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks._heldout import _fit_held_out, check_reproduced
from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIERS
from taxonomy.tiers.head import TrainSettings
from taxonomy.tiers.train import TrainingData, fit_on, settings_of

PHRASES = {"informational": "what are your opening hours", "personalized": "where is my parcel now",
           "action_led": "please cancel my order today"}


def _data() -> tuple[TrainingData, np.ndarray]:
    """Three sources; each one's rows carry a word no other source uses."""
    rng = np.random.default_rng(1)
    texts, tiers, sources = [], [], []
    for source, marker in (("alpha", "zzalpha"), ("beta", "zzbeta"), ("gamma", "zzgamma")):
        for i in range(30):
            tier = TIERS[i % 3]
            texts.append(f"{PHRASES[tier]} {marker}")
            tiers.append(tier)
            sources.append(source)
    n = len(texts)
    centres = rng.standard_normal((3, 384))
    x = centres[[TIERS.index(t) for t in tiers]] + 0.5 * rng.standard_normal((n, 384))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    arr = np.array
    data = TrainingData(texts, arr(tiers), arr(sources), arr(["x"] * n), arr(tiers), arr([f"g{i}" for i in range(n)]), arr(["corpus"] * n))
    return data, x


def test_each_held_out_head_never_saw_its_source() -> None:
    data, x = _data()
    settings = TrainSettings(max_iter=300, use_corpus=False)
    heads = _fit_held_out(data, x, settings)
    assert sorted(heads) == ["alpha", "beta", "gamma"]
    for source, head in heads.items():
        vocabulary = set(head.features.terms_)
        assert f"zz{source}" not in vocabulary  # nothing of the held-out source's text
        assert {f"zz{s}" for s in heads if s != source} <= vocabulary
        assert head.temperature in settings.temperatures
        test = np.flatnonzero(data.sources == source)
        pred = np.array(TIERS)[head.proba([data.texts[i] for i in test], x[test]).argmax(axis=1)]
        assert (pred == data.tiers[test]).mean() > 0.9


def test_an_artifact_with_settings_todays_code_lacks_is_refused() -> None:
    # a setting the artifact does not record (added after it was trained) is off for it
    assert settings_of({"settings": {"C": 2.0, "use_corpus": False}}, "v9") == TrainSettings(
        C=2.0, use_corpus=False, form_rules=False, message_labels=False)
    assert not settings_of({"settings": {"form_rules": True}}, "tier-clf-v7").message_labels  # added after v7
    assert settings_of({"settings": {"form_rules": True}}, "tier-clf-v4").form_rules
    with pytest.raises(TaxonomyError, match="banking_weight"):
        settings_of({"settings": {"C": 4.0, "banking_weight": 1.0}}, "tier-clf-v2")


def test_a_head_learns_the_tiers_to_fit_and_is_scored_on_the_others() -> None:
    """``fit_tiers`` (the message labels, when asked for) are what a head learns, in a subset too;
    ``tiers`` stay the labels every figure is scored against."""
    data, x = _data()
    flipped = np.array(TIERS, dtype=object)[[(TIERS.index(t) + 1) % 3 for t in data.tiers]]  # every row another tier
    relabelled = TrainingData(data.texts, data.tiers, data.sources, data.industries, data.intents, data.groups,
                              data.kinds, fit_tiers=flipped.astype(str))
    rows = np.arange(len(data.texts))
    settings = TrainSettings(max_iter=300, use_corpus=False)
    assert (relabelled.subset(rows[::4]).fit_labels == flipped[::4]).all()
    assert (relabelled.subset(rows[::4]).tiers == data.tiers[::4]).all()
    head = fit_on(relabelled, rows, x, settings)
    pred = np.array(TIERS)[head.logits(data.texts, x).argmax(axis=1)]
    assert (pred == flipped).mean() > 0.9
    plain = fit_on(data, rows, x, settings)  # without fit_tiers a head learns ``tiers``
    assert (np.array(TIERS)[plain.logits(data.texts, x).argmax(axis=1)] == data.tiers).mean() > 0.9


def test_an_artifact_todays_training_code_does_not_rebuild_is_refused() -> None:
    data, x = _data()
    rows = np.arange(len(data.texts))
    shipped = fit_on(data, rows, x, TrainSettings(max_iter=300, use_corpus=False))
    check_reproduced(shipped, fit_on(data, rows, x, TrainSettings(max_iter=300, use_corpus=False)), "v9")
    with pytest.raises(SystemExit, match="does not give its weights back"):
        check_reproduced(shipped, fit_on(data, rows, x, TrainSettings(C=0.5, max_iter=300, use_corpus=False)), "v9")


def test_a_refit_that_drifts_on_another_cpu_is_accepted_only_while_its_tiers_agree(capsys: pytest.CaptureFixture) -> None:
    data, x = _data()
    rows = np.arange(len(data.texts))
    settings = TrainSettings(max_iter=300, use_corpus=False)
    shipped = fit_on(data, rows, x, settings)
    # another CPU: the same training vectors, off in their last digits
    drift = x + 1e-3 * np.random.default_rng(2).standard_normal(x.shape)
    check_reproduced(shipped, fit_on(data, rows, drift, settings), "v9", data.texts, x)
    assert "drifts" in capsys.readouterr().err
    # the tiers of a fifth of the rows changed: another model, however its vocabulary matches
    flipped = np.array(data.tiers, dtype=object)
    flipped[::5] = np.array(TIERS, dtype=object)[[(TIERS.index(t) + 1) % 3 for t in flipped[::5]]]
    other = TrainingData(data.texts, flipped, data.sources, data.industries, data.intents, data.groups, data.kinds)
    with pytest.raises(SystemExit, match="tiers agree on"):
        check_reproduced(shipped, fit_on(other, rows, x, settings), "v9", data.texts, x)
