"""The reference design's program: a Pydantic AI agent on a Composio tool router session.

Written as Composio's Pydantic AI guide has it (pydantic-ai 1.x, `MCPServerStreamableHTTP`),
with one fix: the guide reads `COMPOSIO_API_KEY` without ever defining it. Everything else
comes from the environment, so the program runs unchanged against Composio or against
`bbagent router`:

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
from pydantic_ai.mcp import MCPServerStreamableHTTP

COMPOSIO_API_KEY = os.environ["COMPOSIO_API_KEY"]
USER_ID = os.environ["USER_ID"]
PROMPT = os.environ.get("PROMPT", "Create a branch feature/ref off main in acme/widgets")

composio = Composio(api_key=COMPOSIO_API_KEY)
session = composio.create(user_id=USER_ID, toolkits=["bitbucket"])

composio_mcp = MCPServerStreamableHTTP(session.mcp.url, headers={"x-api-key": COMPOSIO_API_KEY})

agent = Agent(
    "openai:gpt-5",
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
