"""The composio Python SDK 0.30.0, unchanged, against `bbagent router` with only its base URL
pointed at the router: create a session, read its MCP URL and tools, search, authorize the
user through the auth link page, run a tool with the user's own connection, and delete the
session.

Env: BBAGENT_BIN, the binary (default: <repo>/target/debug/bbagent).
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from composio import Composio
from composio.exceptions import ToolInputRequiredError

REPO_ROOT = Path(__file__).resolve().parents[2]
BBAGENT_BIN = Path(os.environ.get("BBAGENT_BIN") or REPO_ROOT / "target" / "debug" / "bbagent")
if not BBAGENT_BIN.is_absolute():
    BBAGENT_BIN = REPO_ROOT / BBAGENT_BIN

# The demo user of a fresh sandbox (see README.md).
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "sandbox-token"


@dataclass
class Router:
    url: str
    api_key: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no router log)"


def clean_env() -> dict[str, str]:
    # Nothing of the caller's Bitbucket, router or Composio settings leaks in.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BITBUCKET_", "BBAGENT_", "COMPOSIO_"))
    }


@pytest.fixture
def router(tmp_path: Path) -> Iterator[Router]:
    """`bbagent router` on port 0 over a fresh sandbox, with one API key; stopped afterwards."""
    if not BBAGENT_BIN.is_file():
        pytest.fail(f"no bbagent binary at {BBAGENT_BIN}: run `cargo build -p bbagent` or set BBAGENT_BIN")
    data = tmp_path / "router"
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    key = subprocess.run(
        [str(BBAGENT_BIN), "router", "keys", "create", "--name", "sdk", "--data-dir", str(data)],
        check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout.strip()
    log = tmp_path / "router.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                str(BBAGENT_BIN), "router", "--listen", "127.0.0.1:0", "--data-dir", str(data),
                "--sandbox", "--sandbox-dir", str(sandbox),
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=clean_env(),
        )
    try:
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=60).decode().strip()
        except queue.Empty:
            first = ""
        srv = Router(url=first, api_key=key, log=log)
        if not first.startswith("http://127.0.0.1:"):
            pytest.fail(f"the router printed no URL (got {first!r}); its log:\n{srv.log_tail()}")
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def submit_link(url: str, origin: str, fields: dict[str, str]) -> tuple[int, str]:
    """Posts the auth link form as a browser would."""
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_sdk_runs_a_session_end_to_end(router: Router) -> None:
    composio = Composio(api_key=router.api_key, base_url=router.url)
    session = composio.create(user_id="u1", toolkits=["bitbucket"])
    assert session.session_id.startswith("trs_")
    assert session.mcp.url == f"{router.url}/tool_router/{session.session_id}/mcp"

    # The SDK attaches the key to the MCP URL only on the API's own origin: the router's.
    with_mcp = composio.create(user_id="u1", toolkits=["bitbucket"], mcp=True)
    assert with_mcp.mcp.headers.get("x-api-key") == router.api_key

    tools = session.tools()
    names = sorted(t["function"]["name"] for t in tools)
    assert names == sorted([
        "COMPOSIO_SEARCH_TOOLS", "COMPOSIO_GET_TOOL_SCHEMAS", "COMPOSIO_MANAGE_CONNECTIONS",
        "COMPOSIO_WAIT_FOR_CONNECTIONS", "COMPOSIO_MULTI_EXECUTE_TOOL",
    ]), names

    again = composio.use(session.session_id)
    assert again.session_id == session.session_id
    assert again.mcp.url == session.mcp.url

    found = session.search(query="create a new branch from main")
    assert found.results[0].primary_tool_slugs[0] == "BITBUCKET_CREATE_BRANCH"
    assert "BITBUCKET_CREATE_BRANCH" in found.tool_schemas
    assert not found.toolkit_connection_statuses[0].has_active_connection

    toolkits = session.toolkits()
    assert [t.slug for t in toolkits.items] == ["bitbucket"]
    assert not toolkits.items[0].connection.is_active

    request = session.authorize("bitbucket")
    assert request.redirect_url.startswith(f"{router.url}/link/")
    status, page = submit_link(request.redirect_url, router.url, {"email": DEMO_EMAIL, "api_token": "wrong"})
    assert status == 400 and "Not connected" in page
    status, page = submit_link(request.redirect_url, router.url, {"email": DEMO_EMAIL, "api_token": DEMO_TOKEN})
    assert status == 200 and "Connected as Demo User" in page, page
    assert session.toolkits().items[0].connection.is_active

    result = session.execute(
        "BITBUCKET_CREATE_BRANCH",
        arguments={"workspace": "acme", "repo_slug": "widgets", "name": "feature/sdk", "target": "main"},
    )
    assert result.error is None, result
    assert result.data["name"] == "feature/sdk"
    listed = session.execute("BITBUCKET_LIST_BRANCHES", arguments={"workspace": "acme", "repo_slug": "widgets"})
    assert "feature/sdk" in str(listed.data)

    meta = session.execute_meta("COMPOSIO_SEARCH_TOOLS", arguments={"queries": [{"use_case": "list open pull requests"}]})
    assert meta.data["results"][0]["primary_tool_slugs"][0] == "BITBUCKET_LIST_PULL_REQUESTS", meta
    batch = session.execute(
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        arguments={"tools": [{"tool_slug": "BITBUCKET_GET_CURRENT_USER", "arguments": {}}]},
    )
    assert batch.data["success_count"] == 1, batch

    # A destructive tool asks first: the SDK raises, and the same call with the answer runs.
    widgets = {"workspace": "acme", "repo_slug": "widgets"}
    created = session.execute("BITBUCKET_CREATE_ISSUE", arguments={**widgets, "title": "doomed"})
    doomed = {**widgets, "issue_id": created.data["id"]}

    def issue_ids() -> list[int]:
        listed = session.execute("BITBUCKET_LIST_ISSUES", arguments={**widgets, "pagelen": 100})
        return [issue["id"] for issue in listed.data["items"]]

    with pytest.raises(ToolInputRequiredError) as asked:
        session.execute("BITBUCKET_DELETE_ISSUE", arguments=doomed)
    (question,) = asked.value.input_requests
    denied = session.execute(
        "BITBUCKET_DELETE_ISSUE", arguments=doomed,
        input_responses={question: {"action": "accept", "content": {"decision": "deny"}}},
    )
    assert denied.result_type == "failed"
    assert doomed["issue_id"] in issue_ids()
    approved = session.execute(
        "BITBUCKET_DELETE_ISSUE", arguments=doomed,
        input_responses={question: {"action": "accept", "content": {"decision": "approve"}}},
    )
    assert approved.result_type == "completed", approved
    assert doomed["issue_id"] not in issue_ids()

    deleted = composio.sessions.delete(session.session_id)
    assert deleted["deleted"] is True
    with pytest.raises(Exception) as gone:
        composio.use(session.session_id)
    assert "404" in str(gone.value) or "not found" in str(gone.value).lower()


def test_unknown_fields_and_unoffered_features_are_refused(router: Router) -> None:
    composio = Composio(api_key=router.api_key, base_url=router.url)
    with pytest.raises(Exception) as refused:
        composio.create(user_id="u1", toolkits=["bitbucket"], workbench={"enable": True})
    assert "workbench" in str(refused.value)
    wrong = Composio(api_key="bbr_not-a-key", base_url=router.url)
    with pytest.raises(Exception) as unauthorized:
        wrong.create(user_id="u1", toolkits=["bitbucket"])
    assert "401" in str(unauthorized.value) or "unauthorized" in str(unauthorized.value).lower()
