#!/usr/bin/env bash
# Runs the reference program test (test_reference_program.py): the reference design's own
# Python program, unchanged, against `bbagent router`, once with pydantic-ai 1.x and once with
# 2.x. Each version has its own venv (.venv-pai1, .venv-pai2), created if missing and
# installed from requirements-paiN.txt (pinned by constraints-paiN.txt) whenever they changed;
# pytest runs in .venv-pai2, and its summary line is the last line.
#
# Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), LLM_SCRIPT_BIN (default: llm-script
# beside BBAGENT_BIN), PYTHON (default: python3); extra arguments are passed to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${BBAGENT_BIN:-} && $BBAGENT_BIN != /* ]]; then BBAGENT_BIN=$PWD/$BBAGENT_BIN; fi
if [[ -n ${LLM_SCRIPT_BIN:-} && $LLM_SCRIPT_BIN != /* ]]; then LLM_SCRIPT_BIN=$PWD/$LLM_SCRIPT_BIN; fi
cd "$here"

install() {
    local name=$1 venv=$here/.venv-$1
    if [[ ! -x $venv/bin/python ]]; then
        echo "reference: creating $venv" >&2
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    local stamp=$venv/.bbagent-installed
    if ! cat "requirements-$name.txt" "constraints-$name.txt" | cmp -s - "$stamp" 2>/dev/null; then
        echo "reference: pip install -r requirements-$name.txt -c constraints-$name.txt" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "requirements-$name.txt" -c "constraints-$name.txt"
        cat "requirements-$name.txt" "constraints-$name.txt" >"$stamp"
    fi
}
install pai1
install pai2

export BBAGENT_BIN=${BBAGENT_BIN:-$(cd ../.. && pwd)/target/debug/bbagent}
export LLM_SCRIPT_BIN=${LLM_SCRIPT_BIN:-$(dirname "$BBAGENT_BIN")/llm-script}
export REFERENCE_PYTHON_PAI1=$here/.venv-pai1/bin/python
export REFERENCE_PYTHON_PAI2=$here/.venv-pai2/bin/python
exec "$here/.venv-pai2/bin/python" -m pytest -p no:cacheprovider -ra "$@" test_reference_program.py
