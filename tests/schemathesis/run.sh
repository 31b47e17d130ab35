#!/usr/bin/env bash
# Fuzzes `bbagent sandbox` with schemathesis from the official OpenAPI spec
# (reference/bitbucket/openapi-cloud.json, amended where it is wrong by amend_spec.py): the
# operations in operations.txt, with the checks and path dictionaries of schemathesis.toml, on
# a fresh sandbox (a temporary data folder, a free loopback port) that prepare.py fills a
# little further and that is stopped at the end. Fails on any 5xx and on any response whose
# status, content type or body the spec does not allow.
# Creates tests/schemathesis/.venv if missing and installs requirements.txt (pinned by
# constraints.txt) into it whenever they changed. Prints how many requests were made and how
# many answered 2xx, then `N passed, M failed` (operations) last.
#
# Usage: run.sh [--long] [more schemathesis arguments]
#   (default)  a bounded run for CI: examples and fuzzing, 8 examples per operation, seed 1
#   --long     for ./scripts/fuzz: every phase (coverage, stateful too), 100 examples per
#              operation, a random seed (printed, to reproduce with --seed); give it
#              `--max-time SECONDS` to bound it (fuzzing and stateful testing then repeat
#              until the time is spent)
# Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), PYTHON (default: python3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${BBAGENT_BIN:-} && $BBAGENT_BIN != /* ]]; then BBAGENT_BIN=$PWD/$BBAGENT_BIN; fi
root=$(cd "$here/../.." && pwd)
BBAGENT_BIN=${BBAGENT_BIN:-$root/target/debug/bbagent}
cd "$here"

mode=(--phases examples,fuzzing --max-examples 8 --seed 1)
if [[ ${1:-} == --long ]]; then
    shift
    mode=(--phases examples,coverage,fuzzing,stateful --max-examples 100)
fi

if [[ ! -x $BBAGENT_BIN ]]; then
    echo "schemathesis: no bbagent binary at $BBAGENT_BIN; build it (cargo build -p bbagent) or set BBAGENT_BIN" >&2
    exit 1
fi

venv=$here/.venv
if [[ ! -x $venv/bin/python ]]; then
    echo "schemathesis: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp=$venv/.bbagent-installed
if ! cat requirements.txt constraints.txt | cmp -s - "$stamp" 2>/dev/null; then
    echo "schemathesis: pip install -r requirements.txt -c constraints.txt" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r requirements.txt -c constraints.txt
    cat requirements.txt constraints.txt >"$stamp"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bbagent-schemathesis.XXXXXX")
sandbox=
stop() {
    if [[ -n $sandbox ]]; then
        kill "$sandbox" 2>/dev/null || true
        wait "$sandbox" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

: >"$work/sandbox.out"
# The sandbox reads these from the environment; they must not leak in from the caller's shell.
env -u BBAGENT_SANDBOX_TOKEN -u BBAGENT_SANDBOX_LISTEN -u BBAGENT_SANDBOX_DIR \
    "$BBAGENT_BIN" sandbox --listen 127.0.0.1:0 --data-dir "$work/data" \
    >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox=$!
base_url=
for _ in $(seq 150); do
    base_url=$(head -n 1 "$work/sandbox.out")
    [[ -n $base_url ]] && break
    if ! kill -0 "$sandbox" 2>/dev/null; then break; fi
    sleep 0.1
done
if [[ -z $base_url ]]; then
    echo "schemathesis: the sandbox printed no base URL; its stderr:" >&2
    cat "$work/sandbox.err" >&2
    exit 1
fi
echo "schemathesis: sandbox at $base_url" >&2

cp schemathesis.toml "$work/"
"$venv/bin/python" prepare.py "$base_url" "$work"
"$venv/bin/python" amend_spec.py "$root/reference/bitbucket/openapi-cloud.json" operations.txt \
    "$work/spec.json"
operations=()
while read -r line; do
    operations+=(--include-name "$line")
done < <(grep -E '^[A-Z]+ /' operations.txt)

set +e
PYTHONPATH=$here SCHEMATHESIS_HOOKS=hooks BBAGENT_FUZZ_TALLY=$work/tally.json \
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$work/spec.json" \
    --url "$base_url" "${operations[@]}" "${mode[@]}" --no-color \
    --report json --report-json-path "$work/report.json" "$@"
status=$?
set -e
if [[ ! -f $work/report.json || ! -f $work/tally.json ]]; then
    echo "schemathesis: no report (exit $status)" >&2
    echo "0 passed, $((${#operations[@]} / 2)) failed"
    exit 1
fi
echo
"$venv/bin/python" summary.py "$work/report.json" "$work/tally.json" $((${#operations[@]} / 2)) || status=1
exit "$status"
