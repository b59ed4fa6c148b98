"""YAML with positions: mappings and lists remember where each key and item starts.

`load_located(text, file)` returns plain dicts/lists/scalars, except that every mapping is a
`LocatedMap` and every sequence a `LocatedList` carrying the `Span` of the node itself and of each
key/item, so a test-file problem or a failed expectation can name `file:line:col`.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.source import Span


class LocatedMap(dict[str, Any]):
    """A YAML mapping; `span` is where it starts, `key_spans[key]` where each key is written."""

    span: Span
    key_spans: dict[str, Span]

    def where(self, key: str) -> Span:
        return self.key_spans.get(key, self.span)


class LocatedList(list[Any]):
    """A YAML sequence; `span` is where it starts, `item_spans[i]` where each item starts."""

    span: Span
    item_spans: list[Span]

    def where(self, index: int) -> Span:
        return self.item_spans[index] if index < len(self.item_spans) else self.span


class YamlError(Exception):
    """Unreadable YAML, located."""

    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


def _span(file: str, mark: Any) -> Span:
    return Span.point(file, mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):
    file = "<yaml>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LocatedMap:  # type: ignore[override]  # the stub's dict[Hashable, Any]: ours has str keys
        self.flatten_mapping(node)
        result = LocatedMap()
        result.span = _span(self.file, node.start_mark)
        result.key_spans = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise YamlError(_span(self.file, key_node.start_mark), "a key must be a plain value")
            text = str(key).lower() if isinstance(key, bool) else str(key)
            if text in result:
                raise YamlError(_span(self.file, key_node.start_mark), f"duplicate key '{text}'")
            result[text] = self.construct_object(value_node, deep=True)
            result.key_spans[text] = _span(self.file, key_node.start_mark)
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LocatedList:
        result = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        result.span = _span(self.file, node.start_mark)
        result.item_spans = [_span(self.file, child.start_mark) for child in node.value]
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)
# Timestamps stay strings: the test format parses them itself (with a located error when wrong).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_located(text: str, file: str) -> Any:
    """Parse one YAML document; raises YamlError with the position of a syntax error."""
    loader_class = type("_FileLoader", (_Loader,), {"file": file})
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = _span(file, mark) if mark is not None else Span.point(file, 1, 1)
        raise YamlError(span, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(Span.point(file, 1, 1), f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
