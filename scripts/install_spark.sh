#!/usr/bin/env bash
# A separate virtual environment with PySpark, for the README's Spark snippet test
# (tests/readers/test_readme_snippets.py). Separate on purpose: Great Expectations imports pyspark
# whenever it is importable, which slows every validation and changes its warnings, so pyspark
# never goes into .venv. Needs Java 17+ (Debian's openjdk-17-jre-headless) and one ~460 MB download.
# Idempotent; prints one line; never fails `make test` (the Spark test then skips and says why).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-spark
PYSPARK=$(grep -i '^pyspark==' constraints.txt | cut -d= -f3)

if ! command -v java >/dev/null 2>&1; then
    echo "install_spark.sh: no java on PATH; the Spark snippet test will skip (apt-get install openjdk-17-jre-headless)"
    exit 0
fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK')" 2>/dev/null; then
    exit 0
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check -c constraints.txt "pyspark==$PYSPARK"; } >"$log" 2>&1; then
    echo "install_spark.sh: installed pyspark $PYSPARK into $VENV"
else
    echo "install_spark.sh: pip failed, the Spark snippet test will skip; last lines:" >&2
    tail -n 5 "$log" >&2
fi
exit 0
