"""YAML with position marks: the data `yaml.safe_load` gives, plus where each key path is written.

Key paths are spelled as the configuration reader spells them in messages: `apis.petstore.path`,
`subscriptions[0].key`. `Positions.of(path)` is the 1-based (line, column) of the path's value (or,
with `key=True`, of its key); for a path that is not in the file (a missing key) it is the nearest
enclosing one that is.
"""

from __future__ import annotations

import yaml


class Positions:
    """Key path -> (line, column) of its key and of its value."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[int, int]] = {}
        self.values: dict[str, tuple[int, int]] = {"": (1, 1)}

    def of(self, path: str, *, key: bool = False) -> tuple[int, int]:
        while True:
            found = (self.keys.get(path) if key else None) or self.values.get(path)
            if found is not None:
                return found
            path = _parent(path)

    def add(self, node: yaml.Node, path: str) -> None:
        self.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                self.keys[child] = _mark(key_node)
                self.add(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.add(item, f"{path}[{index}]")


def load_with_positions(text: str) -> tuple[object, Positions]:
    """Parse one YAML document (raises yaml.YAMLError) and index where every key path is."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        positions = Positions()
        if node is None:
            return None, positions
        positions.add(node, "")
        return loader.construct_document(node), positions
    finally:
        loader.dispose()


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _parent(path: str) -> str:
    """`a.b[0].c` -> `a.b[0]` -> `a.b` -> `a` -> ``."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""
