"""``System.Uri``, ``UriKind``, ``UriPartial`` and ``System.Net.WebUtility``."""

from __future__ import annotations

import enum
import html
import ipaddress
import re
import urllib.parse
from typing import Any

from .errors import ArgumentNullException, InvalidOperationException, UriFormatException
from .limits import LARGE, check_length

_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ftp": 21,
    "ws": 80,
    "wss": 443,
    "ldap": 389,
    "mailto": 25,
    "net.tcp": 808,
    "file": -1,
}
_URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!*()")
_DATA_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_URI_SAFE = _DATA_SAFE | set(":/?#[]@!$&'()*+,;=%")


_SAFE_BYTES: dict[tuple[int, bool], bytes] = {}


def _escaped_length(text: str, safe: set[str], space_plus: bool) -> int:
    """Length of the percent-encoded ``text``, computed at C speed before encoding it."""
    key = (id(safe), space_plus)
    keep = _SAFE_BYTES.get(key)
    if keep is None:
        keep = _SAFE_BYTES[key] = bytes(sorted(ord(c) for c in safe | ({" "} if space_plus else set()) if ord(c) < 128))
    raw = text.encode("utf-8", errors="surrogatepass")
    return len(raw) + 2 * len(raw.translate(None, keep))


def _percent(text: str, safe: set[str], space_plus: bool = False) -> str:
    if len(text) >= LARGE:
        check_length(_escaped_length(text, safe, space_plus))
    out: list[str] = []
    for ch in text:
        if ch in safe:
            out.append(ch)
        elif ch == " " and space_plus:
            out.append("+")
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", errors="surrogatepass"))
    return "".join(out)


def _unpercent(text: str, plus_space: bool = False) -> str:
    if plus_space:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", errors="surrogatepass")
    while i < len(raw):
        if (
            raw[i] == 0x25
            and i + 2 < len(raw) + 0
            and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 1 : i + 3] or b"")
        ):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", errors="replace")


class WebUtility:
    """Statics of ``System.Net.WebUtility``."""

    dotnet_name = "System.Net.WebUtility"

    @staticmethod
    def UrlEncode(value: str | None) -> str | None:
        return None if value is None else _percent(value, _URL_SAFE, space_plus=True)

    @staticmethod
    def UrlDecode(value: str | None) -> str | None:
        return None if value is None else _unpercent(value, plus_space=True)

    @staticmethod
    def HtmlEncode(value: str | None) -> str | None:
        if value is None:
            return None
        out: list[str] = []
        table = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"}
        for ch in value:
            code = ord(ch)
            if ch in table:
                out.append(table[ch])
            elif 160 <= code < 256 or code > 0xFFFF:
                out.append(f"&#{code};")
            else:
                out.append(ch)
        return "".join(out)

    @staticmethod
    def HtmlDecode(value: str | None) -> str | None:
        return None if value is None else html.unescape(value)

    @staticmethod
    def UrlEncodeToBytes(value: Any, offset: int = 0, count: int | None = None) -> bytes | None:
        if value is None:
            return None
        raw = bytes(value)[offset : offset + (count if count is not None else len(value))]
        return (
            _percent(raw.decode("latin-1"), _URL_SAFE, space_plus=True).encode("ascii")
            if raw.isascii()
            else "".join(
                chr(b) if chr(b) in _URL_SAFE else ("+" if b == 32 else f"%{b:02X}") for b in raw
            ).encode("ascii")
        )

    @staticmethod
    def UrlDecodeToBytes(value: Any, offset: int = 0, count: int | None = None) -> bytes | None:
        if value is None:
            return None
        return _unpercent(bytes(value).decode("latin-1"), plus_space=True).encode("latin-1", errors="replace")


class UriKind(enum.IntEnum):
    """``System.UriKind``."""

    RelativeOrAbsolute = 0
    Absolute = 1
    Relative = 2


class UriHostNameType(enum.IntEnum):
    """``System.UriHostNameType``."""

    Unknown = 0
    Basic = 1
    Dns = 2
    IPv4 = 3
    IPv6 = 4


class UriPartial(enum.IntEnum):
    """``System.UriPartial``."""

    Scheme = 0
    Authority = 1
    Path = 2
    Query = 3


_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(//)?(.*)$", re.S)


class Uri:
    """``System.Uri`` for absolute (``scheme://host[:port]/path?query#fragment``) and relative URIs."""

    dotnet_name = "System.Uri"
    json_token_type = "Uri"
    UriSchemeHttp = "http"
    UriSchemeHttps = "https"
    SchemeDelimiter = "://"

    def __init__(self, value: Any, relative: Any = None) -> None:
        if value is None:
            raise ArgumentNullException("uriString")
        if isinstance(value, Uri):
            if relative is None:
                raise ArgumentNullException("relativeUri")
            text = urllib.parse.urljoin(
                value.AbsoluteUri, relative.OriginalString if isinstance(relative, Uri) else str(relative)
            )
            kind = UriKind.Absolute
        else:
            text = str(value)
            kind = UriKind(int(relative)) if relative is not None else UriKind.Absolute
        self._original = str(value) if not isinstance(value, Uri) else text
        self._absolute = False
        stripped = text.strip()
        m = _ABSOLUTE.match(stripped)
        if (
            kind != UriKind.Relative
            and m
            and (m.group(2) or m.group(1).lower() in ("mailto", "urn", "data", "news", "tel"))
        ):
            self._parse_absolute(stripped)
        elif kind == UriKind.Absolute:
            raise UriFormatException("Invalid URI: The format of the URI could not be determined.")
        elif m and m.group(2) and kind == UriKind.Relative:
            raise UriFormatException(
                "Invalid URI: A relative URI cannot be created because the 'uriString' parameter represents an absolute URI."
            )
        else:
            self._relative = text

    def _parse_absolute(self, text: str) -> None:
        parts = urllib.parse.urlsplit(text)
        scheme = parts.scheme.lower()
        if not parts.netloc and scheme in ("http", "https", "ftp", "ws", "wss"):
            raise UriFormatException("Invalid URI: The hostname could not be parsed.")
        try:
            port = parts.port
        except ValueError as exc:
            raise UriFormatException("Invalid URI: Invalid port specified.") from exc
        host = parts.hostname or ""
        if any(c in host for c in " <>\\^`{|}"):
            raise UriFormatException("Invalid URI: The hostname could not be parsed.")
        self._absolute = True
        self._scheme = scheme
        self._host = f"[{host.lower()}]" if ":" in host else host.lower()  # an IPv6 host keeps its brackets
        self._userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        self._port = port if port is not None else _DEFAULT_PORTS.get(scheme, -1)
        self._explicit_port = port is not None
        path = parts.path or ("/" if parts.netloc else "")
        self._path = _unescape_unreserved(_percent(_normalise_dots(path), _URI_SAFE))
        self._query = (
            ("?" + _unescape_unreserved(_percent(parts.query, _URI_SAFE)))
            if parts.query or text.split("#")[0].endswith("?")
            else ""
        )
        self._fragment = ("#" + _unescape_unreserved(_percent(parts.fragment, _URI_SAFE))) if "#" in text else ""
        self._has_authority = bool(parts.netloc)

    def _need_absolute(self) -> None:
        if not self._absolute:
            raise InvalidOperationException("This operation is not supported for a relative URI.")

    # -- properties -----------------------------------------------------------------------------
    @property
    def IsAbsoluteUri(self) -> bool:
        return self._absolute

    @property
    def OriginalString(self) -> str:
        return self._original

    @property
    def Scheme(self) -> str:
        self._need_absolute()
        return self._scheme

    @property
    def Host(self) -> str:
        self._need_absolute()
        return self._host

    @property
    def DnsSafeHost(self) -> str:
        return self.Host.strip("[]")

    @property
    def IdnHost(self) -> str:
        host = self.Host.strip("[]")
        if host.isascii():
            return host
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host

    @property
    def HostNameType(self) -> UriHostNameType:
        self._need_absolute()
        kind = Uri.CheckHostName(self._host.strip("[]"))
        return UriHostNameType.Basic if kind == UriHostNameType.Unknown and self._host else kind

    @property
    def Port(self) -> int:
        self._need_absolute()
        return self._port

    @property
    def IsDefaultPort(self) -> bool:
        self._need_absolute()
        return self._port == _DEFAULT_PORTS.get(self._scheme, -1)

    @property
    def UserInfo(self) -> str:
        self._need_absolute()
        return self._userinfo

    @property
    def Authority(self) -> str:
        self._need_absolute()
        return self._host if self.IsDefaultPort else f"{self._host}:{self._port}"

    @property
    def AbsolutePath(self) -> str:
        self._need_absolute()
        return self._path

    @property
    def LocalPath(self) -> str:
        self._need_absolute()
        return _unpercent(self._path)

    @property
    def Query(self) -> str:
        self._need_absolute()
        return self._query

    @property
    def Fragment(self) -> str:
        self._need_absolute()
        return self._fragment

    @property
    def PathAndQuery(self) -> str:
        self._need_absolute()
        return self._path + self._query

    @property
    def Segments(self) -> list[str]:
        self._need_absolute()
        if not self._path:
            return []
        pieces = re.findall(r"[^/]*/|[^/]+$", self._path)
        return [p for p in pieces if p != ""]

    @property
    def AbsoluteUri(self) -> str:
        self._need_absolute()
        if not self._has_authority:
            return f"{self._scheme}:{self._path}{self._query}{self._fragment}"
        userinfo = self._userinfo + "@" if self._userinfo else ""
        return f"{self._scheme}://{userinfo}{self.Authority}{self._path}{self._query}{self._fragment}"

    def GetLeftPart(self, part: UriPartial) -> str:
        self._need_absolute()
        part = UriPartial(int(part))
        if part == UriPartial.Scheme:
            return self._scheme + ("://" if self._has_authority else ":")
        base = f"{self._scheme}://{self.Authority}" if self._has_authority else f"{self._scheme}:"
        if part == UriPartial.Authority:
            return base
        if part == UriPartial.Path:
            return base + self._path
        return base + self._path + self._query

    def GetComponents(self, components: Any, fmt: Any = None) -> str:
        return self.AbsoluteUri

    def MakeRelativeUri(self, other: Uri) -> Uri:
        """.NET's PathDifference: `../` for each directory of this path past the common one; another
        scheme, host or port gives `other` itself."""
        self._need_absolute()
        if (self.Scheme, self.Host, self.Port) != (other.Scheme, other.Host, other.Port):
            return other
        path1, path2 = self.AbsolutePath, other.AbsolutePath
        i, last_slash = 0, -1
        while i < len(path1) and i < len(path2) and path1[i] == path2[i]:
            if path1[i] == "/":
                last_slash = i
            i += 1
        if i == 0:
            rel = path2
        elif i == len(path1) and i == len(path2):
            rel = ""
        else:
            ups = "../" * path1[i:].count("/")
            rel = "./" if not ups and len(path2) - 1 == last_slash else ups + path2[last_slash + 1 :]
        if ":" in rel.split("/", 1)[0]:
            rel = "./" + rel
        return Uri(rel + other.Query + other.Fragment, UriKind.Relative)

    def IsBaseOf(self, other: Uri) -> bool:
        return other.AbsoluteUri.startswith(self.GetLeftPart(UriPartial.Path).rsplit("/", 1)[0])

    def ToString(self) -> str:
        if not self._absolute:
            return self._relative
        return _unpercent_safe(self.AbsoluteUri)

    def Equals(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = Uri(other, UriKind.RelativeOrAbsolute)
            except UriFormatException:
                return False
        if not isinstance(other, Uri) or other._absolute != self._absolute:
            return False
        if not self._absolute:
            return self._relative == other._relative
        return self.AbsoluteUri.split("#")[0] == other.AbsoluteUri.split("#")[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Uri) and self.Equals(other)

    def __hash__(self) -> int:
        return hash(self.ToString())

    def GetHashCode(self) -> int:
        return hash(self.ToString()) & 0x7FFFFFFF

    def to_json_text(self) -> str:
        return self._original

    def __repr__(self) -> str:
        return f"Uri({self._original!r})"

    # -- statics --------------------------------------------------------------------------------
    @staticmethod
    def EscapeDataString(value: str | None) -> str:
        if value is None:
            raise ArgumentNullException("stringToEscape")
        return _percent(value, _DATA_SAFE)

    @staticmethod
    def EscapeUriString(value: str | None) -> str:
        if value is None:
            raise ArgumentNullException("stringToEscape")
        return _percent(value, _URI_SAFE - {"%"})

    @staticmethod
    def UnescapeDataString(value: str | None) -> str:
        if value is None:
            raise ArgumentNullException("stringToUnescape")
        return _unpercent(value)

    @staticmethod
    def TryCreate(value: Any, kind_or_relative: Any = UriKind.Absolute) -> tuple[bool, Uri | None]:
        try:
            if isinstance(value, Uri):
                return True, Uri(value, kind_or_relative)
            return True, Uri(value, kind_or_relative)
        except (UriFormatException, ArgumentNullException, InvalidOperationException):
            return False, None

    @staticmethod
    def IsWellFormedUriString(value: str | None, kind: Any) -> bool:
        if value is None or any(c in value for c in ' "<>\\^`{|}'):
            return False
        ok, _ = Uri.TryCreate(value, kind)
        return ok

    @staticmethod
    def CheckHostName(name: str | None) -> UriHostNameType:
        if not name:
            return UriHostNameType.Unknown
        if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name) and all(int(p) < 256 for p in name.split(".")):
            return UriHostNameType.IPv4
        if ":" in name:
            try:
                ipaddress.IPv6Address(name.strip("[]"))
                return UriHostNameType.IPv6
            except ValueError:
                return UriHostNameType.Unknown
        return (UriHostNameType.Dns if re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?", name)
                else UriHostNameType.Unknown)


def _normalise_dots(path: str) -> str:
    if "/." not in path:
        return path
    segments: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if len(segments) > 1:
                segments.pop()
        elif seg != ".":
            segments.append(seg)
    result = "/".join(segments)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result or "/"


_UNRESERVED_ESCAPE = re.compile(r"%(2[dDeE]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|7[eE])")


def _unescape_unreserved(text: str) -> str:
    """.NET decodes escaped unreserved characters (letters, digits, ``-._~``) in a URI's path,
    query and fragment: ``/%7Euser`` is ``/~user``."""
    if "%" not in text:
        return text
    return _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _unpercent_safe(text: str) -> str:
    """``Uri.ToString()``: unescape except characters that would change the URI's meaning; escaped
    UTF-8 sequences become their characters (IRI), invalid ones stay escaped."""
    return _ESCAPED_RUN.sub(_unescape_run, text)


_ESCAPED_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _unescape_run(m: re.Match[str]) -> str:
    raw = m.group(0)
    codes = [int(raw[i + 1 : i + 3], 16) for i in range(0, len(raw), 3)]
    out: list[str] = []
    i = 0
    while i < len(codes):
        b = codes[i]
        if b < 0x80:
            c = chr(b)
            out.append(raw[3 * i : 3 * i + 3] if c in "%#?/&=+" or b < 0x20 or b == 0x7F else c)
            i += 1
            continue
        n = 2 if 0xC2 <= b <= 0xDF else 3 if 0xE0 <= b <= 0xEF else 4 if 0xF0 <= b <= 0xF4 else 0
        if n and i + n <= len(codes):
            try:
                out.append(bytes(codes[i : i + n]).decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        out.append(raw[3 * i : 3 * i + 3])
        i += 1
    return "".join(out)


__all__ = ["Uri", "UriHostNameType", "UriKind", "UriPartial", "WebUtility"]
