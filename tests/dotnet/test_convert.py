"""Convert, Encoding, BitConverter, Guid."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

import pytest

from engine.dotnet.clrnumeric import ByteValue, Int64Value
from engine.dotnet.errors import ArgumentException, FormatException, OverflowException
from engine.dotnet.guid import Guid
from engine.dotnet.net import AddressFamily, IPAddress
from engine.dotnet.primitives import Char
from engine.dotnet.systemconvert import BitConverter, Convert, Encoding

B64_ERROR = (
    "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding "
    "characters, or an illegal character among the padding characters."
)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: Convert.ToBase64String(b"hello"), "aGVsbG8="),
        (lambda: Convert.ToBase64String(b""), ""),
        (lambda: Convert.ToBase64String(bytearray(b"\xff\xfe")), "//4="),
        (lambda: Convert.ToBase64String(b"hello", 1, 3), "ZWxs"),
        (lambda: Convert.FromBase64String("aGVsbG8="), b"hello"),
        (lambda: Convert.FromBase64String(" aGVs\r\nbG8= "), b"hello"),
        (lambda: Convert.ToInt32("42"), 42),
        (lambda: Convert.ToInt32(None), 0),
        (lambda: Convert.ToInt32(2.5), 2),
        (lambda: Convert.ToInt32(3.5), 4),
        (lambda: Convert.ToInt32(-2.5), -2),
        (lambda: Convert.ToInt32(True), 1),
        (lambda: Convert.ToInt32(Char("A")), 65),
        (lambda: Convert.ToInt32("ff", 16), 255),
        (lambda: Convert.ToInt32("ffffffff", 16), -1),
        (lambda: Convert.ToInt32("101", 2), 5),
        (lambda: Convert.ToInt64("-9000000000"), Int64Value(-9000000000)),
        (lambda: Convert.ToByte("255"), ByteValue(255)),
        (lambda: Convert.ToByte("1f", 16), ByteValue(31)),
        (lambda: Convert.ToDouble("1.5"), 1.5),
        (lambda: Convert.ToDouble(3), 3.0),
        (lambda: Convert.ToDecimal("2.50"), Decimal("2.50")),
        (lambda: Convert.ToBoolean("True"), True),
        (lambda: Convert.ToBoolean(0), False),
        (lambda: Convert.ToString(True), "True"),
        (lambda: Convert.ToString(None), ""),
        (lambda: Convert.ToString(1.5), "1.5"),
        (lambda: Convert.ToString(255, 16), "ff"),
        (lambda: Convert.ToString(5, 2), "101"),
        (lambda: Convert.ToString(-1, 16), "ffffffff"),
        (lambda: Convert.ToChar(65), Char("A")),
        (lambda: Convert.ToHexString(b"\x01\xab"), "01AB"),
        (lambda: Convert.FromHexString("01ab"), b"\x01\xab"),
        (lambda: Convert.ChangeType("5", "int"), 5),
        (lambda: Convert.ChangeType(5, "string"), "5"),
    ],
)
def test_convert(call, expected) -> None:  # noqa: ANN001
    result = call()
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: Convert.FromBase64String("abc"), FormatException, B64_ERROR),
        (lambda: Convert.FromBase64String("a$b="), FormatException, B64_ERROR),
        (lambda: Convert.ToInt32("x"), FormatException, "The input string 'x' was not in a correct format."),
        (
            lambda: Convert.ToInt32("99999999999"),
            OverflowException,
            "Value was either too large or too small for an Int32.",
        ),
        (
            lambda: Convert.ToByte(256),
            OverflowException,
            "Value was either too large or too small for an unsigned byte.",
        ),
        (lambda: Convert.ToInt32("12", 3), ArgumentException, "Invalid Base. (Parameter 'fromBase')"),
        (
            lambda: Convert.ToBoolean("yes"),
            FormatException,
            "String 'yes' was not recognized as a valid Boolean.",
        ),
    ],
)
def test_convert_errors(call, exc, message) -> None:  # noqa: ANN001
    with pytest.raises(exc) as info:
        call()
    assert info.value.Message == message


@pytest.mark.parametrize(
    ("encoding", "text", "raw"),
    [
        (Encoding.UTF8, "héllo €", b"h\xc3\xa9llo \xe2\x82\xac"),
        (Encoding.ASCII, "héllo", b"h?llo"),
        (Encoding.Unicode, "hi", b"h\x00i\x00"),
        (Encoding.BigEndianUnicode, "hi", b"\x00h\x00i"),
        (Encoding.UTF32, "A", b"A\x00\x00\x00"),
        (Encoding.Latin1, "é", b"\xe9"),
    ],
)
def test_encoding_roundtrip(encoding: Encoding, text: str, raw: bytes) -> None:
    assert encoding.GetBytes(text) == raw
    if encoding is not Encoding.ASCII:
        assert encoding.GetString(raw) == text


def test_encoding_members() -> None:
    assert Encoding.UTF8.GetString(b"\xff") == "\ufffd"
    assert Encoding.ASCII.GetString(b"a\xffb") == "a?b"
    assert Encoding.UTF8.GetString(b"hello", 1, 3) == "ell"
    assert Encoding.UTF8.GetBytes([Char("o"), Char("k")]) == b"ok"
    assert Encoding.UTF8.GetByteCount("é") == 2
    assert Encoding.UTF8.WebName == "utf-8" and Encoding.Unicode.WebName == "utf-16"
    assert Encoding.GetEncoding("utf-8") is Encoding.UTF8
    assert Encoding.UTF8.GetPreamble() == b"\xef\xbb\xbf"
    with pytest.raises(ArgumentException):
        Encoding.GetEncoding("klingon")


def test_bitconverter() -> None:
    assert BitConverter.GetBytes(1) == b"\x01\x00\x00\x00"
    assert BitConverter.GetBytes(-1) == b"\xff\xff\xff\xff"
    assert BitConverter.GetBytes(True) == b"\x01"
    assert BitConverter.GetBytes(1.0) == b"\x00\x00\x00\x00\x00\x00\xf0?"
    assert BitConverter.ToInt32(b"\x01\x02\x03\x04", 0) == 0x04030201
    assert BitConverter.ToInt32(b"\x00\xff\xff\xff\xff", 1) == -1
    assert BitConverter.ToUInt32(b"\xff\xff\xff\xff") == 4294967295
    assert BitConverter.ToInt64(b"\x01" + b"\x00" * 7) == 1
    assert BitConverter.ToInt16(b"\xff\x7f") == 32767
    assert BitConverter.ToString(b"\x01\xab\xff") == "01-AB-FF"
    assert BitConverter.ToString(b"\x01\xab\xff", 1) == "AB-FF"
    assert BitConverter.ToString(b"") == ""
    assert BitConverter.ToDouble(BitConverter.GetBytes(2.5)) == 2.5
    assert BitConverter.IsLittleEndian
    with pytest.raises(ArgumentException):
        BitConverter.ToInt32(b"\x01\x02", 0)


def test_guid() -> None:
    g = Guid.Parse("12345678-9abc-def0-1234-56789abcdef0")
    assert g.ToString() == "12345678-9abc-def0-1234-56789abcdef0"
    assert g.ToString("N") == "123456789abcdef0123456789abcdef0"
    assert g.ToString("B") == "{12345678-9abc-def0-1234-56789abcdef0}"
    assert g.ToString("P") == "(12345678-9abc-def0-1234-56789abcdef0)"
    assert g.ToString("X") == "{0x12345678,0x9abc,0xdef0,{0x12,0x34,0x56,0x78,0x9a,0xbc,0xde,0xf0}}"
    assert g.ToByteArray() == bytes.fromhex("78563412bc9af0de123456789abcdef0")
    assert Guid(g.ToByteArray()) == g
    assert Guid.Parse("{12345678-9ABC-DEF0-1234-56789ABCDEF0}") == g
    assert Guid.Parse("123456789abcdef0123456789abcdef0") == g
    assert Guid.Parse(g.ToString("X")) == g
    assert Guid.TryParse("nope") == (False, Guid.Empty)
    assert Guid.Empty.ToString() == "00000000-0000-0000-0000-000000000000"
    a, b = Guid.NewGuid(), Guid.NewGuid()
    assert a != b and len(a.ToString()) == 36 and a.ToString()[14] == "4"
    with pytest.raises(FormatException) as info:
        Guid.Parse("xyz")
    assert info.value.Message == "Unrecognized Guid format."
    with pytest.raises(FormatException):
        g.ToString("Q")


def test_guid_from_uuid_and_new_guid_bits() -> None:
    # context.RequestId hands its uuid.UUID over as it is; NewGuid builds version-4 bits itself
    u = uuid.uuid4()
    assert Guid(u).ToString() == str(u) and Guid(u).ToByteArray() == u.bytes_le
    for _ in range(50):
        made = uuid.UUID(Guid.NewGuid().ToString())
        assert made.version == 4 and made.variant == uuid.RFC_4122
    ordered = sorted([Guid.NewGuid() for _ in range(20)], key=lambda x: x.ToString())
    assert all(a.CompareTo(b) < 0 for a, b in itertools.pairwise(ordered))  # CompareTo is text order


def test_ipaddress() -> None:
    ip = IPAddress.Parse("10.0.0.1")
    assert ip.ToString() == "10.0.0.1" and ip.AddressFamily == AddressFamily.InterNetwork
    assert ip.GetAddressBytes() == b"\n\x00\x00\x01"
    assert IPAddress.IsLoopback(IPAddress.Parse("127.0.0.1"))
    assert IPAddress.Parse("::1").AddressFamily == AddressFamily.InterNetworkV6
    assert IPAddress.TryParse("300.1.1.1") == (False, None)
    assert IPAddress.Parse("10.0.0.1").Equals(ip)
    with pytest.raises(FormatException):
        IPAddress.Parse("nope")


def test_convert_accepts_jvalues() -> None:
    from engine.dotnet.newtonsoft import JObject, JValue

    assert Convert.ToInt32(JValue("42")) == 42
    assert Convert.ToString(JValue(1.5)) == "1.5"
    assert Convert.ToBoolean(JObject.Parse('{"a": true}')["a"]) is True
    assert Convert.ToDouble(JValue(2)) == 2.0
    assert Convert.ChangeType(JValue("7"), "long") == 7
