"""The reference design's own MCP client, Pydantic AI, against `bbagent mcp --http`.

An agent built from `pydantic-ai-slim[mcp]` 2.x (`MCPToolset`, which replaced 1.x's
`MCPServerStreamableHTTP`) and a scripted `FunctionModel` (so no LLM and no key are needed)
creates a branch off `main` and opens a pull request on the embedded sandbox, through the MCP
server with API-key auth on. The effects are then read back through MCP. It runs once per
protocol era: `MCPToolset(url, headers=...)` as is (FastMCP negotiates 2026-07-28, stateless)
and with a FastMCP client pinned to the 2025-11-25 initialize handshake (sessions).

A branch created off `main` has no commit of its own, and Bitbucket (so the sandbox too)
refuses a pull request with "There are no changes to be pulled". The scripted model first
tries exactly that (`feature/pydantic` -> `main`), gets the refusal back as a retry prompt,
as a real model would, and then opens the pull request that can exist: `develop` (which has
commits that are not on `main`) into the new branch.

Env: BBAGENT_BIN, the binary (default: <repo>/target/debug/bbagent).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastmcp.client import Client
from fastmcp.client.transports import StreamableHttpTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

REPO_ROOT = Path(__file__).resolve().parents[2]
BBAGENT_BIN = Path(os.environ.get("BBAGENT_BIN") or REPO_ROOT / "target" / "debug" / "bbagent")
if not BBAGENT_BIN.is_absolute():
    BBAGENT_BIN = REPO_ROOT / BBAGENT_BIN

WIDGETS = {"workspace": "acme", "repo_slug": "widgets"}
BRANCH = "feature/pydantic"
PR_TITLE = "Bring develop into feature/pydantic"
REQUIRED_TOOLS = {"BITBUCKET_CREATE_BRANCH", "BITBUCKET_CREATE_PULL_REQUEST"}


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    api_key: str
    stderr_path: Path

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`bbagent mcp --http 127.0.0.1:0` on a fresh sandbox, with an API key; killed afterwards."""
    if not BBAGENT_BIN.is_file():
        pytest.fail(f"no bbagent binary at {BBAGENT_BIN}: run `cargo build -p bbagent` or set BBAGENT_BIN")
    api_key = secrets.token_urlsafe(24)
    sandbox_dir = tmp_path / "sandbox"
    sandbox_dir.mkdir()
    stderr_path = tmp_path / "server.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                str(BBAGENT_BIN), "mcp", "--http", "127.0.0.1:0",
                "--sandbox", "--sandbox-dir", str(sandbox_dir),
                f"--api-key={api_key}",  # a random key may start with `-`
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            # The key is given on the command line; keep a BBAGENT_API_KEY of the caller out.
            env={k: v for k, v in os.environ.items() if k != "BBAGENT_API_KEY"},
        )
    try:
        # The first stdout line is the MCP URL.
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=60).decode().strip()
        except queue.Empty:
            first = ""
        srv = Server(url=first, api_key=api_key, stderr_path=stderr_path)
        if not first.startswith("http://127.0.0.1:") or not first.endswith("/mcp"):
            pytest.fail(f"the server printed no MCP URL (got {first!r}); its stderr:\n{srv.stderr_tail()}")
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


# --- the two ways of connecting -----------------------------------------------------------------


def toolset_2026(url: str, headers: dict[str, str] | None) -> MCPToolset:
    # Exactly the documented 2.x API; FastMCP's default "auto" mode negotiates the newest era.
    return MCPToolset(url, headers=headers)


def toolset_2025(url: str, headers: dict[str, str] | None) -> MCPToolset:
    # A pre-built FastMCP client pinned to the classic initialize handshake (sessions).
    return MCPToolset(Client(StreamableHttpTransport(url, headers=headers), mode="legacy"))


ERAS: dict[str, Callable[[str, dict[str, str] | None], MCPToolset]] = {
    "2026-07-28": toolset_2026,
    "2025-11-25": toolset_2025,
}


# --- the scripted model -----------------------------------------------------------------------


@dataclass
class Script:
    """A FunctionModel that drives the tools like an agent would, and records what it saw."""

    offered_tools: list[str] = field(default_factory=list)
    tool_results: dict[str, Any] = field(default_factory=dict)  # tool_call_id -> returned content
    retries: dict[str, str] = field(default_factory=dict)  # tool_call_id -> error shown to the model
    turns: int = 0

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.turns += 1
        last = messages[-1]
        assert isinstance(last, ModelRequest), f"expected a request last, got {last!r}"
        for part in last.parts:
            # A tool error comes back as a retry prompt: a `ToolReturnPart` with outcome
            # "retried" in 2.x (a `RetryPromptPart` in older releases).
            if isinstance(part, ToolReturnPart) and part.outcome == "success":
                self.tool_results[part.tool_call_id] = part.content
            elif isinstance(part, ToolReturnPart):
                self.retries[part.tool_call_id] = f"{part.outcome}: {part.content}"
            elif isinstance(part, RetryPromptPart):
                self.retries[part.tool_call_id] = part.model_response()

        if self.turns == 1:
            self.offered_tools = sorted(t.name for t in info.function_tools)
            missing = REQUIRED_TOOLS - set(self.offered_tools)
            assert not missing, f"tools not offered: {missing}; offered: {self.offered_tools}"
            return call("BITBUCKET_CREATE_BRANCH", "branch", name=BRANCH, target="main")
        if self.turns == 2:
            assert "branch" in self.tool_results, f"no result for the branch call: {last.parts!r}"
            # What a model would try first; the branch has nothing to pull yet.
            return call("BITBUCKET_CREATE_PULL_REQUEST", "pr-empty", title="Empty", source_branch=BRANCH)
        if self.turns == 3:
            assert "pr-empty" in self.retries, f"expected the empty PR to be refused: {last.parts!r}"
            return call(
                "BITBUCKET_CREATE_PULL_REQUEST", "pr",
                title=PR_TITLE, source_branch="develop", destination_branch=BRANCH,
            )
        if self.turns == 4:
            assert "pr" in self.tool_results, f"no result for the PR call: {last.parts!r}"
            pr = self.tool_results["pr"]
            return ModelResponse(parts=[TextPart(f"Opened pull request {pr_id(pr)} into {BRANCH}.")])
        raise AssertionError(f"unexpected turn {self.turns}: {last.parts!r}")


def call(tool: str, call_id: str, **args: Any) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(tool, {**WIDGETS, **args}, tool_call_id=call_id)])


def pr_id(result: Any) -> int:
    assert isinstance(result, dict) and isinstance(result.get("id"), int), f"no PR id in {result!r}"
    return result["id"]


def leaf_errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_errors(inner)]
    return [exc] + ([exc.__cause__] if exc.__cause__ else [])


# --- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("era", ERAS)
def test_agent_creates_branch_and_opens_pull_request(
    server: Server, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    headers = {"x-api-key": server.api_key}
    script = Script()
    toolset = ERAS[era](server.url, headers)
    agent = Agent(FunctionModel(script), toolsets=[toolset])

    async def run() -> tuple[str, str | None]:
        async with agent:  # one MCP connection for the whole run
            version = toolset.client.protocol_version
            result = await agent.run("Create the branch feature/pydantic off main and open a pull request.")
        return result.output, version

    try:
        output, version = asyncio.run(run())
    except BaseException:
        print(f"server stderr:\n{server.stderr_tail()}")
        raise
    assert version == era, f"negotiated protocol {version!r}, wanted {era}"
    # The MCP client ends its session (2025-11-25) with a DELETE and warns unless the server
    # answers 200 or 204.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [w for w in warnings if "termination" in w.lower()], warnings

    # What the model saw.
    assert REQUIRED_TOOLS <= set(script.offered_tools)
    assert all(name.startswith("BITBUCKET_") for name in script.offered_tools), script.offered_tools
    branch = script.tool_results["branch"]
    assert isinstance(branch, dict) and branch.get("name") == BRANCH, branch
    refusal = script.retries["pr-empty"]
    assert "no changes to be pulled" in refusal.lower(), refusal
    assert set(script.retries) == {"pr-empty"}, script.retries
    pr = script.tool_results["pr"]
    number = pr_id(pr)
    assert output == f"Opened pull request {number} into {BRANCH}."

    # What the server holds now, read back through MCP on a new connection.
    async def read_back() -> tuple[dict, dict, dict, dict]:
        async with ERAS[era](server.url, headers) as check:
            main = await check.direct_call_tool("BITBUCKET_GET_BRANCH", {**WIDGETS, "name": "main"})
            new = await check.direct_call_tool("BITBUCKET_GET_BRANCH", {**WIDGETS, "name": BRANCH})
            develop = await check.direct_call_tool("BITBUCKET_GET_BRANCH", {**WIDGETS, "name": "develop"})
            got = await check.direct_call_tool("BITBUCKET_GET_PULL_REQUEST", {**WIDGETS, "pull_request_id": number})
        return main, new, develop, got

    main, new, develop, got = asyncio.run(read_back())
    assert new["name"] == BRANCH
    assert new["commit"] == main["commit"], f"{BRANCH} is at {new['commit']}, main at {main['commit']}"
    assert branch["commit"] == main["commit"]
    assert got["id"] == number
    assert got["state"] == "OPEN", got
    assert got["title"] == PR_TITLE
    assert got["source_branch"] == "develop", got
    assert got["destination_branch"] == BRANCH, got
    assert develop["commit"].startswith(got["source_commit"]), (develop, got)


@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong-key", "no-key"])
@pytest.mark.parametrize("era", ERAS)
def test_wrong_api_key_is_refused_clearly(server: Server, era: str, key: str | None) -> None:
    script = Script()
    agent = Agent(FunctionModel(script), toolsets=[ERAS[era](server.url, {"x-api-key": key} if key else None)])

    with pytest.raises(BaseException) as caught:
        asyncio.run(agent.run("List my repositories."))

    messages = [f"{type(e).__name__}: {e}" for e in leaf_errors(caught.value)]
    assert any("unauthorized" in m and "x-api-key" in m for m in messages), messages
    assert script.turns == 0, "the model was called although the server refused the connection"
