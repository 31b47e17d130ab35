"""Prints run.sh's summary from schemathesis's JSON report and the hooks' tally of responses.

Usage: python summary.py REPORT TALLY OPERATIONS_COUNT

The last line is `N passed, M failed`, counting operations: an operation fails when any
check failed on it. Exits non-zero when anything failed or schemathesis itself erred.
"""

import json
import sys


def main() -> int:
    report_path, tally_path, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    with open(tally_path, encoding="utf-8") as f:
        tally = json.load(f)

    requests = sum(sum(counts.values()) for counts in tally.values())
    by_class: dict[str, int] = {}
    for counts in tally.values():
        for status_class, n in counts.items():
            by_class[status_class] = by_class.get(status_class, 0) + n
    ok = by_class.get("2xx", 0)
    # A redirect is the success of the operations the spec answers with one.
    reached = sum(1 for counts in tally.values() if counts.get("2xx") or counts.get("3xx"))
    tested = report["operations"]["tested"]
    print(
        f"schemathesis: {requests} requests to {tested} operations; "
        + ", ".join(f"{by_class[c]} {c}" for c in sorted(by_class))
        + f" ({100 * ok / max(requests, 1):.0f}% 2xx; {reached} operations succeeded at least once)"
    )
    never = sorted(
        label for label, counts in tally.items() if not (counts.get("2xx") or counts.get("3xx"))
    )
    if never:
        print("never succeeded: " + "; ".join(never))

    failed: set[str] = set()
    for failure in report["failures"]:
        failed.update(failure["operations"])
        print(f"{failure['code']} {failure['title']} ({failure['count']}): {', '.join(failure['operations'])}")
    errors = sum(error["count"] for error in report["errors"])
    for error in report["errors"]:
        print(f"schemathesis error: {error['title']} ({error['count']})")
    problems = []
    if tested != expected:
        problems.append(f"{expected} operations listed, {tested} tested")
    if errors:
        problems.append(f"{errors} schemathesis errors")
    for problem in problems:
        print(f"error: {problem}")
    print(f"{tested - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
