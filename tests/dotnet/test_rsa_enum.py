"""RSA on the cryptography package, and System.Enum statics."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa as crsa

from engine.dotnet.crypto import HashAlgorithmName
from engine.dotnet.datetimes import DayOfWeek
from engine.dotnet.enums import Enum
from engine.dotnet.errors import ArgumentException, CryptographicException
from engine.dotnet.newtonsoft import Formatting, JTokenType
from engine.dotnet.regexengine import RegexOptions
from engine.dotnet.rsa import RSA, RSAEncryptionPadding, RSASignaturePadding
from engine.dotnet.strings import StringComparison

KEY = crsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _signer() -> RSA:
    r = RSA.Create()
    r.ImportFromPem(PRIVATE_PEM)
    return r


@pytest.mark.parametrize("padding", [RSASignaturePadding.Pkcs1, RSASignaturePadding.Pss])
@pytest.mark.parametrize("name", [HashAlgorithmName.SHA256, HashAlgorithmName.SHA512])
def test_sign_and_verify(padding: RSASignaturePadding, name: HashAlgorithmName) -> None:
    signature = _signer().SignData(b"payload", name, padding)
    verifier = RSA.Create()
    verifier.ImportFromPem(PUBLIC_PEM)
    assert verifier.VerifyData(b"payload", signature, name, padding)
    assert not verifier.VerifyData(b"tampered", signature, name, padding)
    with pytest.raises(CryptographicException):
        verifier.SignData(b"payload", name, padding)
    small = RSA.Create(1024)
    if padding is RSASignaturePadding.Pss and name is HashAlgorithmName.SHA512:
        with pytest.raises(CryptographicException):
            small.SignData(b"payload", name, padding)


def test_pkcs1_signature_is_deterministic_and_matches_cryptography() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    expected = KEY.sign(b"abc", padding.PKCS1v15(), hashes.SHA256())
    assert _signer().SignData(b"abc", HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) == expected


def test_key_formats_and_encryption() -> None:
    signer = _signer()
    assert signer.KeySize == 2048
    for importer, data in (
        ("ImportSubjectPublicKeyInfo", signer.ExportSubjectPublicKeyInfo()),
        ("ImportRSAPublicKey", signer.ExportRSAPublicKey()),
    ):
        other = RSA.Create()
        assert getattr(other, importer)(data) == (None, len(data))
        ciphertext = other.Encrypt(b"secret", RSAEncryptionPadding.OaepSHA256)
        assert signer.Decrypt(ciphertext, RSAEncryptionPadding.OaepSHA256) == b"secret"
    xml_public = RSA.Create()
    xml_public.FromXmlString(signer.ToXmlString(False))
    assert (
        signer.Decrypt(xml_public.Encrypt(b"x", RSAEncryptionPadding.Pkcs1), RSAEncryptionPadding.Pkcs1)
        == b"x"
    )
    xml_private = RSA.Create()
    xml_private.FromXmlString(signer.ToXmlString(True))
    assert xml_private.ExportPkcs8PrivateKey() == signer.ExportPkcs8PrivateKey()
    again = RSA.Create()
    again.ImportPkcs8PrivateKey(signer.ExportPkcs8PrivateKey())
    assert again.ExportRSAPrivateKey() == signer.ExportRSAPrivateKey()
    with pytest.raises(CryptographicException):
        RSA.Create().ImportFromPem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")
    with pytest.raises(CryptographicException):
        signer.Decrypt(b"\x00" * 256, RSAEncryptionPadding.OaepSHA256)


def test_enum_statics() -> None:
    assert Enum.Parse("StringComparison", "OrdinalIgnoreCase") == StringComparison.OrdinalIgnoreCase
    assert Enum.Parse(StringComparison, "ordinal", True) == StringComparison.Ordinal
    assert (
        Enum.Parse("RegexOptions", "IgnoreCase, Multiline")
        == RegexOptions.IgnoreCase | RegexOptions.Multiline
    )
    assert Enum.Parse("DayOfWeek", "3") == DayOfWeek.Wednesday
    assert Enum.TryParse("JTokenType", "Nope") == (False, None)
    assert Enum.TryParse("JTokenType", "Array") == (True, JTokenType.Array)
    assert Enum.GetName("JTokenType", 1) == "Object"
    assert Enum.GetNames("Formatting") == ["None", "Indented"]
    assert Enum.GetValues(Formatting) == [Formatting.None_, Formatting.Indented]
    assert Enum.IsDefined("DayOfWeek", "Monday") and not Enum.IsDefined("DayOfWeek", 9)
    assert Enum.ToString(Formatting.None_) == "None"
    with pytest.raises(ArgumentException) as info:
        Enum.Parse("DayOfWeek", "Funday")
    assert info.value.Message == "Requested value 'Funday' was not found."
    with pytest.raises(ArgumentException):
        Enum.Parse("JObject", "x")
