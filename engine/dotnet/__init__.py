"""Pure-Python runtime library with .NET semantics for policy expressions.

This package implements the .NET / Newtonsoft types that APIM policy expressions use, with the
results C# gives. It knows nothing about the expression compiler: ``engine.expr`` binds C# names
to the objects below through its allow-list.

Conventions (agreed with the expression compiler)
-------------------------------------------------
Value representations
    ``string`` = ``str``; ``char`` = :class:`~engine.dotnet.primitives.Char` (``str`` subclass of
    length 1 with C# arithmetic); ``int``/``long``/``short``/``byte`` = ``int``; ``double``/``float``
    = ``float``; ``decimal`` = ``decimal.Decimal``; ``bool`` = ``bool``; ``null`` = ``None``;
    ``T[]`` and ``List<T>`` = ``list`` (``byte[]`` = ``bytes``); ``Dictionary<K,V>`` = ``dict``;
    ``HashSet<T>`` = ``set``. Every other .NET type is a class here whose members carry the exact
    C# names: properties are Python properties, methods are methods, indexers are ``__getitem__``
    (and ``__setitem__``) with the C# semantics of that type.
Static members
    Static methods are static/class methods (``JObject.Parse(text)``, ``Guid.NewGuid()``). Static
    properties and constants are class attributes; computed ones use
    :class:`~engine.dotnet.primitives.static_property`, so plain attribute access evaluates them
    (``DateTime.UtcNow``, ``Encoding.UTF8``, ``String.Empty``).
Members of built-in-represented types
    Functions in namespace classes taking the instance first: ``StringMembers.Split(s, *args)``,
    ``StringMembers.Length(s)`` (properties are functions too), ``StringMembers.Item(s, i)``
    (indexers are ``Item``), ``NumberMembers.ToString(n, fmt)``, ``ListMembers``, ``ArrayMembers``,
    ``DictionaryMembers``, ``SetMembers``, ``BytesMembers``, ``BoolMembers`` (see
    :mod:`engine.dotnet.members` for the lookup ``members_of(value)``).
    Statics of those types live in classes named like C#: ``String``, ``Int32``, ``Int64``,
    ``Double``, ``Decimal``, ``Boolean``, ``Char``, ``Convert``, ``Math``, ...
Overloads
    One Python function accepts all C# overloads of a member, dispatching on argument count/type.
    Enum arguments are ``enum.IntEnum`` members named like C# (``StringComparison.OrdinalIgnoreCase``).
Out parameters
    ``TryParse``-style methods return a tuple ``(bool, out1, ...)``; the compiler assigns the
    trailing elements to the ``out`` variables.
Generic type arguments
    Passed as the first positional argument, as a C# type name string (``"int"``, ``"string"``,
    ``"JObject"``, ``"int?"``) or a Python class; see :func:`engine.dotnet.primitives.type_ref`.
    Example: ``token.Value("int", "key")`` for ``token.Value<int>("key")``. When a generic method's
    name collides with a property of the same class (``JValue.Value``/``JProperty.Value`` versus
    ``Value<T>()``), the generic method is also available as ``<Name>Of``: every ``JToken`` has
    ``ValueOf(T, key=...)``, so the compiler can always bind ``Value<T>(...)`` to ``ValueOf``.
Conversions
    :func:`engine.dotnet.conversions.to_string` is C#'s string conversion (concatenation and
    interpolation: ``null`` -> ``""``); :func:`~engine.dotnet.conversions.cast` is an explicit cast
    ``(T)value`` including Newtonsoft's explicit ``JToken`` conversions;
    :func:`~engine.dotnet.formatting.format_value` formats an interpolation hole ``{x,align:fmt}``.
Extension methods
    Static functions taking the receiver first: ``linq.Enumerable`` (LINQ), ``jwt.Extensions``
    (``AsJwt``, ``TryParseJwt``, ``AsBasic``, ``TryParseBasic``), ``crypto.Extensions``
    (``Encrypt``, ``Decrypt``).
Enumeration and construction
    ``collectioncore.iterate(x)`` is what ``foreach`` yields (``Char``s for strings, ``KeyValuePair``s
    for dictionaries and ``JObject``s). ``new byte[n]`` should be ``bytearray(n)`` (arrays are
    mutable); ``new Dictionary<K,V>(comparer)``/``new HashSet<T>(...)`` are
    ``containers.new_dictionary``/``new_hashset``; ``new string(c, n)`` is ``String.New``; other
    constructors are the classes themselves (``JObject(...)``, ``DateTime(...)``, ``Regex(...)``).
    ``ref`` parameters (``Array.Resize``) return the new value; ``void`` methods with ``out``
    parameters return ``(None, out...)``.
Line breaks
    ``primitives.NEW_LINE`` (``"\r\n"``, the managed gateway's ``Environment.NewLine``) is used by
    indented JSON/XML output, ``AppendLine`` and ``WriteLine``.
Exceptions
    Bad input raises :class:`engine.dotnet.errors.DotNetException` subclasses named like .NET
    (``FormatException``, ``JsonReaderException``...) with .NET-like messages; no raw Python
    exception escapes for bad user input.
Lambdas
    LINQ and other delegate parameters take plain Python callables.
Culture
    Everything is culture-invariant (the gateway has no user culture): ``ToString()`` of numbers and
    dates uses the invariant culture.
"""

from __future__ import annotations
