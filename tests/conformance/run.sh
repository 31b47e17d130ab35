#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package.json with Node 22 from the npm package `node`) against `bbagent mcp --http` on a
# fresh sandbox, for both protocol revisions the server speaks:
#   --requirements 2025-11-25   (initialize handshake, sessions, SSE, DNS rebinding, ...)
#   --requirements 2026-07-28   (stateless, header validation, ...)
# Scenarios that need the suite's own fixture server (tools named test_*, prompts, resources,
# logging, completions) are listed with reasons in expected-failures.yml; every other scenario
# must pass, and so must every scenario the suite runs but does not score. summarize.mjs
# judges all of them and prints `N passed, M failed` as the last line.
#
# Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), CONFORMANCE_TIMEOUT_MS (per scenario,
# default 30000). Results are kept in tests/conformance/results/<revision>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BBAGENT_BIN:-$root/target/debug/bbagent}
[[ $bin == /* ]] || bin=$PWD/$bin
cd "$here"

if [[ ! -x $bin ]]; then
    echo "conformance: no bbagent binary at $bin (run 'cargo build -p bbagent' or set BBAGENT_BIN)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# Install the suite and Node 22 exactly as locked, unless this lock is already installed.
if ! cmp -s package-lock.json node_modules/.bbagent-installed-lock 2>/dev/null; then
    echo "conformance: npm ci (@modelcontextprotocol/conformance + node@22)" >&2
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.bbagent-installed-lock
fi
node22=$here/node_modules/.bin/node
suite=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js
version=$("$node22" --version)
if [[ $version != v22.* ]]; then
    echo "conformance: expected Node 22 from the npm package 'node', got $version" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
suite_version=$("$node22" -p "require('./node_modules/@modelcontextprotocol/conformance/package.json').version")
echo "conformance: suite $suite_version, node $version, server $bin" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/bbagent-conformance.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# No --api-key (nor BBAGENT_API_KEY): the suite's client cannot send one. The server then
# accepts loopback clients only, which is what the suite's DNS-rebinding scenario expects.
mkdir -p "$work/sandbox"
env -u BBAGENT_API_KEY "$bin" mcp --http 127.0.0.1:0 --sandbox --sandbox-dir "$work/sandbox" \
    >"$work/server.out" 2>"$work/server.log" &
server_pid=$!

url=
for _ in $(seq 1 300); do
    if [[ -s $work/server.out ]] && url=$(head -n 1 "$work/server.out") && [[ $url == http*://*/mcp* ]]; then
        break
    fi
    url=
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [[ -z $url ]]; then
    echo "conformance: the server did not print its URL; its stderr:" >&2
    cat "$work/server.log" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
echo "conformance: server at $url" >&2

rm -rf results
mkdir -p results
suite_failed=()
runs=()
for revision in 2025-11-25 2026-07-28; do
    echo
    echo "=== conformance server --requirements $revision ==="
    log=results/$revision.log
    rc=0
    "$node22" "$suite" server --url "$url" \
        --requirements "$revision" \
        --expected-failures expected-failures.yml \
        --timeout "${CONFORMANCE_TIMEOUT_MS:-30000}" \
        -o "results/$revision" >"$log" 2>&1 || rc=$?
    # The suite's own baseline verdict (it judges only the scenarios it scores). Its per-check
    # "x passed, y failed" summary stays in the log: it counts excluded checks as failures.
    sed -e 's/\x1b\[[0-9;]*m//g' "$log" | awk -v rev="$revision" '
        /^(Stale baseline entries|Unexpected failures \(not in baseline\))/ { blk = 1; print "suite " rev ": " $0; next }
        blk && /^  / { print "suite " rev ": " $0; next }
        { blk = 0 }
        /^(Baseline check passed|Baseline is stale|Unexpected failures detected)/ { print "suite " rev ": " $0 }'
    if [[ $rc -ne 0 ]]; then
        echo "conformance: the suite exited with $rc for $revision (full log: tests/conformance/$log)"
        suite_failed+=("$revision")
    fi
    announced=$(sed -n "s/^Running requirements $revision (\([0-9]*\) scenarios).*/\1/p" "$log" | head -n 1)
    runs+=("results/$revision:${announced:-0}")
done

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "conformance: the server died during the run; its stderr:" >&2
    cat "$work/server.log" >&2
    suite_failed+=("server-died")
fi
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=

echo
echo "=== bbagent conformance verdict (every scenario that ran, against expected-failures.yml) ==="
# Its last line is `N passed, M failed`; a failed suite process counts as a failure there.
SUITE_FAILED="${suite_failed[*]}" "$node22" summarize.mjs expected-failures.yml "${runs[@]}"
