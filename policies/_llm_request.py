"""Reading language-model requests: the messages of chat completions, Responses API and completions bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.context import Context


def request_json(ctx: Context) -> Any:
    """The request body parsed as JSON; None when there is none or it is not JSON."""
    body = ctx.request.body
    if body is None or not body.content:
        return None
    try:
        return json.loads(body.content)
    except (ValueError, UnicodeDecodeError):
        return None


def messages_of(body: Any) -> list[tuple[str, str]] | None:
    """(role, text) of each message: `messages` (chat completions), `instructions` + `input` (Responses
    API; instructions count as a system message) or `prompt` (completions, user messages). Text parts of
    multi-part contents are joined with spaces. None: the body is none of these."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("messages"), list):
        return [message_text(m) for m in body["messages"]]
    if isinstance(body.get("input"), (str, list)):
        raw = body["input"]
        messages = [("user", raw)] if isinstance(raw, str) else [message_text(m) for m in raw]
        if isinstance(body.get("instructions"), str):
            messages.insert(0, ("system", body["instructions"]))
        return messages
    if isinstance(body.get("prompt"), (str, list)):
        prompt = body["prompt"]
        return [("user", p) for p in ([prompt] if isinstance(prompt, str) else prompt) if isinstance(p, str)]
    return None


def message_text(message: Any) -> tuple[str, str]:
    """(role, text) of one message: string content, or the `text` of its parts ("text", "input_text"...)."""
    if isinstance(message, str):
        return "user", message
    if not isinstance(message, dict):
        return "user", ""
    role = str(message.get("role") or "user")
    content = message.get("content")
    if isinstance(content, str):
        return role, content
    if isinstance(content, list):
        return role, " ".join(str(p["text"]) for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return role, ""
