"""The reference design's program: a Pydantic AI agent on a Composio tool router session.

The same program as `reference_program.py`, ported to pydantic-ai 2.x: `MCPToolset` replaces
1.x's `MCPServerStreamableHTTP`, and the model is named `openai-chat:gpt-5`, because 2.x sends
`openai:` models to OpenAI's Responses API, while 1.x (and the scripted server standing in for
gpt-5) speak Chat Completions. Everything else comes from the environment, so the program runs
unchanged against Composio or against `bbagent router`:

    COMPOSIO_API_KEY   the project's API key
    COMPOSIO_BASE_URL  read by the composio SDK itself (unset: Composio's own service)
    USER_ID            the user the session acts for
    PROMPT             what to ask the agent
    OPENAI_API_KEY, OPENAI_BASE_URL  read by the OpenAI client itself
"""

import asyncio
import os

from composio import Composio
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset

COMPOSIO_API_KEY = os.environ["COMPOSIO_API_KEY"]
USER_ID = os.environ["USER_ID"]
PROMPT = os.environ.get("PROMPT", "Create a branch feature/ref off main in acme/widgets")

composio = Composio(api_key=COMPOSIO_API_KEY)
session = composio.create(user_id=USER_ID, toolkits=["bitbucket"])

composio_mcp = MCPToolset(session.mcp.url, headers={"x-api-key": COMPOSIO_API_KEY})

agent = Agent(
    "openai-chat:gpt-5",
    toolsets=[composio_mcp],
    instructions=(
        "You are a helpful assistant that manages the user's Bitbucket through Composio's "
        "tools. Search for the right tool first; when Bitbucket is not connected, show the "
        "user the connection link and wait for the connection before going on."
    ),
)


async def main() -> None:
    async with agent:
        async with agent.run_stream(PROMPT) as result:
            async for delta in result.stream_text(delta=True):
                print(delta, end="", flush=True)
    print()


if __name__ == "__main__":
    asyncio.run(main())
