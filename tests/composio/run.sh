#!/usr/bin/env bash
# Runs the composio SDK test (test_composio_sdk.py) against `bbagent router`.
# Creates tests/composio/.venv if missing and installs requirements.txt into it whenever it
# changed; pytest's summary line is the last line.
#
# Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), PYTHON (default: python3),
# extra arguments are passed to pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${BBAGENT_BIN:-} && $BBAGENT_BIN != /* ]]; then BBAGENT_BIN=$PWD/$BBAGENT_BIN; fi
cd "$here"

venv=$here/.venv
if [[ ! -x $venv/bin/python ]]; then
    echo "composio: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp=$venv/.bbagent-installed
if ! cmp -s requirements.txt "$stamp" 2>/dev/null; then
    echo "composio: pip install -r requirements.txt" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt "$stamp"
fi

export BBAGENT_BIN=${BBAGENT_BIN:-$(cd ../.. && pwd)/target/debug/bbagent}
exec "$venv/bin/python" -m pytest -p no:cacheprovider -ra "$@" test_composio_sdk.py
