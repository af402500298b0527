"""`taxonomy classify`: the file contract and bad inputs, through ``taxonomy.cli.main``.

The shipped model is used with the deterministic HashingEmbedder (fast); one test marked
``model`` runs the real all-MiniLM-L6-v2 end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import taxonomy.embed
from taxonomy.cli import main
from taxonomy.embed import HashingEmbedder
from taxonomy.schema import TIERS
from taxonomy.tiers import EMPTY_TEXT_NOTE

ADDED = ["tier", "tier_confidence", "p_informational", "p_personalized", "p_action_led", "model_version", "tier_note"]
TEXTS = [
    "Where is my order? It's been 10 days",
    "",
    "¿Puedo cambiar la dirección de envío de mi pedido?",
    "cancel my subscription " * 5_000,  # ~115 KB
    "how do I reset my password",
]


@pytest.fixture()
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taxonomy.embed, "get_embedder", lambda *a, **k: HashingEmbedder())


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"conversation_id": [f"c{i}" for i in range(len(TEXTS))], "text": TEXTS, "handle_time": [1.5, 2, 3, 4, 5]})


def _write(df: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.write_csv(path)
    elif path.suffix == ".jsonl":
        df.write_ndjson(path)
    else:
        df.write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_classify_keeps_columns_and_adds_tiers(tmp_path: Path, suffix: str, fake_embedder: None) -> None:
    src = _write(_frame(), tmp_path / f"in{suffix}")
    out = tmp_path / "out" / "tiers.parquet"
    assert main(["classify", "--input", str(src), "--output", str(out)]) == 0
    df = pl.read_parquet(out)
    assert df.columns == ["conversation_id", "text", "handle_time", *ADDED]
    assert df["conversation_id"].to_list() == _frame()["conversation_id"].to_list()
    assert df["text"].to_list() == TEXTS
    empty = df.row(1, named=True)
    assert empty["tier"] is None and empty["p_personalized"] is None and empty["tier_note"] == EMPTY_TEXT_NOTE
    scored = df.filter(pl.col("tier").is_not_null())
    assert scored.height == 4 and scored["tier_note"].null_count() == 4
    assert set(scored["tier"]) <= set(TIERS)
    sums = scored.select(pl.sum_horizontal([f"p_{t}" for t in TIERS])).to_series()
    assert all(abs(s - 1) < 1e-9 for s in sums)
    assert df["model_version"].n_unique() == 1 and df["model_version"][0]


def test_custom_text_column_and_existing_tier_column_replaced(tmp_path: Path, fake_embedder: None) -> None:
    df = pl.DataFrame({"body": ["refund me", None], "tier": ["old", "old"]})
    src = _write(df, tmp_path / "in.parquet")
    out = tmp_path / "o.parquet"
    assert main(["classify", "--input", str(src), "--output", str(out), "--text-column", "body"]) == 0
    res = pl.read_parquet(out)
    assert res.columns == ["body", *ADDED] and res["tier"][0] in TIERS and res["tier"][1] is None


def test_missing_column_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(pl.DataFrame({"message": ["hi"]}), tmp_path / "in.csv")
    assert main(["classify", "--input", str(src), "--output", str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "in.csv" in err and "'text'" in err and "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("in.txt", "text\nhi\n", "unsupported format"),
        ("missing.csv", None, "not found"),
        ("bad.jsonl", '{"text": "hi"}\n{not json\n', "row 2: invalid JSON at line 2"),
        # An unquoted comma: the row is named, never guessed at (rows in = rows out).
        ("ragged.csv", "id,text\n1,hello\n\n2,my card, it broke\n3,bye\n", "row 2: 3 fields where the header has 2"),
    ],
)
def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None, expect: str) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    assert main(["classify", "--input", str(src), "--output", str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expect in err and name in err


@pytest.mark.model
def test_classify_with_the_real_model(tmp_path: Path) -> None:
    lines = [{"id": 1, "text": "my card was stolen, block it now"}, {"id": 2, "text": "what are your opening hours"}]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    assert main(["classify", "--input", str(src), "--output", str(out)]) == 0
    assert pl.read_parquet(out)["tier"].to_list() == ["action_led", "informational"]
