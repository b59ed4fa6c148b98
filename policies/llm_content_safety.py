"""`<llm-content-safety>`: check prompts (and completions) with Azure AI Content Safety."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import PolicyRuntimeError
from engine.llm.usage import decoded
from engine.policy import Builder, Constant, Flow, Policy, Value, buffer_body, check_at_start_of_outbound
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text
from engine.sse import SseDecoder
from policies._body import acts_on_response
from policies._llm_request import message_text, messages_of, request_json
from policies._service_call import ServiceCallError, backend_url, post_json

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

TAG = "llm-content-safety"
CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")
DEFAULT_THRESHOLD = 4  # without a threshold: block medium and high severity, like Azure OpenAI's default filter
MAX_CHARACTERS = 10_000  # the service's limit per request
API_VERSION = "2024-09-01"
TIMEOUT = 10.0
DOCUMENT_ROLES = ("tool", "function")  # text the model receives from outside: Prompt Shields' documents


@dataclass(frozen=True)
class CategoryRule:
    name: Value
    threshold: Value


@dataclass(frozen=True)
class Prompt:
    text: str  # everything, for text:analyze
    user: str  # user messages, for text:shieldPrompt's userPrompt
    documents: tuple[str, ...]  # tool results, for text:shieldPrompt's documents


def prompt_of(body: Any) -> Prompt | None:
    """The texts of a chat completions, completions or Responses API request; None: nothing to check."""
    texts = [(role, text) for role, text in messages_of(body) or [] if text]
    if not texts:
        return None
    return Prompt(
        "\n".join(text for _, text in texts),
        "\n".join(text for role, text in texts if role not in DOCUMENT_ROLES),
        tuple(text for role, text in texts if role in DOCUMENT_ROLES),
    )


def completion_of(content: bytes, content_type: str) -> str:
    """The generated text of a model's answer: chat completions (`choices[].message.content`, or
    the `delta.content` of every event of a stream), completions (`choices[].text`) or the
    Responses API (`output_text` parts, or `response.output_text.delta` events)."""
    if content_type.split(";", 1)[0].strip().lower() == "text/event-stream":
        parts: list[str] = []
        for event in SseDecoder().feed(content + b"\n\n"):
            try:
                payload = json.loads(event.data) if event.data.startswith("{") else None
            except ValueError:
                continue
            parts += _texts(payload, streamed=True)
        return "".join(parts)
    try:
        return "\n".join(_texts(json.loads(content), streamed=False)) if content else ""
    except (ValueError, UnicodeDecodeError):
        return ""


def _texts(payload: Any, *, streamed: bool) -> list[str]:
    if not isinstance(payload, dict):
        return []
    if payload.get("type") == "response.output_text.delta":
        return [payload["delta"]] if isinstance(payload.get("delta"), str) else []
    found = []
    for choice in payload.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        message = choice.get("delta" if streamed else "message")
        if isinstance(message, dict):
            text = message_text(message)[1]
            if text:
                found.append(text)
        if isinstance(choice.get("text"), str):
            found.append(choice["text"])
    for item in payload.get("output") or () if not streamed else ():
        for part in item.get("content") or () if isinstance(item, dict) else ():
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                found.append(part["text"])
    return found


def blocked(detail: str, what: str = "request") -> PolicyRuntimeError:
    message = f"The {what} was blocked by content safety: {detail}."
    return PolicyRuntimeError(message, source=TAG, reason="ContentSafetyBlocked", status=403, public_message=message)


def unavailable(detail: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(f"Content safety check failed: {detail}", source=TAG, reason="ContentSafetyUnavailable",
                              status=500, public_message="Internal server error")


@dataclass(frozen=True)
class ContentSafetyStep:
    backend_id: Value
    shield_prompt: Value
    output_type: Value
    categories: tuple[CategoryRule, ...] | None  # None: no <categories>, all four at the default threshold
    blocklists: tuple[Value, ...]
    window_size: Value
    window_overlap: Value
    enforce_on_completions: Value
    section: str

    async def __call__(self, ctx: Context) -> Flow | None:
        if acts_on_response(self.section):
            await self.check_completion(ctx)
            return None
        if self.enforce_on_completions.get(ctx):
            ctx.exchange.buffer_response = True  # this request's answer is checked: read it whole
            check_at_start_of_outbound(ctx, self.check_completion)
        prompt = prompt_of(request_json(ctx))
        if prompt is not None:
            await self._check(ctx, prompt.text, prompt if self.shield_prompt.get(ctx) else None, "request")
        return None

    async def check_completion(self, ctx: Context) -> None:
        """Check the text the model generated (a 2xx answer; a stream is read to its end first)."""
        response = ctx.response
        if not 200 <= response.status_code < 300:
            return
        await buffer_body(ctx, response)
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        content = decoded(response.body.content if response.body is not None else b"", encoding)
        text = completion_of(content, response.headers.get("Content-Type") or "")
        if text:
            await self._check(ctx, text, None, "response")

    async def _check(self, ctx: Context, text: str, shield: Prompt | None, what: str) -> None:
        windows = self._windows(ctx, text, what)
        if shield is not None and max(len(shield.user), sum(map(len, shield.documents))) > MAX_CHARACTERS:
            raise blocked(f"the prompt is longer than {MAX_CHARACTERS} characters")
        rules = self._thresholds(ctx)
        backend_id = str(self.backend_id.get(ctx) or "")
        try:
            base = backend_url(ctx, backend_id).rstrip("/")
        except ServiceCallError as exc:
            raise unavailable(str(exc)) from None
        calls = [self._analyze(ctx, base, window, rules) for window in windows]
        if shield is not None:
            calls.append(self._shield(ctx, base, shield))
        for problem in await asyncio.gather(*calls):
            if problem:
                raise blocked(problem, what)

    def _windows(self, ctx: Context, text: str, what: str) -> list[str]:
        """The texts sent to text:analyze: the whole text, or windows of `window-size` characters
        overlapping by `window-overlap-size`. Raises the 403 for a text over the service's limit."""
        size = self.window_size.get(ctx)
        if size is None:
            if len(text) > MAX_CHARACTERS:
                noun = "prompt" if what == "request" else "completion"
                raise blocked(f"the {noun} is longer than {MAX_CHARACTERS} characters", what)
            return [text]
        size, overlap = int(size), int(self.window_overlap.get(ctx) or 0)
        if not 0 < size <= MAX_CHARACTERS or not 0 <= overlap < size:
            raise unavailable(f"window-size {size} and window-overlap-size {overlap}: expected "
                              f"0 < window-overlap-size + 1 <= window-size <= {MAX_CHARACTERS}")
        step = size - overlap
        return [text[start:start + size] for start in range(0, max(len(text) - overlap, 1), step)]

    def _thresholds(self, ctx: Context) -> dict[str, int]:
        if self.categories is None:
            return dict.fromkeys(CATEGORIES, DEFAULT_THRESHOLD)
        rules = {}
        for rule in self.categories:
            name = str(rule.name.get(ctx) or "")
            if name not in CATEGORIES:
                raise unavailable(f"unknown category '{name}' (expected one of {', '.join(CATEGORIES)})")
            threshold = rule.threshold.get(ctx)
            rules[name] = DEFAULT_THRESHOLD if threshold is None else int(threshold)
        return rules

    async def _analyze(self, ctx: Context, base: str, text: str, rules: dict[str, int]) -> str:
        payload: dict[str, Any] = {"text": text, "categories": list(rules),
                                   "outputType": str(self.output_type.get(ctx) or "FourSeverityLevels")}
        names = [str(v.get(ctx) or "") for v in self.blocklists]
        if names:
            payload["blocklistNames"] = names
            payload["haltOnBlocklistHit"] = True
        answer = await self._call(ctx, f"{base}/contentsafety/text:analyze", payload)
        for match in answer.get("blocklistsMatch") or []:
            return f"blocklist '{match.get('blocklistName')}' matched"
        for result in answer.get("categoriesAnalysis") or []:
            category, severity = result.get("category"), result.get("severity")
            if category in rules and isinstance(severity, int) and severity >= rules[category]:
                return f"category {category} (severity {severity}, threshold {rules[category]})"
        return ""

    async def _shield(self, ctx: Context, base: str, prompt: Prompt) -> str:
        payload = {"userPrompt": prompt.user, "documents": list(prompt.documents)}
        answer = await self._call(ctx, f"{base}/contentsafety/text:shieldPrompt", payload)
        if (answer.get("userPromptAnalysis") or {}).get("attackDetected"):
            return "a prompt attack was detected in the user prompt"
        if any(isinstance(d, dict) and d.get("attackDetected") for d in answer.get("documentsAnalysis") or []):
            return "a prompt attack was detected in a document"
        return ""

    async def _call(self, ctx: Context, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            status, answer = await post_json(ctx, url, payload, source=TAG, timeout=TIMEOUT,
                                             query={"api-version": API_VERSION})
        except ServiceCallError as exc:
            raise unavailable(str(exc)) from None
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else "no JSON answer"
            raise unavailable(f"{url} answered {status} ({detail})")
        return answer


class LlmContentSafety(Policy):
    """Check the prompt of a chat completions, completions or Responses API request with an Azure AI
    Content Safety service (the backend `backend-id`: its base URL, to which
    `/contentsafety/text:analyze` and `/contentsafety/text:shieldPrompt?api-version=2024-09-01` are
    appended) before it reaches the model.

    The text of every message is analysed for the `<categories>` listed (each blocks at a severity
    of at least its `threshold`, 4 when not given; without `<categories>` all four categories at
    4) and against the `<blocklists>`; with `shield-prompt="true"` the user messages (and `tool`
    messages as documents) are also checked for prompt attacks, in a concurrent call. A finding
    fails the request with 403 (reason `ContentSafetyBlocked`, the message names the category,
    blocklist or attack), as does a prompt longer than the service's 10,000 characters (without a
    call). With `window-size` the text is analysed in windows of that many characters, overlapping by
    `window-overlap-size`, all concurrently (any finding blocks), so longer prompts can be checked.
    A request without prompt text passes. When the service cannot be reached or answers an
    error, the request fails closed with 500 (reason `ContentSafetyUnavailable`). With `identity:`
    configured the calls carry a token for `https://cognitiveservices.azure.com`.

    Completions are checked when the policy is in outbound, or in inbound with
    `enforce-on-completions="true"` (then after the backend answered, before the outbound
    policies): the text the model generated in a 2xx answer (chat completions, completions or the
    Responses API, JSON or a stream) goes through the same categories, thresholds, blocklists and
    windows; prompt shields do not apply to it. A finding replaces the answer with 403 (`The
    response was blocked by content safety: ...`, reason `ContentSafetyBlocked`); the backend's
    token usage is still counted. So that nothing unchecked reaches the client, an answer that is
    checked is buffered: a streamed completion reaches the client only once the whole stream was
    read and passed the check. With an expression, `enforce-on-completions` is evaluated per request
    (in inbound, before the backend call): where it is false, the answer is neither checked nor
    buffered, and a stream passes through chunk by chunk.
    """

    tag = TAG
    sections = Section.INBOUND | Section.OUTBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("backend-id", Str(non_empty=True), required=True, doc="The backend (`backends:`) of the Content Safety service."),
        Attr("shield-prompt", Bool(), default=False, doc="Also check the prompt for attacks (Prompt Shields)."),
        Attr("enforce-on-completions", Bool(), default=False,
             doc="In inbound: also check the completion in the answer (ignored in outbound, where the answer is what is checked)."),
        Attr("window-size", Int(min=1, max=MAX_CHARACTERS),
             doc="Analyse the text in windows of this many characters (default: the whole text at once)."),
        Attr("window-overlap-size", Int(min=0), default=0, doc="Characters shared by consecutive windows."),
    )
    children = (
        Child(
            "categories",
            attributes=(Attr("output-type", Enum("FourSeverityLevels", "EightSeverityLevels"), default="FourSeverityLevels",
                             doc="Severity scale: 0, 2, 4, 6 or 0-7."),),
            children=(
                Child(
                    "category",
                    attributes=(
                        Attr("name", Enum(*CATEGORIES), required=True, doc="Hate, SelfHarm, Sexual or Violence."),
                        Attr("threshold", Int(min=0, max=7), doc="Severity from which the request is blocked (default 4)."),
                    ),
                ),
            ),
            max=1,
            doc="Harm categories to check.",
        ),
        Child("blocklists", children=(Child("id", text=Text(required=True), doc="A blocklist name."),), max=1,
              doc="Blocklists of the Content Safety resource; any match blocks."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> ContentSafetyStep:
        # In inbound, enforce-on-completions buffers the answer of the requests it is true for (__call__).
        builder.require_body(request=not acts_on_response(element.section), response=acts_on_response(element.section))
        categories_element = next(iter(element.children_named("categories")), None)
        categories = None
        output_type = builder.value(categories_element, "output-type") if categories_element is not None else None
        if categories_element is not None:
            categories = tuple(
                CategoryRule(builder.value(c, "name"), builder.value(c, "threshold"))
                for c in categories_element.children_named("category")
            )
        blocklists = tuple(
            builder.text_value(i) for b in element.children_named("blocklists") for i in b.children_named("id")
        )
        return ContentSafetyStep(
            builder.value(element, "backend-id"), builder.value(element, "shield-prompt"),
            output_type or Constant("FourSeverityLevels"), categories, blocklists,
            builder.value(element, "window-size"), builder.value(element, "window-overlap-size"),
            builder.value(element, "enforce-on-completions"), element.section,
        )
