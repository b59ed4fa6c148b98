"""``System.Security.Cryptography.RSA`` on the ``cryptography`` package.

``RSA.Create([bits])``, PEM/DER/XML key import and export, ``SignData``/``SignHash`` and
``VerifyData``/``VerifyHash`` with ``RSASignaturePadding.Pkcs1``/``Pss``, ``Encrypt``/``Decrypt``
with ``RSAEncryptionPadding``. ``out int bytesRead`` parameters come back as ``(None, bytesRead)``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .crypto import HashAlgorithmName, _data
from .errors import ArgumentNullException, CryptographicException

if TYPE_CHECKING:  # cryptography is imported lazily at run time (only expressions using RSA pay for it)
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
    from cryptography.hazmat.primitives.hashes import HashAlgorithm


class RSASignaturePadding:
    """``RSASignaturePadding.Pkcs1`` / ``RSASignaturePadding.Pss``."""

    dotnet_name = "System.Security.Cryptography.RSASignaturePadding"
    Pkcs1: ClassVar[RSASignaturePadding]  # set below the class
    Pss: ClassVar[RSASignaturePadding]

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def ToString(self) -> str:
        return self.mode


RSASignaturePadding.Pkcs1 = RSASignaturePadding("Pkcs1")
RSASignaturePadding.Pss = RSASignaturePadding("Pss")


class RSAEncryptionPadding:
    """``RSAEncryptionPadding.Pkcs1`` and the OAEP paddings."""

    dotnet_name = "System.Security.Cryptography.RSAEncryptionPadding"
    Pkcs1: ClassVar[RSAEncryptionPadding]  # set below the class
    OaepSHA1: ClassVar[RSAEncryptionPadding]
    OaepSHA256: ClassVar[RSAEncryptionPadding]
    OaepSHA384: ClassVar[RSAEncryptionPadding]
    OaepSHA512: ClassVar[RSAEncryptionPadding]

    def __init__(self, mode: str, hash_name: str | None = None) -> None:
        self.mode = mode
        self.hash_name = hash_name

    def ToString(self) -> str:
        return self.mode if self.hash_name is None else f"OAEP{self.hash_name}"


RSAEncryptionPadding.Pkcs1 = RSAEncryptionPadding("Pkcs1")
RSAEncryptionPadding.OaepSHA1 = RSAEncryptionPadding("Oaep", "SHA1")
RSAEncryptionPadding.OaepSHA256 = RSAEncryptionPadding("Oaep", "SHA256")
RSAEncryptionPadding.OaepSHA384 = RSAEncryptionPadding("Oaep", "SHA384")
RSAEncryptionPadding.OaepSHA512 = RSAEncryptionPadding("Oaep", "SHA512")


def _hash(name: Any) -> HashAlgorithm:
    from cryptography.hazmat.primitives import hashes

    key = name.Name if isinstance(name, HashAlgorithmName) else str(name)
    table: dict[str, Callable[[], hashes.HashAlgorithm]] = {
        "MD5": hashes.MD5,
        "SHA1": hashes.SHA1,
        "SHA256": hashes.SHA256,
        "SHA384": hashes.SHA384,
        "SHA512": hashes.SHA512,
    }
    if key.upper() not in table:
        raise CryptographicException(f"'{key}' is not a known hash algorithm.")
    return table[key.upper()]()


def _sig_padding(padding: Any, hash_alg: HashAlgorithm) -> AsymmetricPadding:
    from cryptography.hazmat.primitives.asymmetric import padding as p

    if isinstance(padding, RSASignaturePadding) and padding.mode == "Pss":
        return p.PSS(mgf=p.MGF1(hash_alg), salt_length=hash_alg.digest_size)
    return p.PKCS1v15()


def _enc_padding(padding: Any) -> AsymmetricPadding:
    from cryptography.hazmat.primitives.asymmetric import padding as p

    if isinstance(padding, RSAEncryptionPadding) and padding.mode == "Oaep":
        h = _hash(padding.hash_name)
        return p.OAEP(mgf=p.MGF1(h), algorithm=h, label=None)
    if isinstance(padding, bool):  # legacy Encrypt(data, fOAEP)
        return _enc_padding(RSAEncryptionPadding.OaepSHA1 if padding else RSAEncryptionPadding.Pkcs1)
    return p.PKCS1v15()


def _b64_int(text: str) -> int:
    return int.from_bytes(base64.b64decode(text.strip()), "big")


def _int_b64(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


class RSA:
    """An RSA key pair (or public key)."""

    dotnet_name = "System.Security.Cryptography.RSA"

    def __init__(self, bits: int = 2048) -> None:
        self._bits = bits
        self._private_key: RSAPrivateKey | None = None
        self._public_key: RSAPublicKey | None = None

    def _ensure_key(self) -> RSAPublicKey:
        """Like .NET, a key pair is generated only when a key is used before any import."""
        if self._public_key is None:
            from cryptography.hazmat.primitives.asymmetric import rsa

            self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=self._bits)
            self._public_key = self._private_key.public_key()
        return self._public_key

    @property
    def _public(self) -> RSAPublicKey:
        return self._ensure_key()

    @staticmethod
    def Create(bits: Any = None) -> RSA:
        if bits is not None and not isinstance(bits, int):
            raise CryptographicException("Only RSA.Create() and RSA.Create(keySizeInBits) are supported.")
        return RSA(bits or 2048)

    @property
    def KeySize(self) -> int:
        return self._public.key_size

    def _set(self, key: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if isinstance(key, rsa.RSAPrivateKey):
            self._private_key, self._public_key = key, key.public_key()
        elif isinstance(key, rsa.RSAPublicKey):
            self._private_key, self._public_key = None, key
        else:
            raise CryptographicException("The key is not an RSA key.")

    # -- import ---------------------------------------------------------------------------------
    def ImportFromPem(self, pem: Any) -> None:
        from cryptography.hazmat.primitives import serialization

        if pem is None:
            raise ArgumentNullException("input")
        text = "".join(str(c) for c in pem) if not isinstance(pem, str) else pem
        try:
            if "PRIVATE KEY" in text:
                self._set(serialization.load_pem_private_key(text.encode(), password=None))
            else:
                self._set(serialization.load_pem_public_key(text.encode()))
        except (ValueError, TypeError) as exc:
            raise CryptographicException("No supported key formats were found.") from exc

    def _import_der(self, data: Any, private: bool) -> tuple[None, int]:
        from cryptography.hazmat.primitives import serialization

        raw = _data(data)
        try:
            key = (
                serialization.load_der_private_key(raw, password=None)
                if private
                else serialization.load_der_public_key(raw)
            )
        except (ValueError, TypeError) as exc:
            raise CryptographicException("ASN1 corrupted data.") from exc
        self._set(key)
        return None, len(raw)

    def ImportPkcs8PrivateKey(self, data: Any) -> tuple[None, int]:
        return self._import_der(data, True)

    def ImportRSAPrivateKey(self, data: Any) -> tuple[None, int]:
        return self._import_der(data, True)

    def ImportSubjectPublicKeyInfo(self, data: Any) -> tuple[None, int]:
        return self._import_der(data, False)

    def ImportRSAPublicKey(self, data: Any) -> tuple[None, int]:
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        raw = _data(data)
        try:
            self._set(load_der_public_key(raw))
        except ValueError:
            from cryptography.hazmat.primitives.asymmetric import rsa

            numbers = _parse_pkcs1_public(raw)
            self._set(rsa.RSAPublicNumbers(numbers[1], numbers[0]).public_key())
        return None, len(raw)

    def FromXmlString(self, xml: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if xml is None:
            raise ArgumentNullException("xmlString")
        fields = dict(re.findall(r"<(\w+)>([^<]*)</\1>", xml))
        try:
            n, e = _b64_int(fields["Modulus"]), _b64_int(fields["Exponent"])
        except KeyError as exc:
            raise CryptographicException(
                "Input string does not contain a valid encoding of the 'RSA' 'Modulus' parameter."
            ) from exc
        public = rsa.RSAPublicNumbers(e, n)
        if "D" in fields:
            private = rsa.RSAPrivateNumbers(
                p=_b64_int(fields["P"]),
                q=_b64_int(fields["Q"]),
                d=_b64_int(fields["D"]),
                dmp1=_b64_int(fields["DP"]),
                dmq1=_b64_int(fields["DQ"]),
                iqmp=_b64_int(fields["InverseQ"]),
                public_numbers=public,
            )
            self._set(private.private_key())
        else:
            self._set(public.public_key())

    # -- export ---------------------------------------------------------------------------------
    def ToXmlString(self, include_private: bool) -> str:
        pub = self._public.public_numbers()
        parts = [f"<Modulus>{_int_b64(pub.n)}</Modulus>", f"<Exponent>{_int_b64(pub.e)}</Exponent>"]
        if include_private:
            priv = self._need_private().private_numbers()
            parts += [
                f"<P>{_int_b64(priv.p)}</P>",
                f"<Q>{_int_b64(priv.q)}</Q>",
                f"<DP>{_int_b64(priv.dmp1)}</DP>",
                f"<DQ>{_int_b64(priv.dmq1)}</DQ>",
                f"<InverseQ>{_int_b64(priv.iqmp)}</InverseQ>",
                f"<D>{_int_b64(priv.d)}</D>",
            ]
        return "<RSAKeyValue>" + "".join(parts) + "</RSAKeyValue>"

    def ExportSubjectPublicKeyInfo(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def ExportRSAPublicKey(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    def ExportPkcs8PrivateKey(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._need_private().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def ExportRSAPrivateKey(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._need_private().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def _need_private(self) -> RSAPrivateKey:
        self._ensure_key()
        if self._private_key is None:
            raise CryptographicException("The key does not contain a private key.")
        return self._private_key

    # -- operations -----------------------------------------------------------------------------
    def SignData(self, data: Any, name: Any, padding: Any = None) -> bytes:
        h = _hash(name)
        try:
            return self._need_private().sign(_data(data), _sig_padding(padding, h), h)
        except ValueError as exc:
            raise CryptographicException(str(exc)) from exc

    def SignHash(self, digest: Any, name: Any, padding: Any = None) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import utils

        h = _hash(name)
        try:
            return self._need_private().sign(_data(digest), _sig_padding(padding, h), utils.Prehashed(h))
        except ValueError as exc:
            raise CryptographicException(str(exc)) from exc

    def VerifyData(self, data: Any, signature: Any, name: Any, padding: Any = None) -> bool:
        from cryptography.exceptions import InvalidSignature

        h = _hash(name)
        try:
            self._public.verify(_data(signature), _data(data), _sig_padding(padding, h), h)
            return True
        except InvalidSignature:
            return False

    def VerifyHash(self, digest: Any, signature: Any, name: Any, padding: Any = None) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import utils

        h = _hash(name)
        try:
            self._public.verify(_data(signature), _data(digest), _sig_padding(padding, h), utils.Prehashed(h))
            return True
        except InvalidSignature:
            return False

    def Encrypt(self, data: Any, padding: Any) -> bytes:
        try:
            return self._public.encrypt(_data(data), _enc_padding(padding))
        except ValueError as exc:
            raise CryptographicException("Bad Length.") from exc

    def Decrypt(self, data: Any, padding: Any) -> bytes:
        try:
            return self._need_private().decrypt(_data(data), _enc_padding(padding))
        except ValueError as exc:
            raise CryptographicException("The parameter is incorrect.") from exc

    def Dispose(self) -> None:
        return None


def _parse_pkcs1_public(raw: bytes) -> tuple[int, int]:
    """Minimal DER reader for ``RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }``."""

    def read(pos: int) -> tuple[int, int, int]:
        tag = raw[pos]
        length = raw[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(raw[pos : pos + count], "big")
            pos += count
        return tag, pos, length

    try:
        tag, pos, _ = read(0)
        _, pos, n_len = read(pos)
        n = int.from_bytes(raw[pos : pos + n_len], "big")
        pos += n_len
        _, pos, e_len = read(pos)
        e = int.from_bytes(raw[pos : pos + e_len], "big")
    except IndexError as exc:
        raise CryptographicException("ASN1 corrupted data.") from exc
    if tag != 0x30:
        raise CryptographicException("ASN1 corrupted data.")
    return n, e


__all__ = ["RSA", "RSAEncryptionPadding", "RSASignaturePadding"]
