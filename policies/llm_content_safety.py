"""`<llm-content-safety>` (schema only): check prompts against Azure AI Content Safety before sending them to the model."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text


class LlmContentSafety(Policy):
    """Check prompts against Azure AI Content Safety before sending them to the model.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "llm-content-safety"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("backend-id", Str(non_empty=True), required=True),
        Attr("shield-prompt", Bool(), default=False),
    )
    children = (
        Child(
            "categories",
            attributes=(Attr("output-type", Enum("FourSeverityLevels", "EightSeverityLevels")),),
            children=(
                Child(
                    "category",
                    attributes=(
                        Attr("name", Str(non_empty=True), required=True),
                        Attr("threshold", Int(min=0, max=7)),
                    ),
                ),
            ),
            max=1,
        ),
        Child("blocklists", children=(Child("id", text=Text(required=True)),), max=1),
    )
    implemented = False
    unsupported_reason = "not implemented yet; call the Content Safety API with send-request"
