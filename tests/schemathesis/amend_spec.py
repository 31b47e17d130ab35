"""Writes the official OpenAPI spec with the few amendments that fuzzing the sandbox needs.

Usage: python amend_spec.py SPEC OPERATIONS OUT

Each amendment fixes something the spec gets wrong or leaves out about Bitbucket Cloud itself,
narrowly, so that every other part of every response is still checked against the spec as
published. The sandbox is never excused here: a difference that is the sandbox's fault is
fixed in the sandbox.
"""

import copy
import json
import sys

# Status codes Bitbucket answers on every operation, with its error envelope: a bad query or
# body (400), missing or wrong credentials (401), no access (403), no such object (404). The
# spec lists them unevenly (many operations have no 400 or 404 at all), so without this
# schemathesis could neither accept these answers nor check their bodies.
ERROR_STATUSES = ("400", "401", "403", "404")


def amend(spec: dict, operations: list[tuple[str, str]]) -> dict:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]

    # Bitbucket's validation errors carry `error.fields` (each field's messages), and so does
    # the sandbox (ARCHITECTURE.md, "The sandbox answers only in Bitbucket's shapes"); the
    # spec's `error` forbids any property it does not list.
    schemas["error"]["properties"]["error"]["properties"]["fields"] = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }

    # `pullrequest_comment_task` is an `allOf` whose parts each forbid the others'
    # properties (`task` allows no `links` or `comment`, the part adding `links` allows
    # nothing else), so no task with any property validates. The same task as one object:
    # `task`'s properties and required fields, plus `links` and `comment`, nothing else (the
    # contract test `validate_task` checks the parts the same way).
    task = schemas["task"]
    links = schemas["pullrequest_task"]["allOf"][1]["properties"]["links"]
    comment = schemas["pullrequest_comment_task"]["allOf"][1]["properties"]["comment"]
    schemas["pullrequest_comment_task"] = {
        "type": "object",
        "title": "Pull Request Comment Task",
        "properties": {**task["properties"], "links": links, "comment": comment},
        "required": task["required"],
        "additionalProperties": False,
    }

    # A report's data field holds a boolean, a number, a string or a link object, as the
    # report operation's own table of data field formats says, but `report_data.value` is
    # typed `object`, which only the link fits. Any JSON value here; the sandbox checks each
    # against the field's `type` (the contract test `validate_report` does the same).
    schemas["report_data"]["properties"]["value"] = {
        "description": schemas["report_data"]["properties"]["value"].get("description", ""),
    }

    # A file's or folder's source with `format=meta` is its meta document, as both operations'
    # descriptions say, but their 200 schema is only the folder's listing. The meta document
    # is a `treeentry` (the spec's own type for a listing's entries) of a file or folder.
    for path in (
        "/repositories/{workspace}/{repo_slug}/src",
        "/repositories/{workspace}/{repo_slug}/src/{commit}/{path}",
    ):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        meta = {
            "allOf": [{"$ref": "#/components/schemas/treeentry"}],
            "properties": {"type": {"enum": ["commit_file", "commit_directory"]}},
        }
        content["schema"] = {"anyOf": [content["schema"], meta]}

    error = {"$ref": "#/components/schemas/error"}
    for method, path in operations:
        responses = spec["paths"][path][method.lower()]["responses"]
        for status in ERROR_STATUSES:
            responses.setdefault(
                status,
                {
                    "description": "Bitbucket's error envelope (added by amend_spec.py).",
                    "content": {"application/json": {"schema": error}},
                },
            )
    return spec


def read_operations(path: str) -> list[tuple[str, str]]:
    operations = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line or line.startswith(("#", "!")):
                continue
            method, _, route = line.partition(" ")
            operations.append((method, route))
    return operations


def main() -> None:
    spec_path, operations_path, out_path = sys.argv[1:]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    operations = read_operations(operations_path)
    missing = [f"{m} {p}" for m, p in operations if m.lower() not in spec["paths"].get(p, {})]
    if missing:
        sys.exit(f"operations.txt names operations the spec does not have: {missing}")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(amend(spec, operations), f)


if __name__ == "__main__":
    main()
