"""What a member of a typed value denotes: `x.Name` and `x.Name(...)` where `x` has static type T.

Pure functions of (type, name, shape of the call), shared by the bind pass, which records their
answers for every value whose type it knows, and the emitter, which builds closures from them:
declared members (the `context` surface), members of values held as Python built-ins (strings,
numbers, lists: their namespace functions), members of runtime-library classes, LINQ and other
extension methods, and the run-time gate for values known only at run time. Nothing is reported
here: each answer carries its findings.
"""

from __future__ import annotations

import difflib
import inspect
import types
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.dotnet.newtonsoft import JToken
from engine.expr.contexttypes import MODEL_TYPES
from engine.expr.cstypes import BOOL, CHAR, DOUBLE, DYNAMIC, STRING, VOID, CsType, Member, library_type
from engine.expr.library import (
    CS_IDENT,
    NAMESPACE_PROPERTIES,
    has_library_member,
    namespace_for,
    namespace_function,
    namespace_names,
    returns_void,
    signature_arity,
)
from engine.expr.names import (
    applicable_extension,
    extension,
    extension_names,
    extension_receiver,
    is_enumerable,
)
from engine.expr.tables import _BUILTIN_RESULTS, _ELEMENT_RESULTS, _STATIC_RESULTS

Finding = tuple[str, str, str | None]  # (code, message, hint): reported at the member's name

# Types an expression can produce whose members APIM's allow-list does not include.
NOT_ALLOWED_HINTS = {
    "System.Type": "System.Type is not on APIM's allow-list of expression types: test a type with `is`",
    "System.ValueTuple": "System.ValueTuple is not on APIM's allow-list: deconstruct it (`var (a, b) = t;`) or use "
                         "Tuple.Create(...)",
}
MEMBER_CASE_HINT = "members of .NET types start with an upper-case letter"


def suggest(name: str, options: list[str]) -> str | None:
    """"did you mean ...?" for the closest option (or the same name in another case)."""
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean '{close[0]}'?" if close else None


def unknown_member(ttype: CsType, name: str, options: list[str], *, call: bool = False) -> tuple[str, str | None]:
    """The message and hint for a member the static type does not have (LINQ names for sequences)."""
    message = f"'{ttype.name}' has no member '{name}'"
    if extension(name) is not None:
        return message, f"'{name}' is an extension method of {extension_receiver(name)}"
    if ttype.name in NOT_ALLOWED_HINTS:
        return message, NOT_ALLOWED_HINTS[ttype.name]
    if call and is_enumerable(ttype):
        options = [*options, *extension_names()]
    return message, suggest(name, options)


def member_case_problem(ttype: CsType, name: str) -> tuple[str, str] | None:
    """Every allowed .NET member starts with an upper-case letter (anonymous types aside): the
    message and hint for `name` on a value of type `ttype`, or None when the name is well-formed."""
    if CS_IDENT.match(name) or name in ttype.members:
        return None
    options = list(ttype.members) or (namespace_names(ttype.pyclass) if isinstance(ttype.pyclass, type) else [])
    return f"'{ttype.name}' has no member '{name}'", suggest(name, options) or MEMBER_CASE_HINT


def call_problems(ttype: CsType, declared: Member, given: int, type_args: bool) -> list[str]:
    """The arity and generic-ness errors (`expr-arity`) of a call of the declared method `declared`
    with `given` arguments (out arguments included), with or without `<T>`."""
    found = []
    name = f"{ttype.name}.{declared.name}"
    if given < declared.min_args or (declared.max_args is not None and given > declared.max_args):
        expected = (f"{declared.min_args}" if declared.min_args == declared.max_args else
                    f"{declared.min_args} to {declared.max_args}")
        found.append(f"'{name}' takes {expected} argument(s), {given} given")
    if type_args and not declared.generic:
        found.append(f"'{name}' is not generic")
    return found


@dataclass(frozen=True, slots=True)
class Shape:
    """How a method is called: type arguments, positional, named and `out` arguments."""

    type_args: int = 0
    positional: int = 0
    named: int = 0
    outs: int = 0


def arity_problem(fn: Any, skip: int, given: int, label: str, shape: Shape) -> str | None:
    """The `expr-arity` message for a library function called with `given` arguments, or None."""
    if shape.named:
        return None
    lo, hi = signature_arity(fn, skip)
    if given < lo or (hi is not None and given > hi + shape.outs):
        if shape.outs and given >= lo:
            return None
        expected = f"{lo}" if hi == lo else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        return f"'{label}' takes {expected} argument(s), {given} given"
    return None


@dataclass(frozen=True, slots=True)
class Resolved:
    """What `x.Name` / `x.Name(...)` denotes. `how`:
    declared: `member` of the type (context surface); builtin: `fn`, a namespace function of a
    built-in value; missing: no such member (a run-time error, reported); reverse: LINQ's Reverse;
    dynamic: the run-time gate; error: nothing to compile (reported)."""

    how: str
    result: CsType = DYNAMIC
    member: Member | None = None
    fn: Any = None
    problems: tuple[Finding, ...] = ()
    check_args: bool = True  # False: a call rejected before its arguments are compiled


def _error(code: str, message: str, hint: str | None = None, *, check_args: bool = False) -> Resolved:
    return Resolved("error", problems=((code, message, hint),), check_args=check_args)


def _unknown(ttype: CsType, name: str, options: list[str], *, call: bool = False, check_args: bool = False
             ) -> Resolved:
    message, hint = unknown_member(ttype, name, options, call=call)
    return _error("expr-unknown-member", message, hint, check_args=check_args)


def _library_class(ttype: CsType) -> type | None:
    cls = ttype.pyclass
    return cls if isinstance(cls, type) and cls.__module__.startswith("engine.dotnet") else None


def _builtin(ttype: CsType, name: str, *, want_property: bool) -> Resolved | None:
    """A member of a value represented by a Python built-in (str, int, list...); None: not one."""
    pyclass = ttype.pyclass
    if not isinstance(pyclass, type) or pyclass.__module__ != "builtins" and pyclass is not Decimal:
        return None
    if namespace_for(pyclass) is None:
        return None
    fn = namespace_function(pyclass, name, array=ttype.name.endswith("[]"))
    if fn is None:
        if applicable_extension(ttype, name) is not None:
            return None
        message, hint = unknown_member(ttype, name, namespace_names(pyclass), call=not want_property)
        return Resolved("missing", problems=(("expr-unknown-member", message, hint),))
    problems: tuple[Finding, ...] = ()
    if want_property and name not in NAMESPACE_PROPERTIES:
        problems = (("expr-type", f"'{ttype.name}.{name}' is a method: call it with ()", None),)
    if name in ("Find", "FindLast") and ttype.element is not None:
        result = ttype.element
    elif name in ("GetValueOrDefault", "Item") and ttype.value is not None:
        result = ttype.value
    else:
        result = _BUILTIN_RESULTS.get((ttype.name, name), _BUILTIN_RESULTS.get(("*", name), DYNAMIC))
    return Resolved("builtin", result, fn=fn, problems=problems)


def value_property(ttype: CsType, name: str) -> Resolved:
    """`x.Name` (not called) on a value of static type `ttype`."""
    declared = ttype.member(name)
    if declared is not None:
        if declared.kind != "property":
            return _error("expr-type", f"'{ttype.name}.{name}' is a method: call it with ()")
        return Resolved("declared", declared.result(), member=declared)
    if ttype.closed:
        return _unknown(ttype, name, list(ttype.members))
    if ttype.pyclass is list and name == "Count" and ttype.name.endswith("[]"):
        return _error("expr-type", f"'{ttype.name}' has no property 'Count' ('Count' is LINQ's method)",
                      "use Length, or Count()")
    if ttype.pyclass is list and name == "Length" and ttype.name.startswith(("List<", "IList<")):
        return _error("expr-unknown-member", f"'{ttype.name}' has no member 'Length'", "use Count")
    builtin = _builtin(ttype, name, want_property=True)
    if builtin is not None:
        return builtin
    library = _library_class(ttype)
    if library is not None and not has_library_member(library, name):
        return _error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'",
                      suggest(name, [n for n in dir(library) if CS_IDENT.match(n)]))
    if ttype.pyclass in MODEL_TYPES:
        return _unknown(ttype, name, list(ttype.members))
    if library is not None and isinstance(inspect.getattr_static(library, name, None), types.FunctionType):
        # `token.Value` of a JToken: the static type's member is a method (C#: CS0428), whatever the value is
        return _error("expr-type", f"'{ttype.name}.{name}' is a method: call it with ()")
    return Resolved("dynamic", DYNAMIC if library is None else _property_result(library, name))


_ANNOTATED_RESULTS = {"float": DOUBLE, "bool": BOOL, "str": STRING}


def _property_result(cls: type, name: str) -> CsType:
    """The static type of a library property whose annotation says it unambiguously (`TimeSpan.TotalSeconds`
    is a double: `t?.TotalSeconds ?? -1` is the double -1); `int` could be any integral type."""
    attr = getattr(cls, name, None)
    if not isinstance(attr, property) or attr.fget is None:
        return DYNAMIC
    annotation = getattr(attr.fget, "__annotations__", {}).get("return")
    return _ANNOTATED_RESULTS.get(annotation, DYNAMIC) if isinstance(annotation, str) else DYNAMIC


def value_method(ttype: CsType, name: str, shape: Shape, type_args: tuple[CsType, ...] = ()) -> Resolved:
    """`x.Name(...)` on a value of static type `ttype`; `type_args` are the resolved `<T, ...>`."""
    declared = ttype.member(name)
    if declared is not None and declared.kind != "method" and not ttype.closed and extension(name) is not None:
        declared = None  # `headers.Count()`: the LINQ extension, not the property
    if declared is not None:
        if declared.kind != "method":
            return _error("expr-type", f"'{ttype.name}.{name}' is a property, not a method")
        given = shape.positional + shape.named + shape.outs
        problems: tuple[Finding, ...] = tuple(("expr-arity", message, None)
                                              for message in call_problems(ttype, declared, given, bool(shape.type_args)))
        return Resolved("declared", declared.result(type_args), member=declared, problems=problems)
    if (ttype.closed or ttype.pyclass in MODEL_TYPES) and applicable_extension(ttype, name) is None:
        return _unknown(ttype, name, list(ttype.members), call=True)
    element = ttype.element or DYNAMIC
    if name == "Reverse" and not (shape.positional or shape.named or shape.outs) and not ttype.closed and \
            not ttype.name.startswith(("List<", "IList<")):
        # arrays, strings and IEnumerable<T> have no Reverse() of their own: it is LINQ's
        return Resolved("reverse", CsType(f"IEnumerable<{element.name}>", list, element=element))
    builtin = None
    if not ttype.closed and not (name in NAMESPACE_PROPERTIES and extension(name) is not None):
        builtin = _builtin(ttype, name, want_property=False)  # (`list.Count()` is LINQ's, not the property)
        if builtin is not None and builtin.how == "missing":
            return Resolved("error", problems=builtin.problems)  # (after the arguments, as before)
    if builtin is not None:
        problems = builtin.problems
        if name in NAMESPACE_PROPERTIES:
            problems += (("expr-type", f"'{ttype.name}.{name}' is a property, not a method", None),)
        arity = arity_problem(builtin.fn, 1, shape.type_args + shape.positional, f"{ttype.name}.{name}", shape)
        if arity is not None:
            problems += (("expr-arity", arity, None),)
        return Resolved("builtin", builtin.result, fn=builtin.fn, problems=problems)
    library = _library_class(ttype)
    if library is not None and not has_library_member(library, name) and applicable_extension(ttype, name) is None:
        return _unknown(ttype, name, [n for n in dir(library) if CS_IDENT.match(n)], call=True, check_args=True)
    result = _BUILTIN_RESULTS.get(("*", name), DYNAMIC)
    if name in _ELEMENT_RESULTS:
        result = element
    elif isinstance(ttype.pyclass, type) and returns_void(ttype.pyclass, name):
        result = VOID
    return Resolved("dynamic", result)


def static_result(holder: Any, name: str, full: str, type_args: tuple[CsType, ...]) -> CsType:
    """The result type of a static method call `Type.Name<type_args>(...)` (`full`: as written)."""
    if type_args and name.startswith("Deserialize"):  # JsonConvert.DeserializeObject<T>(...)
        return type_args[0]
    result = _STATIC_RESULTS.get(full.replace("System.", ""), DYNAMIC)
    if result is DYNAMIC and name in ("Parse", "FromObject", "Get") and isinstance(holder, type) and \
            holder.__module__.startswith("engine.dotnet"):
        return library_type(holder)
    return result


def index_result(ttype: CsType, keys: int) -> tuple[Member | None, CsType]:
    """`x[k]` on a value of static type `ttype`: the declared indexer (one key) and the element type."""
    declared = ttype.member("Item") if keys == 1 else None
    if declared is not None:
        return declared, declared.result()
    if ttype is STRING:
        return None, CHAR
    if is_token(ttype):  # `o["a"]`: Newtonsoft's indexers return a JToken
        return None, library_type(JToken)
    return None, ttype.element or DYNAMIC


def is_token(ttype: CsType) -> bool:
    """A JSON token type (JToken, JObject, JArray, JValue, JProperty)."""
    cls = ttype.pyclass
    return isinstance(cls, type) and issubclass(cls, JToken)
