#!/usr/bin/env bash
# Static analysis: Slither from its own virtual environment (.venv-slither; it needs web3 < 8 and must never touch
# the project's .venv), over every contract under contracts/ except the test doubles, through the project's solc
# front in standard-JSON mode (solcjs has no --combined-json). Exits non-zero when a high or medium finding is not
# triaged in SLITHER_TRIAGE.md; findings are matched on detector + contract + function, never on line numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SLITHER_VENV:-.venv-slither}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/slither" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check slither-analyzer==0.11.6
fi

mkdir -p build
report=build/slither.json
rm -f "$report"
# Slither exits non-zero whenever it finds anything; the verdict is the triage check's, below.
"$VENV/bin/slither" contracts/ \
    --config-file slither.config.json \
    --solc-standard-json \
    --solc rwa/build/_solc_front/solc \
    --solc-remaps "@openzeppelin/=node_modules/@openzeppelin/" \
    --solc-args "--base-path ." \
    --json "$report" >build/slither.log 2>&1 || true
if [ ! -s "$report" ]; then
    echo "slither produced no report; see build/slither.log" >&2
    tail -20 build/slither.log >&2
    exit 2
fi
exec "$VENV/bin/python" ci/slither_triage.py "$report" SLITHER_TRIAGE.md
