"""Why validate-content uses jsonschema-rs: JSON Schema libraries side by side on one realistic schema.

Run:  python -m tests.perf.bench_jsonschema
      (compares with `jsonschema` and `fastjsonschema` when they are installed beside the project:
       pip install jsonschema fastjsonschema)

The schema is an order (2 KB document, 20 line items) with nested `$ref`s, patterns, enums,
formats and a closed address object, compiled as draft 4 (the dialect of OpenAPI 3.0). Each
library validates the same parsed document: valid, then with two errors (every error listed,
as validate-content records them). Times are per validation, best of five runs; `json.loads` of
the body is printed for scale.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

ADDRESS = {"type": "object", "required": ["street", "city", "country"], "additionalProperties": False,
           "properties": {"street": {"type": "string", "minLength": 1, "maxLength": 200}, "city": {"type": "string"},
                          "zip": {"type": "string", "pattern": "^[0-9]{5}(-[0-9]{4})?$"},
                          "country": {"type": "string", "enum": ["US", "DE", "FR", "GB", "JP"]}}}
ITEM = {"type": "object", "required": ["sku", "quantity", "price"],
        "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                       "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                       "price": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                       "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10}}}
SCHEMA: dict[str, Any] = {
    "definitions": {"Address": ADDRESS, "Item": ITEM},
    "type": "object", "required": ["id", "customer", "items", "shipping"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["placed", "approved", "delivered"]},
        "customer": {"type": "object", "required": ["name", "email"],
                     "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"},
                                    "phone": {"type": ["string", "null"]}}},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Item"}},
        "shipping": {"$ref": "#/definitions/Address"},
        "billing": {"$ref": "#/definitions/Address"},
        "createdAt": {"type": "string", "format": "date-time"},
    },
}
VALID = {"id": "5b1e8f3a-9d7c-4e2b-8a1f-3c6d9e0f1a2b", "status": "placed",
         "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": None},
         "items": [{"sku": f"ABC-{1000 + i}", "quantity": i + 1, "price": 9.99 + i, "tags": ["a", "b"]} for i in range(20)],
         "shipping": {"street": "1 Main St", "city": "Springfield", "zip": "12345", "country": "US"},
         "billing": {"street": "1 Main St", "city": "Springfield", "zip": "12345-6789", "country": "US"},
         "createdAt": "2026-01-01T10:00:00Z"}
INVALID = copy.deepcopy(VALID)
INVALID["items"][3]["quantity"] = 0
INVALID["shipping"]["extra"] = 1


def best(fn: Callable[[], object], calls: int = 2000, repeats: int = 5) -> float:
    """Seconds per call, best of `repeats`."""
    fn()
    result = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        result = min(result, (time.perf_counter() - started) / calls)
    return result


def candidates() -> list[tuple[str, Callable[[object], list[str]]]]:
    found: list[tuple[str, Callable[[object], list[str]]]] = []
    import jsonschema_rs

    rs = jsonschema_rs.Draft4Validator(SCHEMA, validate_formats=True)
    found.append(("jsonschema-rs (the gateway's)", lambda doc: [e.message for e in rs.iter_errors(doc)]))
    try:
        import jsonschema
    except ImportError:
        print("jsonschema not installed: skipped")
    else:
        py = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        found.append(("jsonschema", lambda doc: [e.message for e in py.iter_errors(doc)]))
    try:
        import fastjsonschema
    except ImportError:
        print("fastjsonschema not installed: skipped")
    else:
        compiled = fastjsonschema.compile({**SCHEMA, "$schema": "http://json-schema.org/draft-04/schema#"})

        def first_error_only(doc: object) -> list[str]:
            try:
                compiled(doc)
            except fastjsonschema.JsonSchemaException as exc:
                return [str(exc.message)]  # stops at the first error
            return []

        found.append(("fastjsonschema (first error only)", first_error_only))
    return found


def main() -> None:
    body = json.dumps(VALID).encode()
    print(f"document: {len(body)} bytes; json.loads: {best(lambda: json.loads(body)) * 1e6:.1f} µs")
    print(f"{'library':36} {'valid µs':>10} {'2 errors µs':>12} {'errors':>7}")
    for name, validate in candidates():
        assert validate(VALID) == [], name
        errors = len(validate(INVALID))
        print(f"{name:36} {best(lambda v=validate: v(VALID)) * 1e6:10.1f} "
              f"{best(lambda v=validate: v(INVALID)) * 1e6:12.1f} {errors:7}")


if __name__ == "__main__":
    main()
