"""Culture-invariant .NET number formatting and composite formatting (``String.Format``).

* :func:`double_to_string` — ``double.ToString()`` (.NET Core 3.0+ shortest round-trip, ``E+15``).
* :func:`format_number` — ``ToString(format)`` for ``int``/``float``/``Decimal`` with the standard
  (``C D E F G N P R X``) and custom (``0 # . , % ‰ E+0 ; 'lit' \\``) format strings.
* :func:`composite_format` — ``String.Format`` with ``{index[,alignment][:format]}`` items.
* :func:`format_value` — one interpolation hole / format item for any runtime value.

Rounding follows .NET 5+: doubles are rounded from their exact binary value (ties to even) for
standard formats and from 15 significant digits (ties away from zero) for custom formats;
integers and decimals round ties away from zero.
"""

from __future__ import annotations

import enum
import math
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from . import clrnumeric
from .errors import ArgumentNullException, FormatException
from .limits import check_format, check_length, joined_length

_CTX = Context(prec=2000)
_BAD_FORMAT = "Format specifier was invalid."
_BAD_COMPOSITE = "Input string was not in a correct format."


# ---------------------------------------------------------------------------------------------
# double.ToString()
# ---------------------------------------------------------------------------------------------


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(x)`` and the exponent of the first digit."""
    r = repr(abs(x))
    if "e" in r:
        m, _, e = r.partition("e")
        ip, _, fp = m.partition(".")
        digits = (ip + fp).rstrip("0") or "0"
        return digits, int(e) + len(ip) - 1
    ip, _, fp = r.partition(".")
    if ip != "0":
        digits = (ip + fp).rstrip("0")
        return digits or "0", len(ip) - 1
    stripped = fp.lstrip("0")
    return stripped.rstrip("0") or "0", -(len(fp) - len(stripped)) - 1


def _exp_text(e: int, min_digits: int, plus: bool = True) -> str:
    sign = "-" if e < 0 else ("+" if plus else "")
    return sign + str(abs(e)).rjust(min_digits, "0")


def _place(digits: str, e: int) -> str:
    """Render ``0.d1d2... * 10^(e+1)`` in fixed notation."""
    if e < 0:
        return "0." + "0" * (-e - 1) + digits
    if len(digits) <= e + 1:
        return digits + "0" * (e + 1 - len(digits))
    return digits[: e + 1] + "." + digits[e + 1 :]


def double_to_string(x: float) -> str:
    """``double.ToString()`` in the invariant culture (shortest round-trip, .NET Core 3.0+)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0"
    digits, e = _shortest_digits(x)
    if e < -4 or e >= 15:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}E{_exp_text(e, 2)}"
    return sign + _place(digits, e)


def single_to_string(x: float) -> str:
    """``float.ToString()`` (C# ``float``/``System.Single``): the shortest digits that round-trip
    at single precision (``1.1f`` prints ``1.1``, not the double ``1.100000023841858``)."""
    import struct

    if math.isnan(x) or math.isinf(x) or x == 0:
        return double_to_string(x)
    target = struct.unpack("<f", struct.pack("<f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{target:.{digits - 1}e}")
        try:
            if struct.unpack("<f", struct.pack("<f", candidate))[0] == target:
                return double_to_string(candidate)
        except OverflowError:
            continue
    return double_to_string(target)


def decimal_to_string(d: Decimal) -> str:
    """``decimal.ToString()``: keeps the scale (``1.50m`` -> ``"1.50"``)."""
    text = format(d, "f")
    if text.startswith("-") and d.is_zero():
        text = text[1:]
    return text


# ---------------------------------------------------------------------------------------------
# standard numeric formats
# ---------------------------------------------------------------------------------------------


def _group(int_digits: str) -> str:
    out = []
    for i, ch in enumerate(reversed(int_digits)):
        if i and i % 3 == 0:
            out.append(",")
        out.append(ch)
    return "".join(reversed(out))


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise FormatException(_BAD_FORMAT)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(value)  # exact binary value of a float


def _mode(value: Any) -> str:
    return ROUND_HALF_EVEN if isinstance(value, float) else ROUND_HALF_UP


def _fixed_digits(d: Decimal, places: int, mode: str) -> tuple[str, str]:
    """Round ``abs(d)`` to ``places`` decimals: (integer digits, fraction digits)."""
    q = d.copy_abs().quantize(Decimal(1).scaleb(-places), rounding=mode, context=_CTX)
    text = format(q, "f")
    ip, _, fp = text.partition(".")
    return ip, fp.ljust(places, "0")[:places] if places else ""


def _is_negative(value: Any) -> bool:
    if isinstance(value, float):
        return math.copysign(1.0, value) < 0
    return bool(value < 0)


def _sig_digits(d: Decimal, precision: int, mode: str) -> tuple[str, int]:
    """``abs(d)`` rounded to ``precision`` significant digits: (digits, exponent of first digit)."""
    if d.is_zero():
        return "0", 0
    a = d.copy_abs()
    e = a.adjusted()
    q = a.scaleb(-e, context=_CTX).quantize(Decimal(1).scaleb(-(precision - 1)), rounding=mode, context=_CTX)
    if q >= 10:
        e += 1
        q = q.scaleb(-1, context=_CTX)
    digits = format(q, "f").replace(".", "")[:precision]
    return digits, e


def _format_hex(value: Any, spec: str, precision: int | None) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatException(_BAD_FORMAT)
    n = value
    if n < 0:  # two's complement in the value's own width (`((short)-1).ToString("X")` is FFFF)
        kind = clrnumeric.kind_of(value)
        n += 1 << (kind.bits if kind is not None else 64)
    text = format(n, "X" if spec == "X" else "x")
    return text.rjust(precision or 0, "0")


def _fixed_fast(value: Any, grouped: bool, places: int, neg: bool) -> str:
    """``F``/``N`` of a double or an integer with Python's formatter: a double rounds from its exact
    binary value, ties to even (as .NET Core's standard formats); a negative double keeps its sign
    when it rounds to zero (``-0.00``), an integer has no fraction to round."""
    comma = "," if grouped else ""
    if isinstance(value, float):
        body = format(-value if neg else value, f"{comma}.{places}f")
        return "-" + body if neg else body
    body = format(abs(value), comma) + ("." + "0" * places if places else "")
    return "-" + body if value < 0 else body


def _format_standard(value: Any, spec: str, precision: int | None) -> str:
    kind = spec.upper()
    if precision is not None and precision > 64:
        check_length(precision)  # `D300000000`, `F300000000`: the digits alone exceed the string limit
    neg = _is_negative(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return double_to_string(value)
    if kind == "X":
        return _format_hex(value, spec, precision)
    if kind == "R":
        if isinstance(value, float):
            return double_to_string(value)
        return format_number(value, None)
    if kind == "D":
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormatException(_BAD_FORMAT)
        return ("-" if value < 0 else "") + str(abs(value)).rjust(precision or 0, "0")
    if kind in "FN" and value.__class__ is not Decimal and not isinstance(value, bool):
        return _fixed_fast(value, kind == "N", 2 if precision is None else precision, neg)
    d = _to_decimal(value)
    mode = _mode(value)
    if kind in "FNCP":
        places = 2 if precision is None else precision
        if kind == "P":
            d = d.scaleb(2, context=_CTX)
        ip, fp = _fixed_digits(d, places, mode)
        if kind in "NCP":
            ip = _group(ip)
        body = ip + ("." + fp if places else "")
        is_zero = ip.strip("0,") == "" and fp.strip("0") == ""
        negative = neg and not (is_zero and not isinstance(value, float))
        if kind == "C":
            return f"(¤{body})" if negative else f"¤{body}"
        if kind == "P":
            body += " %"
        return ("-" if negative else "") + body
    if kind == "E":
        places = 6 if precision is None else precision
        digits, e = _sig_digits(d, places + 1, mode)
        digits = digits.ljust(places + 1, "0")
        mant = digits[0] + ("." + digits[1:] if places else "")
        return ("-" if neg else "") + mant + spec[0] + _exp_text(e, 3)
    if kind == "G":
        if precision is None or precision == 0:
            if isinstance(value, float):
                return double_to_string(value)
            if isinstance(value, Decimal):
                return decimal_to_string(value)
            return str(value)
        digits, e = _sig_digits(d, precision, mode)
        digits = digits.rstrip("0") or "0"
        sign = "-" if neg and not d.is_zero() else ""
        if e >= precision or e < -4:
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            return sign + mant + ("E" if spec == "G" else "e") + _exp_text(e, 2)
        return sign + _place(digits, e)
    raise FormatException(_BAD_FORMAT)


# ---------------------------------------------------------------------------------------------
# custom numeric formats
# ---------------------------------------------------------------------------------------------


def _split_sections(fmt: str) -> list[str]:
    sections, cur, i, quote = [], [], 0, ""
    while i < len(fmt):
        ch = fmt[i]
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch == "\\" and i + 1 < len(fmt):
            cur.append(fmt[i : i + 2])
            i += 1
        elif ch == ";":
            sections.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    sections.append("".join(cur))
    return sections


def _tokens(section: str) -> list[tuple[str, str]]:
    """Split a custom section into (kind, text) tokens: digit, point, comma, percent, permille, exp, lit."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch in "'\"":
            end = section.find(ch, i + 1)
            end = len(section) if end < 0 else end
            out.append(("lit", section[i + 1 : end]))
            i = end + 1
            continue
        if ch == "\\":
            out.append(("lit", section[i + 1 : i + 2]))
            i += 2
            continue
        if (
            ch in "eE"
            and i + 1 < len(section)
            and (
                section[i + 1] == "0"
                or (section[i + 1] in "+-" and i + 2 < len(section) and section[i + 2] == "0")
            )
        ):
            j = i + 1
            sign = ""
            if section[j] in "+-":
                sign = section[j]
                j += 1
            k = j
            while k < len(section) and section[k] == "0":
                k += 1
            out.append(("exp", ch + sign + str(k - j)))
            i = k
            continue
        kind = {"0": "digit", "#": "digit", ".": "point", ",": "comma", "%": "percent", "‰": "permille"}.get(
            ch, "lit"
        )
        out.append((kind, ch))
        i += 1
    return out


def _custom_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        if value == 0:
            return Decimal(0)
        return Decimal(f"{value:.14e}")
    return _to_decimal(value)


def _format_custom_section(d: Decimal, section: str, with_sign: bool) -> str:
    toks = _tokens(section)
    point = next((i for i, t in enumerate(toks) if t[0] == "point"), None)
    exp_at = next((i for i, t in enumerate(toks) if t[0] == "exp"), None)
    end_int = point if point is not None else (exp_at if exp_at is not None else len(toks))
    int_idx = [i for i in range(end_int) if toks[i][0] == "digit"]
    frac_end = exp_at if exp_at is not None else len(toks)
    frac_idx = [i for i in range(end_int, frac_end) if toks[i][0] == "digit"]
    # commas: grouping when between integer placeholders, scaling when right before the point/end
    grouping = False
    scale = 0
    if int_idx:
        j = int_idx[-1] + 1
        while j < len(toks) and toks[j][0] == "comma":
            scale += 1
            j += 1
        grouping = any(toks[i][0] == "comma" for i in range(int_idx[0], int_idx[-1]))
    for kind, _ in toks:
        if kind == "percent":
            d = d.scaleb(2, context=_CTX)
        elif kind == "permille":
            d = d.scaleb(3, context=_CTX)
    if scale:
        d = d.scaleb(-3 * scale, context=_CTX)
    max_frac = len(frac_idx)
    min_frac = 0
    for n, i in enumerate(frac_idx):
        if toks[i][1] == "0":
            min_frac = n + 1
    first_zero = next((n for n, i in enumerate(int_idx) if toks[i][1] == "0"), None)
    exponent = 0
    if exp_at is not None:
        n_int = max(len(int_idx), 1)
        if not d.is_zero():
            exponent = d.copy_abs().adjusted() - (n_int - 1)
            d = d.scaleb(-exponent, context=_CTX)
            q = d.copy_abs().quantize(Decimal(1).scaleb(-max_frac), rounding=ROUND_HALF_UP, context=_CTX)
            if q.adjusted() >= n_int:
                exponent += 1
                d = d.scaleb(-1, context=_CTX)
    ip, fp = _fixed_digits(d, max_frac, ROUND_HALF_UP)
    fp = fp[:max_frac]
    while len(fp) > min_frac and fp.endswith("0"):
        fp = fp[:-1]
    ip = ip.lstrip("0")
    is_zero = not ip and not fp.strip("0")
    n = len(int_idx)
    out: list[str] = []
    if with_sign and not is_zero:
        out.append("-")
    if grouping:
        digits = ip
        if first_zero is not None:
            digits = digits.rjust(n - first_zero, "0")
    placed_int = False
    frac_pos = 0
    position = {t_i: k for k, t_i in enumerate(int_idx)}
    for t_i, (kind, text) in enumerate(toks):
        if kind == "digit" and t_i < end_int:
            k = position[t_i]
            if grouping:
                if not placed_int:
                    out.append(_group(digits))
                    placed_int = True
                continue
            lead = len(ip) - n
            if k == 0 and lead > 0:
                out.append(ip[:lead])
            d_idx = k - (n - len(ip))
            if d_idx >= 0:
                out.append(ip[d_idx])
            elif first_zero is not None and k >= first_zero:
                out.append("0")
        elif kind == "digit":
            if frac_pos < len(fp):
                out.append(fp[frac_pos])
            frac_pos += 1
        elif kind == "point":
            if fp:
                out.append(".")
        elif kind == "comma":
            continue
        elif kind == "percent":
            out.append("%")
        elif kind == "permille":
            out.append("‰")
        elif kind == "exp":
            letter, rest = text[0], text[1:]
            sign_mode = rest[0] if rest[0] in "+-" else ""
            min_digits = int(rest.lstrip("+-"))
            plus = sign_mode == "+"
            out.append(letter + _exp_text(exponent, min_digits, plus))
        else:
            out.append(text)
    if not int_idx and ip and not grouping:
        # no integer placeholders: the integer part goes right before the point
        insert_at = 1 if with_sign and not is_zero else 0
        out.insert(insert_at, ip)
    return "".join(out)


def _format_custom(value: Any, fmt: str) -> str:
    d = _custom_decimal(value)
    sections = _split_sections(fmt)
    neg = d < 0
    if len(sections) == 1:
        return _format_custom_section(d, sections[0], neg)
    if d.is_zero() and len(sections) >= 3 and sections[2] != "":
        return _format_custom_section(d, sections[2], False)
    if neg:
        sec = sections[1] if sections[1] != "" else sections[0]
        text = _format_custom_section(d.copy_abs(), sec, sections[1] == "")
    else:
        text = _format_custom_section(d, sections[0], False)
    if len(sections) >= 3 and sections[2] != "" and not any(c in "123456789" for c in text):
        return _format_custom_section(Decimal(0), sections[2], False)  # it rounded to zero: the zero section
    return text


# ---------------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------------


def _parse_standard(fmt: str) -> tuple[str, int | None] | None:
    if not fmt or not fmt[0].isalpha():
        return None
    rest = fmt[1:]
    if rest == "":
        return fmt[0], None
    if rest.isdigit() and len(rest) <= 9:
        return fmt[0], int(rest)
    return None


_STANDARD: dict[str, tuple[str, int | None]] = {}  # standard format strings parsed (`N2` -> ("N", 2))


def format_number(value: Any, fmt: str | None) -> str:
    """``ToString(fmt)`` of an ``int``/``float``/``Decimal`` in the invariant culture."""
    if fmt is None or fmt == "":
        if isinstance(value, float):
            return single_to_string(value) if getattr(value, "kind", None) is not None else double_to_string(value)
        if isinstance(value, Decimal):
            return decimal_to_string(value)
        return str(value)
    std = _STANDARD.get(fmt)
    if std is None:
        std = _parse_standard(fmt)
        if std is not None and len(_STANDARD) < 512:
            _STANDARD[fmt] = std
    if std is not None:
        spec, precision = std
        cls = value.__class__
        if spec in "FNfn" and (cls is int or cls is float and math.isfinite(value)) and (precision or 0) <= 64:
            neg = value < 0 or cls is float and math.copysign(1.0, value) < 0
            return _fixed_fast(value, spec in "Nn", 2 if precision is None else precision, neg)
        if spec.upper() not in "CDEFGNPRX":
            raise FormatException(_BAD_FORMAT)
        return _format_standard(value, spec, precision)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return double_to_string(value)
    check_format(fmt)
    try:
        return _format_custom(value, fmt)
    except (InvalidOperation, ValueError, IndexError) as exc:
        raise FormatException(_BAD_FORMAT) from exc


def format_value(value: Any, fmt: str | None = None, alignment: int = 0) -> str:
    """Format one value the way a composite-format item ``{x,alignment:fmt}`` does."""
    if value is None:
        text = ""
    elif value.__class__ is str:
        text = value
    elif value.__class__ is float or value.__class__ is int:
        text = format_number(value, fmt)
    elif isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, enum.Enum):
        text = _format_enum(value, fmt)
    elif isinstance(value, int | float | Decimal):
        text = format_number(value, fmt)
    elif isinstance(value, str):
        text = str(value)
    else:
        to_string = getattr(value, "ToString", None)
        if fmt and callable(to_string) and _accepts_format(value):
            text = to_string(fmt)
        else:
            from .conversions import to_string as convert

            text = convert(value)
    if abs(alignment) > len(text):
        check_length(abs(alignment))
    if alignment > 0:
        text = text.rjust(alignment)
    elif alignment < 0:
        text = text.ljust(-alignment)
    return text


def _format_enum(value: enum.Enum, fmt: str | None) -> str:
    """``Enum.ToString(fmt)``: ``G``/``F`` names, ``D`` the number, ``X`` eight hex digits."""
    from .primitives import enum_to_string

    if fmt in (None, "", "G", "g", "F", "f"):
        return enum_to_string(value)
    if fmt in ("D", "d"):
        return str(int(value.value))
    if fmt in ("X", "x"):
        return f"{int(value.value) & 0xFFFFFFFF:08X}"
    raise FormatException('Format string can be only "G", "g", "X", "x", "F", "f", "D" or "d".')


def _accepts_format(value: object) -> bool:
    return bool(getattr(type(value), "formattable", False))


_Piece = str | tuple[int, int, str | None]


def _parse_composite(fmt: str) -> tuple[_Piece, ...]:
    """``fmt`` as literal runs and ``(index, alignment, format)`` items; ``{{``/``}}`` unescaped."""
    pieces: list[_Piece] = []
    literal: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        brace = _BRACE.search(fmt, i)
        if brace is None:
            literal.append(fmt[i:])
            break
        k = brace.start()
        literal.append(fmt[i:k])
        if fmt[k] == "}":
            if k + 1 < n and fmt[k + 1] == "}":
                literal.append("}")
                i = k + 2
                continue
            raise FormatException(_BAD_COMPOSITE)
        if k + 1 < n and fmt[k + 1] == "{":
            literal.append("{")
            i = k + 2
            continue
        end = fmt.find("}", k)
        if end < 0:
            raise FormatException(_BAD_COMPOSITE)
        index_part, colon, item_fmt = fmt[k + 1 : end].partition(":")
        index_text, comma, align_text = index_part.partition(",")
        index_text = index_text.strip()
        if not index_text.isdigit():
            raise FormatException(_BAD_COMPOSITE)
        alignment = 0
        if comma:
            try:
                alignment = int(align_text.strip())
            except ValueError as exc:
                raise FormatException(_BAD_COMPOSITE) from exc
        if literal:
            pieces.append("".join(literal))
            literal = []
        pieces.append((int(index_text), alignment, item_fmt if colon else None))
        i = end + 1
    if literal and any(literal):
        pieces.append("".join(literal))
    return tuple(pieces)


_BRACE = re.compile(r"[{}]")
_parse_short_composite = lru_cache(maxsize=512)(_parse_composite)  # only short texts are kept


def composite_format(fmt: str | None, args: list[Any] | tuple[Any, ...]) -> str:
    """``String.Format(fmt, args...)``: ``{index[,alignment][:format]}``, ``{{`` and ``}}`` escapes."""
    if fmt is None:
        raise ArgumentNullException("format")
    pieces = _parse_short_composite(fmt) if len(fmt) <= 256 else _parse_composite(fmt)
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        index, alignment, item_fmt = piece
        if index >= len(args):
            raise FormatException(
                "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
            )
        out.append(format_value(args[index], item_fmt, alignment))
    joined_length(out)
    return "".join(out)


__all__ = [
    "composite_format",
    "decimal_to_string",
    "double_to_string",
    "format_number",
    "format_value",
    "single_to_string",
]
