"""The command line: helpful --help, one-line errors without tracebacks for user mistakes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from taxonomy.cli import build_parser, main

COMMANDS = ["ingest", "classify", "train-tiers", "run", "show", "report", "export", "migrate-layout", "pull", "make-sample"]


def test_help_lists_every_command_and_is_light() -> None:
    code = (
        "import sys; from taxonomy.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'sklearn', 'great_expectations', 'airflow') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for command in COMMANDS:
        assert command in out
    assert "HEAVY []" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: taxonomy " + command in capsys.readouterr().out


def test_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--input", "x", "--output", "y", "--as-of", "2026-13-01"])
    assert exit_.value.code == 2
    assert "not a date in YYYY-MM-DD form" in capsys.readouterr().err


def test_user_error_is_one_line_without_traceback(tmp_path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("window_dayz: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "taxonomy", "run", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--config", str(bad)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "window_dayz" in lines[0] and str(bad) in lines[0]


def test_bad_column_map(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["ingest", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--column-map", "a"]) == 2
    assert "SRC=DST" in capsys.readouterr().err
