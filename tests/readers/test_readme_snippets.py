"""README "Reading the outputs": every snippet runs against a real output root and gives typed rows.

The snippets are taken from README.md itself (the fenced blocks of that section, in order: pandas,
DuckDB, Polars, Spark), so the README cannot drift from what works. ``out`` in a snippet is the
output root: each runs in a folder where ``out`` links to the bundled sample's outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPARK_PYTHON = Path(os.environ.get("SPARK_PYTHON", REPO / ".venv-spark" / "bin" / "python"))


def readme_snippets() -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block in the README's "Reading the outputs" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Reading the outputs\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def workdir(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("snippets")
    (folder / "out").symlink_to(sample_root, target_is_directory=True)
    return folder


def customers(root: Path) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (root / "scores").glob("as_of=*/customer_id=*"))


def test_the_section_has_one_snippet_per_reader() -> None:
    snippets = readme_snippets()
    assert [lang for lang, _ in snippets] == ["python", "sql", "python", "python"]
    assert "import pandas" in snippets[0][1] and "read_parquet" in snippets[1][1]
    assert "import polars" in snippets[2][1] and "pyspark" in snippets[3][1]


def _exec(code: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(workdir)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace


def test_pandas_snippet(workdir: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    ns = _exec(readme_snippets()[0][1], workdir, monkeypatch)
    scores, topics = ns["scores"], ns["topics"]
    assert sorted(scores["customer_id"]) == customers(sample_root) and str(scores["customer_id"].dtype) == "str"
    assert all(isinstance(d, date) for d in scores["as_of"]) and len(topics) > 0
    assert set(topics["customer_id"]) == {"acme-bank"} and topics["next_best_action"].notna().all()
    assert "automation_potential" in capsys.readouterr().out


def test_duckdb_snippet(workdir: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    monkeypatch.chdir(workdir)
    result = duckdb.sql(readme_snippets()[1][1])
    assert [t.id for t in result.types][:2] == ["date", "varchar"]
    rows = result.fetchall()
    assert sorted(r[1] for r in rows) == customers(sample_root)
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True) and all(0 <= r[2] <= 100 for r in rows)


def test_polars_snippet(workdir: Path, sample_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    ns = _exec(readme_snippets()[2][1], workdir, monkeypatch)
    scores, weekly = ns["scores"], ns["weekly"]
    assert scores.schema["as_of"] == pl.Date and scores.schema["customer_id"] == pl.String
    assert sorted(scores.get_column("customer_id").to_list()) == customers(sample_root)
    assert weekly.height > 0 and weekly.get_column("conversations").sum() > 0


def _spark_skip_reason() -> str | None:
    if not shutil.which("java"):
        return "Spark needs Java 17+, and there is no java on PATH (apt-get install openjdk-17-jre-headless)"
    if not SPARK_PYTHON.exists():
        return (f"no PySpark environment at {SPARK_PYTHON}: run scripts/install_spark.sh (`make test` does); "
                "it is kept out of .venv because Great Expectations imports pyspark whenever it can")
    return None


@pytest.mark.slow
@pytest.mark.skipif(_spark_skip_reason() is not None, reason=_spark_skip_reason() or "")
def test_spark_snippet(workdir: Path, sample_root: Path) -> None:
    """The Spark snippet in a real local Spark (JVM), in its own virtual environment."""
    check = (
        "\nimport json\n"
        "print('RESULT ' + json.dumps({'types': dict(scores.dtypes), 'count': scores.count(),"
        " 'ids': sorted(r.customer_id for r in scores.select('customer_id').collect()),"
        " 'as_of': sorted({str(r.as_of) for r in scores.select('as_of').collect()})}))\n"
        "spark.stop()\n"
    )
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": str(SPARK_PYTHON),
           "PYSPARK_SUBMIT_ARGS": "--master local[1] --conf spark.ui.enabled=false "
                                  "--conf spark.sql.session.timeZone=UTC pyspark-shell"}
    proc = subprocess.run([str(SPARK_PYTHON), "-c", readme_snippets()[3][1] + check], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    assert result["types"]["as_of"] == "date" and result["types"]["customer_id"] == "string"
    assert result["types"]["automation_potential"] == "double" and result["types"]["conversations"] == "bigint"
    assert result["ids"] == customers(sample_root) and result["count"] == len(customers(sample_root))
    assert result["as_of"] == sorted({p.name.split("=", 1)[1] for p in (sample_root / "scores").glob("as_of=*")})
    assert "automation_potential" in proc.stdout  # the snippet's show()
    assert sys.executable != str(SPARK_PYTHON)  # never in the main environment (see _spark_skip_reason)
