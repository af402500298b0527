"""Configuration: defaults in one place, YAML overrides, clear errors."""

from __future__ import annotations

import pytest

from taxonomy.config import Config, load_config
from taxonomy.errors import TaxonomyError


def test_defaults() -> None:
    cfg = load_config()
    assert cfg == Config()
    assert cfg.window_days == 28
    assert cfg.ingest.max_bad_row_share == 0.2
    assert set(cfg.scoring.default_rates) == {"informational", "personalized", "action_led"}


def test_yaml_overrides_and_keyword_overrides(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("window_days: 14\nscoring:\n  peer_percentile: 0.9\ningest:\n  max_bad_row_share: 0.5\n")
    cfg = load_config(str(path))
    assert (cfg.window_days, cfg.scoring.peer_percentile, cfg.ingest.max_bad_row_share) == (14, 0.9, 0.5)
    assert cfg.scoring.default_rates == Config().scoring.default_rates  # untouched keys keep defaults
    assert load_config(str(path), window_days=7).window_days == 7
    assert load_config(str(path), window_days=None).window_days == 14


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("window_dayz: 3\n", "window_dayz"),
        ("window_days: 0\n", "window_days"),
        ("scoring:\n  default_rates: {informational: 2, personalized: 0.5, action_led: 0.1}\n", "scoring.default_rates"),
        ("scoring:\n  nope: 1\n", "nope"),
        ("ingest:\n  max_bad_row_share: 1.5\n", "ingest.max_bad_row_share"),
        ("embedding_backend: bert\n", "embedding_backend"),
        ("device: tpu\n", "device"),
    ],
)
def test_bad_settings_name_the_field(tmp_path, text: str, field: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(TaxonomyError) as err:
        load_config(str(path))
    assert field in str(err.value) and str(path) in str(err.value)


def test_missing_and_invalid_files(tmp_path) -> None:
    with pytest.raises(TaxonomyError, match="not found"):
        load_config(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("window_days: [1,\n")
    with pytest.raises(TaxonomyError, match="YAML"):
        load_config(str(bad))
