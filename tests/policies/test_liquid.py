from __future__ import annotations

import pytest

from engine.liquid import (
    MAX_ITERATIONS,
    MAX_OUTPUT_CHARS,
    CaseInsensitiveDict,
    LiquidRenderError,
    LiquidSyntaxError,
    parse,
)


def render(template: str, **bindings: object) -> str:
    return parse(template).render(dict(bindings))


class TestOutput:
    def test_paths_and_literals(self) -> None:
        data = {"a": {"b": [{"c": "x"}, {"c": "y"}]}, "n": 3}
        assert render("{{ body.a.b[1].c }}-{{body.n}}-{{ 'lit' }}-{{ 2.5 }}", body=data) == "y-3-lit-2.5"
        assert render('{{ body["a"]["b"][0]["c"] }}', body=data) == "x"

    def test_missing_values_render_empty(self) -> None:
        assert render("[{{ body.nothing.deeper }}]", body={}) == "[]"

    def test_size_first_last(self) -> None:
        assert render("{{ l.size }} {{ l.first }} {{ l.last }} {{ s.size }}", l=[1, 2, 3], s="abcd") == "3 1 3 4"

    def test_case_insensitive_headers(self) -> None:
        assert render("{{ h.Accept }}", h=CaseInsensitiveDict({"accept": "text/xml"})) == "text/xml"

    def test_numbers_print_like_dotnet(self) -> None:
        assert render("{{ a }} {{ b }} {{ c }}", a=3.0, b=0.1, c=1e20) == "3 0.1 1E+20"

    def test_booleans_and_objects(self) -> None:
        assert render("{{ t }} {{ o }}", t=True, o={"k": [1]}) == 'true {"k":[1]}'


class TestFilters:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("{{ 'Hello' | Upcase }}", "HELLO"),
            ("{{ 'Hello' | upcase | downcase }}", "hello"),
            ("{{ 'a b' | Append: '!' | Prepend: '>' }}", ">a b!"),
            ("{{ 'hello world' | Capitalize }}", "Hello world"),
            ("{{ 4 | Plus: 2 | Times: 3 | Minus: 1 | DividedBy: 2 }}", "8"),
            ("{{ 7 | Modulo: 3 }} {{ -3 | Abs }} {{ 3.14159 | Round: 2 }}", "1 3 3.14"),
            ("{{ 5 | AtLeast: 7 }} {{ 5 | AtMost: 2 }}", "7 2"),
            ("{{ nothing | Default: 'fallback' }}", "fallback"),
            ("{{ 'a,b,c' | Split: ',' | Join: '-' }}", "a-b-c"),
            ("{{ 'a,b,a' | Split: ',' | Uniq | Sort | Join: '' }}", "ab"),
            ("{{ '<b>x</b>' | Escape }} {{ '<p>t</p>' | StripHtml }}", "&lt;b&gt;x&lt;/b&gt; t"),
            ("{{ 'a b' | UrlEncode }} {{ 'a+b%21' | UrlDecode }}", "a+b a b!"),
            ("{{ 'abcdef' | Truncate: 4 }} {{ 'one two three' | TruncateWords: 2 }}", "a... one two..."),
            ("{{ 'abcdef' | Slice: 1, 3 }} {{ 'xaxb' | Remove: 'x' }} {{ 'xaxb' | RemoveFirst: 'x' }}", "bcd ab axb"),
            ("{{ 'aXbX' | Replace: 'X', '_' }} {{ 'aXbX' | ReplaceFirst: 'X', '_' }}", "a_b_ a_bX"),
            ("{{ '  x  ' | Strip }}|{{ '  x' | Lstrip }}|{{ 'x  ' | Rstrip }}", "x|x|x"),
            ("{{ 'a\nb' | NewlineToBr }}|{{ 'a\nb' | StripNewlines }}", "a<br />\nb|ab"),
            ("{{ '2024-03-05T10:20:30Z' | Date: 'yyyy-MM-dd HH:mm' }}", "2024-03-05 10:20"),
            ("{{ 1234.5 | Currency }}", "¤1,234.50"),
        ],
    )
    def test_filters(self, template: str, expected: str) -> None:
        assert render(template) == expected

    def test_map_first_last_compact_size(self) -> None:
        items = [{"id": 1}, {"id": None}, {"id": 3}]
        assert render("{{ items | Map: 'id' | Compact | Join: ',' }} {{ items | Size }}", items=items) == "1,3 3"
        assert render("{{ items | First | Map: 'id' }}", items=items) == "1"

    def test_unknown_filter_is_a_syntax_error(self) -> None:
        with pytest.raises(LiquidSyntaxError, match="unknown filter 'Shout'"):
            parse("{{ x | Shout }}")

    def test_division_by_zero(self) -> None:
        with pytest.raises(LiquidRenderError):
            render("{{ 1 | DividedBy: 0 }}")


class TestTags:
    def test_if_elsif_else_and_operators(self) -> None:
        template = "{% if n > 10 and s contains 'x' %}big{% elsif n == 5 or n <= 1 %}five-or-small{% else %}other{% endif %}"
        assert render(template, n=11, s="xyz") == "big"
        assert render(template, n=5, s="") == "five-or-small"
        assert render(template, n=7, s="") == "other"

    def test_unless_and_empty(self) -> None:
        assert render("{% unless l == empty %}has{% endunless %}", l=[1]) == "has"
        assert render("{% if s == blank %}blank{% endif %}", s="  ") == "blank"

    def test_for_loop(self) -> None:
        template = "{% for x in items %}{{ forloop.index }}:{{ x }}{% unless forloop.last %},{% endunless %}{% else %}none{% endfor %}"
        assert render(template, items=["a", "b"]) == "1:a,2:b"
        assert render(template, items=[]) == "none"
        assert render("{% for i in (1..5) limit: 2 offset: 1 %}{{ i }}{% endfor %}") == "23"
        assert render("{% for i in (1..3) reversed %}{{ i }}{% endfor %}") == "321"

    def test_assign_capture_comment_raw(self) -> None:
        template = ("{% assign name = user.name | Upcase %}{% capture greeting %}Hi {{ name }}{% endcapture %}"
                    "{% comment %}ignored {{ x }}{% endcomment %}{{ greeting }}{% raw %} {{ kept }}{% endraw %}")
        assert render(template, user={"name": "ann"}) == "Hi ANN {{ kept }}"

    def test_whitespace_control(self) -> None:
        assert render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc"
        assert render("[ {{- 'x' -}} ]") == "[x]"

    @pytest.mark.parametrize(
        "template",
        ["{% if x %}no end", "{% for x %}{% endfor %}", "{{ unclosed", "{% bogus %}", "{% endif %}", "{{ x | }}"],
    )
    def test_syntax_errors(self, template: str) -> None:
        with pytest.raises(LiquidSyntaxError):
            parse(template)

    def test_iteration_limit(self) -> None:
        with pytest.raises(LiquidRenderError):
            render(f"{{% for i in (1..{MAX_ITERATIONS * 2}) %}}{{% endfor %}}")


def test_output_limit_is_enforced_while_rendering() -> None:
    chunk = "x" * 1_000_000
    with pytest.raises(LiquidRenderError, match="too large"):
        render("{% for i in (1..50) %}{{ chunk }}{% endfor %}", chunk=chunk)
    assert MAX_OUTPUT_CHARS < 50 * len(chunk)


def test_values_cannot_grow_without_bound() -> None:
    with pytest.raises(LiquidRenderError, match="too large"):
        render("{% assign s = 'x' %}{% for i in (1..64) %}{% assign s = s | Append: s %}{% endfor %}")
