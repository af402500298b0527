"""Run configuration: one typed object, defaults in one place, loaded from YAML.

Every setting has a default here. A YAML file (``--config``) overrides any subset;
unknown keys are an error, so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml

from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIERS


@dataclass(frozen=True)
class IngestConfig:
    """Validation limits for incoming exports."""

    # A file with more than this share of bad rows stops the batch instead of quarantining them.
    max_bad_row_share: float = 0.20
    # Handle times above this are not plausible for one conversation (24 h).
    max_handle_time_seconds: float = 86_400.0
    # Texts longer than this are truncated (characters) so one pathological row cannot blow memory.
    max_text_chars: int = 20_000
    # Vendor reader options for every export, e.g. {"zendesk.handle_time_field": "360028417751"};
    # per-customer options come from the sources file (--sources).
    source_options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringConfig:
    """How achievable automation rates per tier are chosen.

    Defaults, used when too few peers have outcome data: knowledge content
    answers most informational requests (0.80); a data connector can read
    and explain most personal records but some need a human judgement (0.60);
    procedures that change state need checks and approvals, so fewer close
    end to end (0.35).
    """

    default_rates: dict[str, float] = field(
        default_factory=lambda: {"informational": 0.80, "personalized": 0.60, "action_led": 0.35}
    )
    # Peers = customers in the same run with outcome data and at least this many conversations.
    peer_min_conversations: int = 200
    peer_min_customers: int = 3
    # Achievable rate for a tier = this percentile of peers' observed automated rate in that tier.
    peer_percentile: float = 0.75
    # Calibration (taxonomy.calibrate): a tier's rate comes from the back-tests of customers who
    # shipped its lever, once at least this many did; the rate is this percentile of what they achieved.
    calibration_min_customers: int = 3
    calibration_percentile: float = 0.5
    # A back-test runs after each publish for a prediction published at least this many days earlier.
    backtest_after_days: int = 28


@dataclass(frozen=True)
class TopicsConfig:
    """Topic discovery settings."""

    seed: int = 42
    min_topic_size: int = 5
    max_topics: int = 150
    # Target mean pairwise cosine within a topic: higher gives more, tighter topics. Tuned for
    # all-MiniLM-L6-v2 on the Banking77 training split (benchmarks/results/topics_banking77.md).
    cohesion: float = 0.63
    # Minimum centroid cosine for a topic to keep its id from the previous run.
    match_threshold: float = 0.85


@dataclass(frozen=True)
class Config:
    """Everything a run can be told."""

    window_days: int = 28
    # all-MiniLM-L6-v2 either way: "onnx" = ONNX Runtime, int8, CPU only, >= 3x torch's speed within
    # the quality bars (benchmarks/results/embed_backends.md); "torch" = sentence-transformers, fp32,
    # the reference and the GPU path (device: cuda); "onnx-fp32"; "hashing" is a test stand-in only.
    embedding_backend: str = "onnx"
    embedding_batch_size: int = 64
    # "cpu", or "cuda" where torch sees a GPU.
    device: str = "cpu"
    overrides_dir: str | None = None
    # Processes for parsing exports and finding topics in `taxonomy run` (null: one per usable core).
    workers: int | None = None
    ingest: IngestConfig = field(default_factory=IngestConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        raise TaxonomyError(f"expected a mapping, got {type(data).__name__}", file=where)
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise TaxonomyError(f"unknown setting (known: {', '.join(sorted(known))})", file=where, field=key)
        sub = {"ingest": IngestConfig, "scoring": ScoringConfig, "topics": TopicsConfig}.get(key)
        kwargs[key] = _build(sub, value, where) if sub and cls is Config else value
    return cls(**kwargs)


def validate(cfg: Config, where: str = "config") -> Config:
    """Check ranges; raise TaxonomyError naming the field on the first problem."""
    if not 1 <= int(cfg.window_days) <= 366:
        raise TaxonomyError("must be between 1 and 366", file=where, field="window_days")
    if cfg.embedding_backend not in ("torch", "onnx", "onnx-fp32", "hashing"):
        raise TaxonomyError("must be torch, onnx, onnx-fp32 or hashing", file=where, field="embedding_backend")
    if not (cfg.device == "cpu" or str(cfg.device).startswith("cuda")):
        raise TaxonomyError("must be cpu or cuda[:N]", file=where, field="device")
    if cfg.workers is not None and not (isinstance(cfg.workers, int) and 1 <= cfg.workers <= 256):
        raise TaxonomyError("must be an integer between 1 and 256, or null for one per core", file=where, field="workers")
    if not 0 <= cfg.ingest.max_bad_row_share <= 1:
        raise TaxonomyError("must be between 0 and 1", file=where, field="ingest.max_bad_row_share")
    rates = cfg.scoring.default_rates
    if set(rates) != set(TIERS) or not all(0 <= float(v) <= 1 for v in rates.values()):
        raise TaxonomyError(f"needs a rate in [0, 1] for each of {TIERS}", file=where, field="scoring.default_rates")
    if not 0 < cfg.scoring.peer_percentile <= 1:
        raise TaxonomyError("must be in (0, 1]", file=where, field="scoring.peer_percentile")
    if not 0 < cfg.scoring.calibration_percentile <= 1:
        raise TaxonomyError("must be in (0, 1]", file=where, field="scoring.calibration_percentile")
    if int(cfg.scoring.calibration_min_customers) < 1:
        raise TaxonomyError("must be at least 1", file=where, field="scoring.calibration_min_customers")
    if int(cfg.scoring.backtest_after_days) < 1:
        raise TaxonomyError("must be at least 1", file=where, field="scoring.backtest_after_days")
    return cfg


def load_config(path: str | None = None, **overrides: Any) -> Config:
    """Load the defaults, then ``path`` (YAML) if given, then keyword overrides.

    Args:
        path: A YAML file with any subset of the settings.
        **overrides: Top-level settings to override last (e.g. ``window_days=7``); None values are ignored.

    Raises:
        TaxonomyError: unreadable file, bad YAML, unknown key or out-of-range value.
    """
    data: dict[str, Any] = {}
    where = path or "config"
    if path:
        try:
            import fsspec

            with fsspec.open(path, "rt", encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except FileNotFoundError:
            raise TaxonomyError("config file not found", file=path) from None
        except yaml.YAMLError as exc:
            raise TaxonomyError(f"not valid YAML ({exc.__class__.__name__})", file=path) from None
    cfg = _build(Config, data, where)
    extra = {k: v for k, v in overrides.items() if v is not None}
    if extra:
        cfg = dataclasses.replace(cfg, **extra)
    return validate(cfg, where)


def resolve_config(config: Config | str | None, **overrides: object) -> Config:
    """A Config from an object or a YAML path, with non-None keyword overrides applied."""
    if isinstance(config, Config):
        return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    return load_config(config, **overrides)
