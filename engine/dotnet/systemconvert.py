"""The .NET classes ``System.Convert``, ``System.Text.Encoding`` and ``System.BitConverter``.

(C#'s own conversions, casts, ``as`` and ``is``, are `engine.dotnet.conversions`.)
``change_type`` is ``Convert.ChangeType(value, T, InvariantCulture)`` and is shared with
`engine.dotnet.jtokenvalues`. Byte arrays come back as ``bytes``; ``bytes`` and ``bytearray`` are both accepted.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from . import clrnumeric, utf16
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    InvalidCastException,
    OverflowException,
)
from .primitives import INTEGER_RANGES, Char, TypeRef, dotnet_type_name, static_property, type_ref

_B64_ERROR = (
    "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding "
    "characters, or an illegal character among the padding characters."
)


def _bytes(value: Any, name: str = "inArray") -> bytes:
    if value is None:
        raise ArgumentNullException(name)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    try:
        return bytes(int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InvalidCastException(
            f"Unable to cast object of type '{dotnet_type_name(value)}' to type 'System.Byte[]'."
        ) from exc


def _short(t: TypeRef) -> str:
    return t.name.rsplit(".", 1)[-1]


def _unwrap(value: Any) -> Any:
    """``JValue`` implements ``IConvertible``: ``Convert.ToInt32(jvalue)`` converts its value."""
    from .newtonsoft import JValue

    return value.Value if isinstance(value, JValue) else value


def _to_integer(value: Any, t: TypeRef) -> int:
    value = _unwrap(value)
    lo, hi = INTEGER_RANGES[t.name]
    if value is None:
        return 0
    if isinstance(value, bool):
        n = int(value)
    elif isinstance(value, Char):
        n = ord(value)
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise OverflowException(f"Value was either too large or too small for {_article(t)}.")
        n = int(Decimal(value).to_integral_value(rounding=ROUND_HALF_EVEN))
    elif isinstance(value, Decimal):
        n = int(value.to_integral_value(rounding=ROUND_HALF_EVEN))
    elif isinstance(value, str):
        from .culture import NumberStyles
        from .numbers import parse_number_text

        parsed = parse_number_text(value, NumberStyles.Integer)
        if not isinstance(parsed, int):
            raise FormatException(f"The input string '{value}' was not in a correct format.")
        n = parsed
    else:
        raise InvalidCastException(
            f"Unable to cast object of type '{dotnet_type_name(value)}' to type 'System.IConvertible'."
        )
    if not lo <= n <= hi:
        raise OverflowException(f"Value was either too large or too small for {_article(t)}.")
    kind = clrnumeric.KINDS.get(t.name)
    return kind.box(n) if kind is not None else n  # typed: `Value<long>()` is an Int64


def _article(t: TypeRef) -> str:
    short = _short(t)
    return {"Byte": "an unsigned byte", "SByte": "a signed byte", "Decimal": "a Decimal"}.get(
        short, f"an {short}" if short[0] in "IU" else f"a {short}"
    )


def _to_double(value: Any) -> float:
    value = _unwrap(value)
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, Char):
        raise InvalidCastException("Invalid cast from 'Char' to 'Double'.")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        from .numbers import Double

        return Double.Parse(value)
    raise InvalidCastException(
        f"Unable to cast object of type '{dotnet_type_name(value)}' to type 'System.IConvertible'."
    )


def _to_decimal(value: Any) -> Decimal:
    value = _unwrap(value)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | float | Decimal) and not isinstance(value, Char):
        from .numbers import to_decimal_exact

        return to_decimal_exact(value)
    if isinstance(value, str) and not isinstance(value, Char):
        from .culture import NumberStyles
        from .numbers import Decimal as DecimalStatics

        return DecimalStatics.Parse(value, NumberStyles.Number | NumberStyles.AllowExponent)
    raise InvalidCastException(
        f"Invalid cast from '{dotnet_type_name(value).rsplit('.', 1)[-1]}' to 'Decimal'."
    )


def _to_bool(value: Any) -> bool:
    value = _unwrap(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, Char):
        raise InvalidCastException("Invalid cast from 'Char' to 'Boolean'.")
    if isinstance(value, int | float | Decimal):
        return value != 0
    if isinstance(value, str):
        from .numbers import Boolean

        return Boolean.Parse(value)
    raise InvalidCastException(
        f"Unable to cast object of type '{dotnet_type_name(value)}' to type 'System.IConvertible'."
    )


def _to_char(value: Any) -> Char:
    value = _unwrap(value)
    if isinstance(value, Char):
        return value
    if isinstance(value, str):
        if len(value) != 1:
            raise FormatException("String must be exactly one character long.")
        return Char(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 0xFFFF:
            raise OverflowException("Value was either too large or too small for a character.")
        return Char(value)
    raise InvalidCastException(f"Invalid cast from '{dotnet_type_name(value).rsplit('.', 1)[-1]}' to 'Char'.")


def convert_to_string(value: Any) -> str | None:
    """``Convert.ToString(value, InvariantCulture)`` (``null`` -> ``""`` for objects)."""
    from .conversions import to_string

    return to_string(value)


_TOKEN_NAMES = {"JToken", "JValue", "System.Object"}


def change_type(value: Any, target: Any) -> Any:
    """``Convert.ChangeType(value, target, InvariantCulture)``."""
    t = type_ref(target)
    name = t.name
    if name not in _TOKEN_NAMES:
        value = _unwrap(value)
    if value is None:
        if (
            t.nullable
            or name not in INTEGER_RANGES
            and name
            not in ("System.Double", "System.Single", "System.Decimal", "System.Boolean", "System.Char")
        ):
            return None
        raise InvalidCastException("Null object cannot be converted to a value type.")
    if name == "System.Object":
        return value
    if name == "System.String":
        return convert_to_string(value)
    if name in INTEGER_RANGES:
        return _to_integer(value, t)
    if name in ("System.Double", "System.Single"):
        return _to_double(value)
    if name == "System.Decimal":
        return _to_decimal(value)
    if name == "System.Boolean":
        return _to_bool(value)
    if name == "System.Char":
        return _to_char(value)
    if name == "System.DateTime":
        from .datetimes import DateTime, DateTimeOffset

        if isinstance(value, DateTime):
            return value
        if isinstance(value, DateTimeOffset):
            return value.DateTime
        if isinstance(value, str):
            return DateTime.Parse(value)
    if name == "System.DateTimeOffset":
        from .datetimes import DateTime, DateTimeOffset

        if isinstance(value, DateTimeOffset):
            return value
        if isinstance(value, DateTime):
            return DateTimeOffset(value)
        if isinstance(value, str):
            return DateTimeOffset.Parse(value)
    if name == "System.Guid":
        from .guid import Guid

        if isinstance(value, Guid):
            return value
        if isinstance(value, str):
            return Guid.Parse(value)
        if isinstance(value, bytes | bytearray):
            return Guid(bytes(value))
    if name == "System.TimeSpan":
        from .timespan import TimeSpan

        if isinstance(value, TimeSpan):
            return value
        if isinstance(value, str):
            return TimeSpan.Parse(value)
    if name == "System.Uri":
        from .uri import Uri

        if isinstance(value, Uri):
            return value
        if isinstance(value, str):
            return Uri(value)
    if name == "System.Byte[]":
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, str):
            return Convert.FromBase64String(value)
    from .conversions import is_type

    if is_type(value, t):
        return value
    raise InvalidCastException(f"Invalid cast from '{dotnet_type_name(value)}' to '{name}'.")


def _grab_digits(text: str, i: int, radix: int, limit: int) -> tuple[int, int]:
    """ParseNumbers.GrabInts/GrabLongs: the digits from `i` in `radix`; (value, end index)."""
    n = 0
    while i < len(text):
        code = ord(text[i])
        digit = (code - 48 if 48 <= code <= 57 else code - 87 if 97 <= code <= 122
                 else code - 55 if 65 <= code <= 90 else 99)
        if digit >= radix:
            break
        n = n * radix + digit
        if n > limit:
            raise OverflowException("Value was either too large or too small for an Int32."
                                    if limit < 2**40 else "Value was either too large or too small for an Int64.")
        i += 1
    return n, i


# Convert.ToXxx(string, fromBase) per type: (bits, unsigned, narrow flag bits or 0)
_FROM_BASE_KINDS = {"System.Byte": (32, True, 0), "System.UInt16": (32, True, 0), "System.UInt32": (32, True, 0),
                    "System.SByte": (32, False, 8), "System.Int16": (32, False, 16), "System.Int32": (32, False, 0),
                    "System.Int64": (64, False, 0), "System.UInt64": (64, True, 0)}


def _from_base(value: str | None, base: int, t: TypeRef) -> int:
    """``Convert.ToXxx(string, fromBase)`` as .NET's ParseNumbers.StringToInt/StringToLong (IsTight):
    no white space, a sign only in base 10, `0x` allowed in base 16, non-decimal digits fill the
    type's bits (`"FFFFFFFF"` is -1), and nothing may follow the digits."""
    if base not in (2, 8, 10, 16):
        raise ArgumentException("Invalid Base.", "fromBase")
    if value is None:
        return 0
    bits, unsigned, narrow = _FROM_BASE_KINDS[t.name]
    if value == "":
        raise ArgumentOutOfRangeException(None, "Index was out of range. Must be non-negative and less than "
                                          "the size of the collection.")
    i, sign = 0, 1
    if value[0] == "-":
        if base != 10:
            raise ArgumentException("String cannot contain a minus sign if the base is not 10.")
        if unsigned:
            raise OverflowException("The string was being parsed as an unsigned number and could not have a "
                                    "negative sign.")
        sign, i = -1, 1
    elif value[0] == "+":
        i = 1
    if base == 16 and value[i:i + 2] in ("0x", "0X"):
        i += 2
    signed_decimal = base == 10 and not unsigned
    limit = (2 ** (bits - 1) if signed_decimal else 2**bits - 1)
    n, end = _grab_digits(value, i, base, limit)
    if end == i:
        raise FormatException("Could not find any recognizable digits.")
    if end < len(value):
        raise FormatException("Additional non-parsable characters are at the end of the string.")
    if signed_decimal and n == limit and (sign == 1 or narrow):
        raise OverflowException(f"Value was either too large or too small for {_article(t)}.")
    if narrow and n >= 1 << narrow:
        raise OverflowException(f"Value was either too large or too small for {_article(t)}.")
    lo, hi = INTEGER_RANGES[t.name]
    if base == 10:
        n *= sign
    elif not unsigned and n > hi:  # the digits set the sign bit of the type (or of Int32 for SByte/Int16)
        n -= 1 << (narrow or bits)
    if not lo <= n <= hi:
        raise OverflowException(f"Value was either too large or too small for {_article(t)}.")
    return n


def _integer_converter(type_name: str) -> Any:
    t = TypeRef(type_name)

    kind = clrnumeric.INTEGERS[type_name]

    def convert(value: Any, base_or_provider: Any = None) -> int:
        if isinstance(base_or_provider, int) and not isinstance(base_or_provider, bool):
            if value is not None and not isinstance(value, str):
                raise ArgumentException("String expected.", "value")
            return kind.box(_from_base(value, base_or_provider, t))
        return kind.box(_to_integer(value, t))

    return staticmethod(convert)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Convert:
    """Statics of ``System.Convert``."""

    dotnet_name = "System.Convert"

    ToByte = _integer_converter("System.Byte")
    ToSByte = _integer_converter("System.SByte")
    ToInt16 = _integer_converter("System.Int16")
    ToUInt16 = _integer_converter("System.UInt16")
    ToInt32 = _integer_converter("System.Int32")
    ToUInt32 = _integer_converter("System.UInt32")
    ToInt64 = _integer_converter("System.Int64")
    ToUInt64 = _integer_converter("System.UInt64")

    @staticmethod
    def ToDouble(value: Any, provider: Any = None) -> float:
        return _to_double(value)

    @staticmethod
    def ToSingle(value: Any, provider: Any = None) -> float:
        return clrnumeric.SingleValue(_to_double(value))

    @staticmethod
    def ToDecimal(value: Any, provider: Any = None) -> Decimal:
        return _to_decimal(value)

    @staticmethod
    def ToBoolean(value: Any, provider: Any = None) -> bool:
        return _to_bool(value)

    @staticmethod
    def ToChar(value: Any, provider: Any = None) -> Char:
        if value is None:
            return Char("\0")
        return _to_char(value)

    @staticmethod
    def ToString(value: Any = None, arg: Any = None) -> str:
        if (
            isinstance(arg, int)
            and not isinstance(arg, bool)
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            if arg not in (2, 8, 10, 16):
                raise ArgumentException("Invalid Base.", "toBase")
            if arg == 10:
                return str(value)
            n = value if value >= 0 else value + 2**32 if value >= -(2**31) else value + 2**64
            return {2: format(n, "b"), 8: format(n, "o"), 16: format(n, "x")}[arg]
        if isinstance(arg, str) and value is not None:
            from .formatting import format_value

            return format_value(value, arg)
        return convert_to_string(value) or ""

    @staticmethod
    def ToDateTime(value: Any, provider: Any = None) -> Any:
        if value is None:
            from .datetimes import DateTime

            return DateTime.MinValue
        return change_type(value, "System.DateTime")

    @staticmethod
    def ChangeType(value: Any, target: Any, provider: Any = None) -> Any:
        return change_type(value, target)

    @staticmethod
    def ToBase64String(
        data: Any, offset_or_options: Any = None, length: int | None = None, options: Any = None
    ) -> str:
        raw = _bytes(data)
        insert_breaks = False
        if length is not None:
            if offset_or_options < 0 or length < 0 or offset_or_options + length > len(raw):
                raise ArgumentOutOfRangeException(
                    "offset",
                    "Index was out of range. Must be non-negative and less than the size of the collection.",
                )
            raw = raw[offset_or_options : offset_or_options + length]
            insert_breaks = bool(options)
        elif offset_or_options is not None:
            insert_breaks = bool(int(offset_or_options))
        text = base64.b64encode(raw).decode("ascii")
        if insert_breaks:
            text = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
        return text

    @staticmethod
    def FromBase64String(s: str | None) -> bytes:
        if s is None:
            raise ArgumentNullException("s")
        cleaned = re.sub(r"[ \t\r\n]", "", s)
        if len(cleaned) % 4 != 0 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", cleaned):
            raise FormatException(_B64_ERROR)
        try:
            return base64.b64decode(cleaned, validate=True)
        except binascii.Error as exc:
            raise FormatException(_B64_ERROR) from exc

    @staticmethod
    def ToBase64CharArray(*args: Any) -> list[Char]:
        return [Char(c) for c in Convert.ToBase64String(*args)]

    @staticmethod
    def FromBase64CharArray(chars: Any, offset: int, length: int) -> bytes:
        return Convert.FromBase64String("".join(str(c) for c in chars)[offset : offset + length])

    @staticmethod
    def ToHexString(data: Any, offset: int | None = None, length: int | None = None) -> str:
        raw = _bytes(data)
        if offset is not None:
            raw = raw[offset : offset + (length or 0)]
        return raw.hex().upper()

    @staticmethod
    def ToHexStringLower(data: Any, offset: int | None = None, length: int | None = None) -> str:
        return Convert.ToHexString(data, offset, length).lower()

    @staticmethod
    def FromHexString(s: str | None) -> bytes:
        if s is None:
            raise ArgumentNullException("s")
        if len(s) % 2:
            raise FormatException("The input is not a valid hex string as its length is not a multiple of 2.")
        try:
            return bytes.fromhex(s)
        except ValueError as exc:
            raise FormatException(
                "The input is not a valid hex string as it contains a non-hex character."
            ) from exc

    @staticmethod
    def IsDBNull(value: Any) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


class Encoding:
    """``System.Text.Encoding`` instances (``Encoding.UTF8`` ...) and statics."""

    dotnet_name = "System.Text.Encoding"

    def __init__(
        self, codec: str, web_name: str, name: str, preamble: bytes = b"", code_page: int = 0
    ) -> None:
        self._codec = codec
        self._web_name = web_name
        self._name = name
        self._preamble = preamble
        self._code_page = code_page

    @property
    def WebName(self) -> str:
        return self._web_name

    @property
    def EncodingName(self) -> str:
        return self._name

    @property
    def BodyName(self) -> str:
        return self._web_name

    @property
    def CodePage(self) -> int:
        return self._code_page

    def GetPreamble(self) -> bytes:
        return self._preamble

    def _text(self, value: Any, index: int | None = None, count: int | None = None) -> str:
        if value is None:
            raise ArgumentNullException("s" if index is None else "chars")
        text = value if isinstance(value, str) else "".join(str(c) for c in value)
        if index is not None:
            text = utf16.units(text)  # index and count are in UTF-16 code units
            if count is None or index < 0 or count < 0 or index + count > len(text):
                raise ArgumentOutOfRangeException(
                    "index", "Index and count must refer to a location within the buffer."
                )
            text = text[index : index + count]
        return utf16.text(text)  # chars of a surrogate pair given one by one are one character

    def GetBytes(self, value: Any, index: int | None = None, count: int | None = None) -> bytes:
        text = self._text(value, index, count)
        if self._codec == "ascii":
            return text.encode("ascii", errors="replace")
        if self._codec == "latin-1":
            return text.encode("latin-1", errors="replace")
        if not text.isascii():  # the replacement fallback: a lone surrogate becomes U+FFFD
            text = _LONE_SURROGATE.sub("\ufffd", text)
        return text.encode(self._codec)

    def GetByteCount(self, value: Any) -> int:
        return len(self.GetBytes(value))

    def GetString(self, data: Any, index: int | None = None, count: int | None = None) -> str:
        raw = _bytes(data, "bytes")
        if index is not None:
            if count is None or index < 0 or count < 0 or index + count > len(raw):
                raise ArgumentOutOfRangeException(
                    "index", "Index and count must refer to a location within the buffer."
                )
            raw = raw[index : index + count]
        if self._codec == "ascii":
            return "".join(chr(b) if b < 128 else "?" for b in raw)
        return raw.decode(self._codec, errors="replace")

    def GetChars(self, data: Any, index: int | None = None, count: int | None = None) -> list[Char]:
        return [Char(c) for c in self.GetString(data, index, count) if len(c) == 1]

    def GetCharCount(self, data: Any) -> int:
        return len(self.GetString(data))

    def GetMaxByteCount(self, char_count: int) -> int:
        return {"utf-8": 3, "ascii": 1, "latin-1": 1, "utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4}[
            self._codec
        ] * (char_count + 1)

    def Equals(self, other: Any) -> bool:
        return isinstance(other, Encoding) and other._codec == self._codec

    def ToString(self) -> str:
        return f"System.Text.{type(self).__name__}"

    @static_property
    def UTF8() -> Encoding:  # noqa: N802
        return _UTF8

    @static_property
    def ASCII() -> Encoding:  # noqa: N802
        return _ASCII

    @static_property
    def Unicode() -> Encoding:  # noqa: N802
        return _UNICODE

    @static_property
    def BigEndianUnicode() -> Encoding:  # noqa: N802
        return _BIG_ENDIAN_UNICODE

    @static_property
    def UTF32() -> Encoding:  # noqa: N802
        return _UTF32

    @static_property
    def Latin1() -> Encoding:  # noqa: N802
        return _LATIN1

    @static_property
    def Default() -> Encoding:  # noqa: N802
        return _UTF8

    @staticmethod
    def GetEncoding(name: Any) -> Encoding:
        key = str(name).lower().replace("_", "-")
        table = {
            "utf-8": _UTF8,
            "utf8": _UTF8,
            "65001": _UTF8,
            "us-ascii": _ASCII,
            "ascii": _ASCII,
            "20127": _ASCII,
            "utf-16": _UNICODE,
            "unicode": _UNICODE,
            "utf-16le": _UNICODE,
            "1200": _UNICODE,
            "utf-16be": _BIG_ENDIAN_UNICODE,
            "1201": _BIG_ENDIAN_UNICODE,
            "utf-32": _UTF32,
            "12000": _UTF32,
            "iso-8859-1": _LATIN1,
            "latin1": _LATIN1,
            "28591": _LATIN1,
        }
        enc = table.get(key)
        if enc is None:
            raise ArgumentException(f"'{name}' is not a supported encoding name.", "name")
        return enc

    @staticmethod
    def Convert(src: Encoding, dst: Encoding, data: Any) -> bytes:
        return dst.GetBytes(src.GetString(data))


_UTF8 = Encoding("utf-8", "utf-8", "Unicode (UTF-8)", b"\xef\xbb\xbf", 65001)
_ASCII = Encoding("ascii", "us-ascii", "US-ASCII", b"", 20127)
_UNICODE = Encoding("utf-16-le", "utf-16", "Unicode", b"\xff\xfe", 1200)
_BIG_ENDIAN_UNICODE = Encoding("utf-16-be", "utf-16BE", "Unicode (Big-Endian)", b"\xfe\xff", 1201)
_UTF32 = Encoding("utf-32-le", "utf-32", "Unicode (UTF-32)", b"\xff\xfe\x00\x00", 12000)
_LATIN1 = Encoding("latin-1", "iso-8859-1", "Western European (ISO)", b"", 28591)


# ---------------------------------------------------------------------------------------------
# BitConverter
# ---------------------------------------------------------------------------------------------


_LAYOUTS = {"System.Int16": "h", "System.UInt16": "H", "System.Char": "H", "System.Int32": "i", "System.UInt32": "I",
            "System.Int64": "q", "System.UInt64": "Q", "System.Single": "f", "System.Double": "d",
            "System.Byte": "h", "System.SByte": "h"}  # byte and sbyte use the short overload


def _read(data: Any, start: int, size: int) -> bytes:
    """The ``size`` bytes at ``start`` (BitConverter's range checks)."""
    raw = _bytes(data, "value")
    if start < 0 or start >= len(raw) and len(raw) > 0 or start > len(raw):
        raise ArgumentOutOfRangeException(
            "startIndex",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        )
    if start + size > len(raw):
        raise ArgumentException(
            "Destination array is not long enough to copy all the items in the collection. Check array index and length.",
            "value",
        )
    return raw[start:start + size]


def _read_int(data: Any, start: int, size: int, signed: bool) -> int:
    return int.from_bytes(_read(data, start, size), "little", signed=signed)


def _read_float(data: Any, start: int, size: int) -> float:
    value: float = struct.unpack("<d" if size == 8 else "<f", _read(data, start, size))[0]
    return value


class BitConverter:
    """``System.BitConverter`` (little-endian)."""

    dotnet_name = "System.BitConverter"
    IsLittleEndian = True

    @staticmethod
    def GetBytes(value: Any) -> bytes:
        if isinstance(value, bool):
            return b"\x01" if value else b"\x00"
        kind = clrnumeric.kind_of(value)
        layout = _LAYOUTS.get(kind.name) if kind is not None else None
        if layout is None:
            raise ArgumentException(f"Unsupported value of type {dotnet_type_name(value)}.", "value")
        return struct.pack("<" + layout, ord(value) if isinstance(value, Char) else value)

    @staticmethod
    def ToInt16(data: Any, start: int = 0) -> int:
        return clrnumeric.INT16.box(_read_int(data, start, 2, True))

    @staticmethod
    def ToUInt16(data: Any, start: int = 0) -> int:
        return clrnumeric.UINT16.box(_read_int(data, start, 2, False))

    @staticmethod
    def ToInt32(data: Any, start: int = 0) -> int:
        return _read_int(data, start, 4, True)

    @staticmethod
    def ToUInt32(data: Any, start: int = 0) -> int:
        return clrnumeric.UINT32.box(_read_int(data, start, 4, False))

    @staticmethod
    def ToInt64(data: Any, start: int = 0) -> int:
        return clrnumeric.INT64.box(_read_int(data, start, 8, True))

    @staticmethod
    def ToUInt64(data: Any, start: int = 0) -> int:
        return clrnumeric.UINT64.box(_read_int(data, start, 8, False))

    @staticmethod
    def ToDouble(data: Any, start: int = 0) -> float:
        return _read_float(data, start, 8)

    @staticmethod
    def ToSingle(data: Any, start: int = 0) -> float:
        return clrnumeric.SINGLE.box(_read_float(data, start, 4))

    @staticmethod
    def ToBoolean(data: Any, start: int = 0) -> bool:
        return _read(data, start, 1) != b"\x00"

    @staticmethod
    def ToChar(data: Any, start: int = 0) -> Char:
        return Char(_read_int(data, start, 2, False))

    @staticmethod
    def ToString(data: Any, start: int = 0, length: int | None = None) -> str:
        raw = _bytes(data, "value")
        if start < 0 or start > len(raw):
            raise ArgumentOutOfRangeException(
                "startIndex",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            )
        end = len(raw) if length is None else start + length
        if end > len(raw) or end < start:
            raise ArgumentException("The value of 'length' is out of range.", "length")
        return "-".join(f"{b:02X}" for b in raw[start:end])

    @staticmethod
    def DoubleToInt64Bits(value: float) -> int:
        return int.from_bytes(struct.pack("<d", value), "little", signed=True)

    @staticmethod
    def Int64BitsToDouble(value: int) -> float:
        return _read_float(struct.pack("<q", value), 0, 8)


__all__ = ["BitConverter", "Convert", "Encoding", "change_type", "convert_to_string"]
