"""The reference design's own program, unchanged, against `bbagent router`.

`reference_program.py` (pydantic-ai 1.x, `MCPServerStreamableHTTP`) and
`reference_program_pai2.py` (pydantic-ai 2.x, `MCPToolset`) are what a user writes from
Composio's docs: the composio SDK 0.30.0 creates a tool router session for `USER_ID` with the
Bitbucket toolkit, and a Pydantic AI agent on gpt-5 gets the session's MCP URL. Each runs as
its own process in its own venv, and nothing but the environment points it here:
`COMPOSIO_BASE_URL` at `bbagent router`, `COMPOSIO_API_KEY` a key from `bbagent router keys
create`, and `OPENAI_BASE_URL`/`OPENAI_API_KEY` at `llm-script serve`, the scripted server
standing in for gpt-5 (the only fake: a remote LLM).

The script makes the model do what gpt-5 does with Composio's meta-tools: search for the use
case, ask for the Bitbucket connection (the user has none yet, so the router answers with an
auth link), wait for the connection, run `BITBUCKET_CREATE_BRANCH` through
`COMPOSIO_MULTI_EXECUTE_TOOL`, and answer. The test plays the user: it reads the link in the
tool result the model was given (llm-script records every request), opens it, first types a
wrong token (refused), then the demo user's real one. At the end, the branch
must exist in the sandbox at `main`'s head, read through the sandbox's own REST API. A second
script skips the connection: the router must refuse the call and the branch must not exist.

The sandbox runs as its own process (`bbagent sandbox`) and the router uses it through
`--sandbox --sandbox-dir`, so the test can read Bitbucket directly.

Env: BBAGENT_BIN (default: <repo>/target/debug/bbagent), LLM_SCRIPT_BIN (default: llm-script
beside it), REFERENCE_PYTHON_PAI1 and REFERENCE_PYTHON_PAI2 (the venvs' interpreters; run.sh
sets them).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


def _binary(env: str, default: Path) -> Path:
    path = Path(os.environ.get(env) or default)
    return path if path.is_absolute() else REPO_ROOT / path


BBAGENT_BIN = _binary("BBAGENT_BIN", REPO_ROOT / "target" / "debug" / "bbagent")
LLM_SCRIPT_BIN = _binary("LLM_SCRIPT_BIN", BBAGENT_BIN.parent / "llm-script")

# The demo user of a fresh sandbox (see README.md).
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "sandbox-token"
DEMO_NAME = "Demo User"

USER_ID = "user_123"
BRANCH = "feature/ref"
PROMPT = f"Create a branch {BRANCH} off main in acme/widgets"
FINAL_TEXT = f"Done: the branch {BRANCH} now exists in acme/widgets, at the head of main."

# Each program, and the interpreter of the venv with its pydantic-ai.
PROGRAMS = {
    "pydantic-ai-1": ("reference_program.py", "REFERENCE_PYTHON_PAI1"),
    "pydantic-ai-2": ("reference_program_pai2.py", "REFERENCE_PYTHON_PAI2"),
}

TIMEOUT = 120  # seconds for one run of the program; it normally takes a few


# --- processes --------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that could point a process elsewhere."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BITBUCKET_", "BBAGENT_", "COMPOSIO_", "OPENAI_", "REFERENCE_"))
    }


@dataclass
class Process:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return f"(no {self.name} log)"
        return "\n".join(text.splitlines()[-lines:])


def start(name: str, args: list[str], log: Path, env: dict[str, str]) -> Process:
    """Starts a server whose first stdout line is its URL; fails the test if none comes."""
    if not Path(args[0]).is_file():
        pytest.fail(f"no {name} binary at {args[0]}: run `cargo build -p bbagent -p llm-script`")
    with log.open("wb") as stderr:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env)
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=60).decode().strip()
    except queue.Empty:
        first = ""
    started = Process(name=name, url=first, proc=proc, log=log)
    if not first.startswith("http://127.0.0.1:"):
        stop(started)
        pytest.fail(f"{name} printed no URL (got {first!r}); its log:\n{started.log_tail()}")
    return started


def stop(process: Process) -> None:
    process.proc.terminate()
    try:
        process.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.proc.kill()
        process.proc.wait()
    if process.proc.stdout:
        process.proc.stdout.close()


@dataclass
class Router:
    url: str
    api_key: str
    sandbox_api: str  # the sandbox's REST base, `http://127.0.0.1:PORT/2.0`
    log: Process


@pytest.fixture
def router(tmp_path: Path) -> Iterator[Router]:
    """A fresh sandbox, and `bbagent router` on it (port 0) with one API key."""
    sandbox_dir = tmp_path / "sandbox"
    data_dir = tmp_path / "router"
    sandbox = start(
        "bbagent sandbox",
        [str(BBAGENT_BIN), "sandbox", "--listen", "127.0.0.1:0", "--data-dir", str(sandbox_dir)],
        tmp_path / "sandbox.log",
        clean_env(),
    )
    try:
        key = subprocess.run(
            [str(BBAGENT_BIN), "router", "keys", "create", "--name", "reference", "--data-dir", str(data_dir)],
            capture_output=True, text=True, env=clean_env(), timeout=60,
        )
        if key.returncode != 0 or not key.stdout.strip():
            pytest.fail(f"`bbagent router keys create` failed ({key.returncode}): {key.stderr}")
        # `--sandbox` with the sandbox's folder: the router uses the sandbox started above.
        served = start(
            "bbagent router",
            [
                str(BBAGENT_BIN), "router", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
                "--sandbox", "--sandbox-dir", str(sandbox_dir),
            ],
            tmp_path / "router.log",
            clean_env(),
        )
        try:
            yield Router(url=served.url, api_key=key.stdout.strip(), sandbox_api=sandbox.url, log=served)
        finally:
            stop(served)
    finally:
        stop(sandbox)


# --- the scripted gpt-5 -------------------------------------------------------------------------


def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A turn with one tool call and no text: pydantic-ai's `run_stream` would take text as
    the final answer and stop there."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


SEARCH = call(
    "COMPOSIO_SEARCH_TOOLS",
    {
        "queries": [{"use_case": "create a branch off main", "known_fields": "workspace:acme, repo_slug:widgets"}],
        "session": {"generate_id": True},
    },
)
CONNECT = [
    call("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["bitbucket"]}),
    call("COMPOSIO_WAIT_FOR_CONNECTIONS", {"toolkits": ["bitbucket"], "mode": "all"}),
]
CREATE_BRANCH = call(
    "COMPOSIO_MULTI_EXECUTE_TOOL",
    {
        "tools": [
            {
                "tool_slug": "BITBUCKET_CREATE_BRANCH",
                "arguments": {"workspace": "acme", "repo_slug": "widgets", "name": BRANCH, "target": "main"},
            }
        ],
        "thought": "Create the branch the user asked for.",
        "sync_response_to_workbench": False,
    },
)


def answer(text: str) -> dict[str, Any]:
    words = text.split(" ")
    return {"text": [f"{word} " for word in words[:-1]] + words[-1:]}


@dataclass
class Llm:
    process: Process
    record: Path

    def requests(self) -> list[dict[str, Any]]:
        try:
            lines = self.record.read_text().splitlines()
        except FileNotFoundError:
            return []
        # The last line may be half written while the test polls.
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return out


def start_llm(tmp_path: Path, turns: list[dict[str, Any]]) -> Llm:
    """`llm-script serve` playing `turns` as gpt-5, recording every request."""
    script = tmp_path / "gpt-5.json"
    script.write_text(json.dumps({"turns": turns}))
    record = tmp_path / "llm-requests.jsonl"
    served = start(
        "llm-script",
        [str(LLM_SCRIPT_BIN), "serve", "--provider", "openai", "--script", str(script), "--record", str(record)],
        tmp_path / "llm.log",
        clean_env(),
    )
    return Llm(process=served, record=record)


def tool_results(request: dict[str, Any]) -> dict[str, str]:
    """The tool results a Chat Completions request carries, by the name of the tool called."""
    names = {}
    results = {}
    for message in request["body"]["messages"]:
        for tool_call in message.get("tool_calls") or []:
            names[tool_call["id"]] = tool_call["function"]["name"]
        if message.get("role") == "tool":
            content = message["content"]
            if not isinstance(content, str):
                content = json.dumps(content)
            results[names[message["tool_call_id"]]] = content
    return results


# --- the user -----------------------------------------------------------------------------------


def http(url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers=headers or {},
        method="POST" if data is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def connect_through_link(link: str, origin: str) -> list[str]:
    """Does what the user does with the link: opens it, mistypes the token, then gets it right.
    Returns what went wrong, if anything."""
    problems = []
    status, page = http(link)
    if status != 200 or 'name="api_token"' not in page:
        problems.append(f"opening the link: {status} {page[:300]}")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin}
    status, page = http(link, data={"email": DEMO_EMAIL, "api_token": "not-the-token"}, headers=form)
    if status != 400 or "Not connected" not in page or "not-the-token" in page:
        problems.append(f"a wrong token: {status} {page[:300]}")
    status, page = http(link, data={"email": DEMO_EMAIL, "api_token": DEMO_TOKEN}, headers=form)
    if status != 200 or f"Connected as {DEMO_NAME}" not in page:
        problems.append(f"the right token: {status} {page[:300]}")
    return problems


def sandbox_get(api: str, path: str) -> dict[str, Any]:
    auth = base64.b64encode(f"{DEMO_EMAIL}:{DEMO_TOKEN}".encode()).decode()
    status, body = http(f"{api}{path}", headers={"Authorization": f"Basic {auth}"})
    assert status == 200, f"GET {path}: {status} {body[:300]}"
    return json.loads(body)


# --- running the program -------------------------------------------------------------------------


@dataclass
class Run:
    linked: str | None  # the auth link the model was shown, if any
    problems: list[str]  # what went wrong completing it
    stdout: str
    report: str  # the program's output and the servers' logs, for failure messages


def run_program(version: str, router: Router, llm: Llm, tmp_path: Path, *, complete_link: bool) -> Run:
    """Runs one program to its end. Meanwhile the test plays the user: when the model has been
    shown an auth link (read from the requests llm-script records), it completes the link once."""
    program, python_env = PROGRAMS[version]
    python = os.environ.get(python_env)
    if not python:
        pytest.fail(f"{python_env} is not set: run the test through tests/reference/run.sh")
    home = tmp_path / "home"  # whatever the SDKs cache stays in the test's folder
    home.mkdir()
    env = clean_env() | {
        "COMPOSIO_BASE_URL": router.url,
        "COMPOSIO_API_KEY": router.api_key,
        "USER_ID": USER_ID,
        "PROMPT": PROMPT,
        "OPENAI_BASE_URL": llm.process.url,
        "OPENAI_API_KEY": "sk-test-llm-script",
        "HOME": str(home),
    }
    out, err = tmp_path / "program.out", tmp_path / "program.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [python, str(HERE / program)], cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        )

    def report() -> str:
        return (
            f"\n--- program stdout ---\n{out.read_text(errors='replace')}"
            f"\n--- program stderr ---\n{err.read_text(errors='replace')[-4000:]}"
            f"\n--- router log ---\n{router.log.log_tail()}"
            f"\n--- llm-script log ---\n{llm.process.log_tail()}"
        )

    link_pattern = re.compile(re.escape(router.url) + r"/link/[A-Za-z0-9_\-]+")
    problems: list[str] = []
    linked = None
    deadline = time.monotonic() + TIMEOUT
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"the program did not finish in {TIMEOUT}s{report()}")
            if linked is None:
                for request in llm.requests():
                    found = link_pattern.search(tool_results(request).get("COMPOSIO_MANAGE_CONNECTIONS", ""))
                    if found:
                        linked = found.group(0)
                        if complete_link:
                            problems = connect_through_link(linked, router.url)
                        break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"the program failed ({proc.returncode}){report()}"
    return Run(linked=linked, problems=problems, stdout=out.read_text(), report=report())


def branch_status(router: Router) -> int:
    auth = base64.b64encode(f"{DEMO_EMAIL}:{DEMO_TOKEN}".encode()).decode()
    status, _ = http(
        f"{router.sandbox_api}/repositories/acme/widgets/refs/branches/{BRANCH}",
        headers={"Authorization": f"Basic {auth}"},
    )
    return status


# --- the tests ----------------------------------------------------------------------------------

META_TOOLS = {
    "COMPOSIO_SEARCH_TOOLS",
    "COMPOSIO_GET_TOOL_SCHEMAS",
    "COMPOSIO_MANAGE_CONNECTIONS",
    "COMPOSIO_WAIT_FOR_CONNECTIONS",
    "COMPOSIO_MULTI_EXECUTE_TOOL",
}


@pytest.mark.parametrize("version", PROGRAMS)
def test_the_reference_program_connects_the_user_and_creates_the_branch(
    version: str, router: Router, tmp_path: Path
) -> None:
    main_head = sandbox_get(router.sandbox_api, "/repositories/acme/widgets/refs/branches/main")["target"]["hash"]
    llm = start_llm(tmp_path, [SEARCH, *CONNECT, CREATE_BRANCH, answer(FINAL_TEXT)])
    try:
        run = run_program(version, router, llm, tmp_path, complete_link=True)
        requests = llm.requests()
    finally:
        stop(llm.process)

    assert run.linked is not None, f"the model was never shown an auth link{run.report}"
    assert not run.problems, f"completing the auth link: {run.problems}{run.report}"
    assert run.stdout.strip() == FINAL_TEXT, run.report

    # What the model was offered and told, request by request.
    assert len(requests) == 5, f"{len(requests)} model requests, expected 5{run.report}"
    assert {tool["function"]["name"] for tool in requests[0]["body"].get("tools", [])} == META_TOOLS
    assert PROMPT in json.dumps(requests[0]["body"]["messages"])
    results = {name: json.loads(text) for name, text in tool_results(requests[-1]).items()}
    search = results["COMPOSIO_SEARCH_TOOLS"]
    assert search["successful"] is True, search
    assert search["data"]["results"][0]["primary_tool_slugs"][0] == "BITBUCKET_CREATE_BRANCH", search
    connection = results["COMPOSIO_MANAGE_CONNECTIONS"]["data"]["results"]["bitbucket"]
    assert connection["status"] == "initiated" and connection["redirect_url"] == run.linked, connection
    waited = results["COMPOSIO_WAIT_FOR_CONNECTIONS"]
    assert waited["successful"] is True, waited
    assert waited["data"]["results"]["bitbucket"]["status"] == "ACTIVE", waited
    assert waited["data"]["results"]["bitbucket"]["current_user_info"]["display_name"] == DEMO_NAME, waited
    executed = results["COMPOSIO_MULTI_EXECUTE_TOOL"]
    assert executed["successful"] is True, executed
    (created,) = executed["data"]["results"]
    assert created["tool_slug"] == "BITBUCKET_CREATE_BRANCH" and created["error"] is None, created
    assert created["response"]["data"]["name"] == BRANCH, created
    for request in requests:
        for secret in (DEMO_TOKEN, router.api_key):
            assert secret not in json.dumps(request["body"]), "a secret reached the model"

    # The effect, read from Bitbucket (the sandbox) with the demo user's own login.
    branch = sandbox_get(router.sandbox_api, f"/repositories/acme/widgets/refs/branches/{BRANCH}")
    assert branch["name"] == BRANCH
    assert branch["target"]["hash"] == main_head


def test_without_a_connection_nothing_runs(router: Router, tmp_path: Path) -> None:
    """The model skips the connection and goes straight to the tool: the router refuses the
    call (the session's user has no connection, whatever the router's own Bitbucket login),
    tells the model what to do, and the sandbox has no new branch."""
    llm = start_llm(tmp_path, [SEARCH, CREATE_BRANCH, answer("Bitbucket is not connected yet.")])
    try:
        run = run_program("pydantic-ai-1", router, llm, tmp_path, complete_link=False)
        requests = llm.requests()
    finally:
        stop(llm.process)

    assert run.linked is None
    assert len(requests) == 3, f"{len(requests)} model requests, expected 3{run.report}"
    # A failed meta-tool call is an MCP error result, which Pydantic AI hands back to the model
    # as a retry prompt: the router's JSON answer, then "Fix the errors and try again."
    told = tool_results(requests[-1])["COMPOSIO_MULTI_EXECUTE_TOOL"]
    assert '"successful":false' in told and "no active connection" in told, told
    assert "COMPOSIO_MANAGE_CONNECTIONS" in told, told
    assert branch_status(router) == 404
