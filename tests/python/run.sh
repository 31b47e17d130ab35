#!/usr/bin/env bash
# Runs the Pydantic AI client test (test_pydantic_ai.py) against `bbagent mcp --http`.
# Creates tests/python/.venv if missing and installs requirements.txt (pinned by
# constraints.txt) into it whenever they changed; pytest's summary line is the last line.
#
# Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), PYTHON (default: python3),
# extra arguments are passed to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${BBAGENT_BIN:-} && $BBAGENT_BIN != /* ]]; then BBAGENT_BIN=$PWD/$BBAGENT_BIN; fi
cd "$here"

venv=$here/.venv
if [[ ! -x $venv/bin/python ]]; then
    echo "python: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp=$venv/.bbagent-installed
if ! cat requirements.txt constraints.txt | cmp -s - "$stamp" 2>/dev/null; then
    echo "python: pip install -r requirements.txt -c constraints.txt" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r requirements.txt -c constraints.txt
    cat requirements.txt constraints.txt >"$stamp"
fi

export BBAGENT_BIN=${BBAGENT_BIN:-$(cd ../.. && pwd)/target/debug/bbagent}
exec "$venv/bin/python" -m pytest -p no:cacheprovider -ra "$@" test_pydantic_ai.py
