"""schemathesis hooks for run.sh: counts the responses by operation and status class and
writes them, as JSON, to the file named by `BBAGENT_FUZZ_TALLY` when the run ends."""

import atexit
import collections
import json
import os
import threading

import schemathesis

_lock = threading.Lock()
_tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@schemathesis.hook
def after_call(context, case, response):
    with _lock:
        _tally[case.operation.label][f"{response.status_code // 100}xx"] += 1


@atexit.register
def _write() -> None:
    path = os.environ.get("BBAGENT_FUZZ_TALLY")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({label: dict(counts) for label, counts in _tally.items()}, f)
