"""Adds to a fresh sandbox the objects that schemathesis.toml's dictionaries name beyond the
seed data, so that fuzzed requests reach real comments, tasks, tags and statuses, and writes
the dictionaries whose values only the running sandbox knows (commit hashes, the snippet's
revision) into DIR, beside the copy of schemathesis.toml that run.sh uses.

Usage: python prepare.py BASE_URL DIR
"""

import base64
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import quote

AUTH = "Basic " + base64.b64encode(b"demo@example.com:sandbox-token").decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(base: str, method: str, path: str, body: dict | list | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": AUTH, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"prepare: {method} {path} answered {e.code}: {e.read().decode(errors='replace')}")
    return json.loads(text) if text else {}


def commit_file(base: str, repo: str, branch: str, path: str, content: str) -> None:
    """Commits one file on `branch` through `POST src` (a form, as Bitbucket takes it)."""
    from urllib.parse import urlencode
    data = urlencode({"message": "Add " + path, "branch": branch, path: content}).encode()
    request = urllib.request.Request(
        base + repo + "/src",
        data=data,
        method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def write_dictionary(path: str, values: list[str]) -> None:
    """A dictionary file in libFuzzer's format, which schemathesis reads: one quoted value a line."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(value) + "\n" for value in values)


def snippet_revision(base: str, path: str) -> str:
    """The revision a snippet's file redirects to (`/snippets/{w}/{id}/{node_id}/files/...`)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(base + path, headers={"Authorization": AUTH})
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as e:
        if e.code == 302:
            return e.headers["Location"].split("/files/")[0].rsplit("/", 1)[1]
        raise
    sys.exit(f"prepare: GET {path} did not redirect")


def main() -> None:
    base, out = sys.argv[1], sys.argv[2]
    repo = "/repositories/acme/widgets"
    head = call(base, "GET", f"{repo}/commit/main")["hash"]
    # Two of each kind of comment, so `comment_id` 1 and 2 exist wherever comments are.
    for n in (1, 2):
        call(base, "POST", f"{repo}/issues/1/comments", {"content": {"raw": f"Issue comment {n}"}})
        call(base, "POST", f"{repo}/pullrequests/1/comments", {"content": {"raw": f"Review {n}"}})
        call(base, "POST", f"{repo}/commit/{head}/comments", {"content": {"raw": f"Commit {n}"}})
        call(base, "POST", f"{repo}/pullrequests/1/tasks", {"content": {"raw": f"Task {n}"}})
    call(base, "POST", f"{repo}/refs/tags", {"name": "v1.0", "target": {"hash": head}})
    call(base, "POST", f"{repo}/commit/{head}/statuses/build",
         {"key": "CI", "state": "SUCCESSFUL", "url": "https://ci.example/1"})
    call(base, "POST", f"{repo}/pullrequests",
         {"title": "Shared types", "source": {"branch": {"name": "develop"}}})
    # A Code Insights report with two annotations on main's head, and one to delete.
    for report in ("scan-1", "doomed"):
        call(base, "PUT", f"{repo}/commit/{head}/reports/{report}",
             {"title": "Scan", "details": "2 findings", "report_type": "SECURITY"})
        call(base, "POST", f"{repo}/commit/{head}/reports/{report}/annotations",
             [{"external_id": a, "annotation_type": "BUG", "summary": "Off by one"}
              for a in ("a1", "a2")])
    # Something for the operations that take back a review or reopen a comment to take back.
    call(base, "POST", f"{repo}/pullrequests/1/approve")
    call(base, "POST", f"{repo}/pullrequests/1/comments/1/resolve")
    # What the delete operations are pointed at (schemathesis.toml), so that they delete
    # something real once without taking away the objects every other operation reads.
    call(base, "POST", f"{repo}/refs/branches", {"name": "doomed", "target": {"hash": head}})
    call(base, "POST", f"{repo}/refs/tags", {"name": "doomed", "target": {"hash": head}})
    call(base, "POST", f"{repo}/issues", {"title": "Doomed"})
    call(base, "POST", "/repositories/acme/doomed", {"scm": "git", "is_private": True})

    # A pipeline (the sandbox does not run its steps unless told to: it completes with ERROR,
    # its steps NOT_RUN), and a variable of each kind.
    commit_file(base, repo, "main", "bitbucket-pipelines.yml",
                "pipelines:\n  default:\n    - step:\n        name: Build\n        script: [echo hi]\n")
    pipeline = call(base, "POST", f"{repo}/pipelines",
                    {"target": {"ref_type": "branch", "ref_name": "main"}})
    step = call(base, "GET", f"{repo}/pipelines/{quote(pipeline['uuid'])}/steps")["values"][0]
    variables = [call(base, "POST", f"{repo}/pipelines_config/variables",
                      {"key": "REGION", "value": "eu"})["uuid"],
                 call(base, "POST", "/workspaces/acme/pipelines-config/variables",
                      {"key": "TOKEN", "value": "s3cret", "secured": True})["uuid"]]
    environments = [e["uuid"] for e in call(base, "GET", f"{repo}/environments")["values"]]
    variables.append(call(base, "POST",
                          f"{repo}/deployments_config/environments/{quote(environments[2])}/variables",
                          {"key": "URL", "value": "https://example.com"})["uuid"])
    schedule = call(base, "POST", f"{repo}/pipelines_config/schedules",
                    {"target": {"ref_type": "branch", "ref_name": "main"},
                     "cron_pattern": "0 0 12 * * ? *"})
    runner = call(base, "POST", f"{repo}/pipelines-config/runners",
                  {"name": "build-box", "labels": ["self.hosted", "linux"]})
    host = call(base, "POST", f"{repo}/pipelines_config/ssh/known_hosts",
                {"hostname": "bitbucket.org", "public_key": {"key_type": "ssh-ed25519",
                 "key": "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}})
    # Without their braces, which schemathesis leaves out of path parameters (Bitbucket takes
    # either form).
    bare = lambda uuids: [u.strip("{}") for u in uuids]
    write_dictionary(f"{out}/pipelines.dict", bare([pipeline["uuid"]]) + ["1"])
    write_dictionary(f"{out}/steps.dict", bare([step["uuid"]]))
    write_dictionary(f"{out}/variables.dict", bare(variables))
    write_dictionary(f"{out}/environments.dict", bare(environments))
    write_dictionary(f"{out}/schedules.dict", bare([schedule["uuid"]]))
    write_dictionary(f"{out}/runners.dict", bare([runner["uuid"]]))
    write_dictionary(f"{out}/known-hosts.dict", bare([host["uuid"]]))

    names = ["main", "develop", "feature/login", "v1.0"]
    hashes = [call(base, "GET", f"{repo}/commit/{quote(name, safe='')}")["hash"] for name in names[:3]]
    write_dictionary(f"{out}/revisions.dict", names + hashes + [h[:12] for h in hashes])
    write_dictionary(f"{out}/snippet-revisions.dict",
                     [snippet_revision(base, "/snippets/acme/kypj/files/checklist.md")])


if __name__ == "__main__":
    main()
