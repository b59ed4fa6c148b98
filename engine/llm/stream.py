"""Token usage of a streamed (`text/event-stream`) answer.

Until the response body can be watched as it is sent, a streamed answer's usage is its prompt
estimate (completion tokens are not counted).
"""

from __future__ import annotations

from engine.context import Context


async def watch_stream(ctx: Context, prompt_estimate: int) -> None:
    """Deliver the usage of the streamed answer in `ctx.response` to the waiting callbacks."""
    from engine.llm.usage import Usage, deliver

    await deliver(ctx, Usage(prompt_estimate, 0, "estimate"))
