"""Hashes, HMACs, AES, JWT and Basic credentials parsing."""

from __future__ import annotations

import base64
import json

import pytest

from engine.dotnet.crypto import (
    HMACMD5,
    HMACSHA1,
    HMACSHA256,
    HMACSHA512,
    MD5,
    SHA1,
    SHA256,
    SHA384,
    SHA512,
    Aes,
    CipherMode,
    Extensions,
    HashAlgorithm,
    PaddingMode,
    RandomNumberGenerator,
    decrypt,
    encrypt,
)
from engine.dotnet.datetimes import DateTimeKind
from engine.dotnet.errors import CryptographicException, NotSupportedException
from engine.dotnet.jwt import Extensions as JwtExtensions
from engine.dotnet.jwt import as_basic, as_jwt, try_parse_basic, try_parse_jwt
from engine.dotnet.systemconvert import Convert, Encoding

ABC = Encoding.UTF8.GetBytes("abc")
FOX = Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog")


@pytest.mark.parametrize(
    ("algorithm", "hex_digest"),
    [
        (MD5, "900150983cd24fb0d6963f7d28e17f72"),
        (SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            SHA384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            SHA512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ],
)
def test_hashes(algorithm: type[HashAlgorithm], hex_digest: str) -> None:
    assert algorithm.Create().ComputeHash(ABC).hex() == hex_digest
    assert algorithm.HashData(ABC).hex() == hex_digest
    assert algorithm().ComputeHash(b"xabcx", 1, 3).hex() == hex_digest


def test_hash_factory_and_properties() -> None:
    h = HashAlgorithm.Create("SHA256")
    assert isinstance(h, SHA256) and h.HashSize == 256
    digest = h.ComputeHash(ABC)
    assert h.Hash == digest
    with pytest.raises(NotSupportedException):
        HashAlgorithm.Create("SHA3-999")


@pytest.mark.parametrize(
    ("algorithm", "hex_mac"),
    [
        (HMACMD5, "80070713463e7749b90c2dc24911e275"),
        (HMACSHA1, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"),
        (HMACSHA256, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"),
        (
            HMACSHA512,
            "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a",
        ),
    ],
)
def test_hmac(algorithm: type, hex_mac: str) -> None:
    key = Encoding.UTF8.GetBytes("key")
    assert algorithm(key).ComputeHash(FOX).hex() == hex_mac
    assert algorithm.HashData(key, FOX).hex() == hex_mac
    keyed = algorithm()
    keyed.Key = key
    assert keyed.ComputeHash(FOX).hex() == hex_mac


def test_hmac_signature_in_base64() -> None:
    mac = HMACSHA256(Convert.FromBase64String("c2VjcmV0")).ComputeHash(Encoding.UTF8.GetBytes("GET\n/path"))
    assert (
        Convert.ToBase64String(mac)
        == base64.b64encode(__import__("hmac").new(b"secret", b"GET\n/path", "sha256").digest()).decode()
    )


def test_aes_known_vector() -> None:
    # NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block, no padding
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    aes = Aes.Create()
    aes.Key, aes.IV, aes.Padding = key, iv, PaddingMode.None_
    assert aes.CreateEncryptor().TransformFinalBlock(plain, 0, 16).hex() == "7649abac8119b246cee98e9b12e9197d"
    assert aes.EncryptCbc(plain, iv, PaddingMode.None_).hex() == "7649abac8119b246cee98e9b12e9197d"


def test_aes_pkcs7_roundtrip_and_extensions() -> None:
    key, iv = bytes(range(32)), bytes(range(16))
    secret = Encoding.UTF8.GetBytes("hello world")
    cipher = encrypt(secret, "Aes", key, iv)
    assert len(cipher) == 16
    assert decrypt(cipher, "Aes", key, iv) == secret
    assert Extensions.Decrypt(Extensions.Encrypt(secret, "Aes", key, iv), "Aes", key, iv) == secret
    aes = Aes.Create()
    assert decrypt(encrypt(secret, aes), aes) == secret
    aes.Mode = CipherMode.ECB
    assert (
        aes.CreateDecryptor().TransformFinalBlock(aes.CreateEncryptor().TransformFinalBlock(secret)) == secret
    )
    exact = encrypt(bytes(16), "Aes", key, iv)
    assert len(exact) == 32


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: decrypt(encrypt(b"x", "Aes", bytes(32), bytes(16)), "Aes", bytes([1]) * 32, bytes(16)),
            "Padding is invalid and cannot be removed.",
        ),
        (
            lambda: encrypt(b"x", "Aes", bytes(10), bytes(16)),
            "Specified key is not a valid size for this algorithm.",
        ),
        (
            lambda: encrypt(b"x", "Aes", bytes(16), bytes(8)),
            "Specified initialization vector (IV) does not match the block size for this algorithm.",
        ),
        (lambda: decrypt(b"short", "Aes", bytes(16), bytes(16)), "The input data is not a complete block."),
    ],
)
def test_crypto_errors(call, message: str) -> None:  # noqa: ANN001
    with pytest.raises(CryptographicException) as info:
        call()
    assert info.value.Message == message


def test_unsupported_symmetric_algorithm() -> None:
    with pytest.raises(NotSupportedException):
        encrypt(b"x", "TripleDES", bytes(24), bytes(8))


def test_random_number_generator() -> None:
    buf = bytearray(16)
    RandomNumberGenerator.Create().GetBytes(buf)
    assert len(buf) == 16 and any(buf)
    assert 0 <= RandomNumberGenerator.GetInt32(10) < 10


def _b64url(data: dict | str) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TOKEN = ".".join(
    [
        _b64url({"alg": "HS256", "typ": "JWT"}),
        _b64url(
            {
                "sub": "42",
                "iss": "https://issuer",
                "aud": ["a", "b"],
                "exp": 1700000000,
                "iat": 1690000000,
                "nbf": 1690000000,
                "jti": "id-1",
                "roles": ["admin", "user"],
                "name": "Bob",
                "n": 5,
                "ok": True,
                "obj": {"k": "v"},
            }
        ),
        "c2lnbmF0dXJl",
    ]
)


def test_jwt_parsing() -> None:
    jwt = as_jwt(TOKEN)
    assert jwt is not None
    assert jwt.Algorithm == "HS256" and jwt.Type == "JWT"
    assert jwt.Subject == "42" and jwt.Issuer == "https://issuer" and jwt.Id == "id-1"
    assert jwt.Audiences == ["a", "b"]
    assert jwt.ExpirationTime.ToString("o") == "2023-11-14T22:13:20.0000000Z"
    assert jwt.ExpirationTime.Kind == DateTimeKind.Utc
    assert jwt.IssuedAt.ToString("s") == "2023-07-22T04:26:40" and jwt.NotBefore is not None
    claims = jwt.Claims
    assert claims["roles"] == ["admin", "user"] and claims["name"] == ["Bob"]
    assert claims["n"] == ["5"] and claims["ok"] == ["true"] and claims["obj"] == ['{"k":"v"}']
    from engine.dotnet.collectionmembers import DictionaryMembers

    assert DictionaryMembers.GetValueOrDefault(claims, "roles", "") == "admin,user"
    assert DictionaryMembers.GetValueOrDefault(claims, "missing", "none") == "none"
    assert try_parse_jwt(TOKEN)[0] is True
    assert JwtExtensions.AsJwt(TOKEN).Subject == "42"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.sig",
        _b64url("not json") + "." + _b64url("x") + ".s",
        "Bearer " + TOKEN,
    ],
)
def test_invalid_jwts(text: str | None) -> None:
    assert as_jwt(text) is None
    assert try_parse_jwt(text) == (False, None)


def test_jwt_without_optional_claims() -> None:
    jwt = as_jwt(_b64url({"alg": "none"}) + "." + _b64url({"aud": "single"}) + ".")
    assert jwt is not None and jwt.Audiences == ["single"]
    assert jwt.ExpirationTime is None and jwt.Subject is None and jwt.Type is None


def test_basic_credentials() -> None:
    value = "Basic " + base64.b64encode(b"user:pa:ss").decode()
    creds = as_basic(value)
    assert creds.UserId == "user" and creds.Password == "pa:ss"
    assert as_basic(base64.b64encode(b"u:p").decode()).UserId == "u"
    assert try_parse_basic(value)[0] is True
    for bad in (
        None,
        "",
        "Basic",
        "Basic !!!",
        "Bearer " + base64.b64encode(b"u:p").decode(),
        "Basic " + base64.b64encode(b"nocolon").decode(),
    ):
        assert as_basic(bad) is None
        assert try_parse_basic(bad) == (False, None)
