"""Bad input never escapes as an exception: random text and mutated documents give diagnostics."""

from __future__ import annotations

import random

import pytest

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.validate import validate

DOCUMENT = """<policies>
    <inbound>
        <base />
        <set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("X", "<y>") + $"{1}")" />
        <choose>
            <when condition="@{ return context.Variables.ContainsKey(&quot;a&quot;); }">
                <return-response><set-status code="401" reason="No" /></return-response>
            </when>
        </choose>
        <proxy url="http://{{host}}:8080" />
    </inbound>
    <outbound><![CDATA[x]]><!-- c --></outbound>
</policies>
"""
ALPHABET = list("<>/=\"'@(){}[]&;$\\ \n\tabx-:!?#") + ["&quot;", "<!--", "-->", "@(", "@{", "{{n}}"]
SEEDS = range(40)  # deterministic pseudo-random cases (no example database written to the repo)


def check(text: str, named_values: dict[str, str] | None = None) -> None:
    diagnostics = Diagnostics()
    document = load_document("fuzz.xml", text=text, named_values=named_values, diagnostics=diagnostics)
    if document is not None:
        validate(document, diagnostics=diagnostics)
    for diagnostic in diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_random_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(5):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(80)))
        check(text)
        check(f"<fragment>{text}</fragment>", {"n": "v"})


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_document(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(5):
        position = rng.randrange(len(DOCUMENT))
        mutated = DOCUMENT[:position] + rng.choice(ALPHABET) + DOCUMENT[position + rng.randrange(12) :]
        check(mutated, {"host": "h"})


def test_the_unmutated_document_is_clean() -> None:
    diagnostics = Diagnostics()
    document = load_document("ok.xml", text=DOCUMENT, named_values={"host": "h"}, diagnostics=diagnostics)
    assert document is not None and not diagnostics.has_errors, [d.format() for d in diagnostics]
