"""``System.Security.Cryptography`` subset: hashes, HMACs, AES and random bytes.

``MD5``/``SHA1``/``SHA256``/``SHA384``/``SHA512`` (``Create()``, ``ComputeHash``, ``HashData``),
``HMACMD5``/``HMACSHA1``/``HMACSHA256``/``HMACSHA384``/``HMACSHA512`` (``new X(key)``), ``Aes``
(CBC/ECB with PKCS7/Zeros/None padding), the APIM ``Encrypt``/``Decrypt`` byte-array extensions
(:func:`encrypt`, :func:`decrypt`) and ``RandomNumberGenerator``/``RNGCryptoServiceProvider``.
RSA lives in :mod:`engine.dotnet.rsa`; X.509 is not implemented.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from typing import Any

from .errors import ArgumentNullException, CryptographicException, NotSupportedException


def _data(value: Any, offset: int | None = None, count: int | None = None) -> bytes:
    if value is None:
        raise ArgumentNullException("buffer")
    if isinstance(value, str):
        raise CryptographicException("ComputeHash expects a byte array; use Encoding.UTF8.GetBytes(text).")
    raw = bytes(value) if isinstance(value, bytes | bytearray) else bytes(int(b) for b in value)
    if offset is not None:
        raw = raw[offset : offset + (count if count is not None else len(raw) - offset)]
    return raw


class HashAlgorithmName:
    """``HashAlgorithmName`` (``HashAlgorithmName.SHA256.Name == "SHA256"``)."""

    dotnet_name = "System.Security.Cryptography.HashAlgorithmName"

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def Name(self) -> str:
        return self._name

    def ToString(self) -> str:
        return self._name


for _n in ("MD5", "SHA1", "SHA256", "SHA384", "SHA512"):
    setattr(HashAlgorithmName, _n, HashAlgorithmName(_n))


class HashAlgorithm:
    """Base of the hash algorithms: ``ComputeHash``, ``Hash``, ``HashSize``, ``Dispose``."""

    dotnet_name = "System.Security.Cryptography.HashAlgorithm"
    _algorithm = "sha256"

    def __init__(self) -> None:
        self._hash: bytes | None = None
        self._pending = b""

    @classmethod
    def Create(cls, name: Any = None) -> HashAlgorithm:
        if name is not None and cls is HashAlgorithm:
            target = _HASHES.get(
                str(name).upper().replace("-", "").replace("SYSTEM.SECURITY.CRYPTOGRAPHY.", "")
            )
            if target is None:
                raise NotSupportedException(f"Hash algorithm '{name}' is not supported.")
            return target()
        return cls()

    def _digest(self, data: bytes) -> bytes:
        return hashlib.new(self._algorithm, data).digest()

    def ComputeHash(self, data: Any, offset: int | None = None, count: int | None = None) -> bytes:
        self._hash = self._digest(_data(data, offset, count))
        return self._hash

    def TransformBlock(
        self, data: Any, offset: int, count: int, output: Any = None, output_offset: int = 0
    ) -> int:
        self._pending += _data(data, offset, count)
        return count

    def TransformFinalBlock(self, data: Any, offset: int, count: int) -> bytes:
        self._hash = self._digest(self._pending + _data(data, offset, count))
        self._pending = b""
        return _data(data, offset, count)

    @property
    def Hash(self) -> bytes | None:
        return self._hash

    @property
    def HashSize(self) -> int:
        return hashlib.new(self._algorithm).digest_size * 8

    def Dispose(self) -> None:
        return None

    def Clear(self) -> None:
        return None

    def Initialize(self) -> None:
        self._pending = b""

    @classmethod
    def HashData(cls, data: Any) -> bytes:
        return cls()._digest(_data(data))


class MD5(HashAlgorithm):
    dotnet_name = "System.Security.Cryptography.MD5"
    _algorithm = "md5"


class SHA1(HashAlgorithm):
    dotnet_name = "System.Security.Cryptography.SHA1"
    _algorithm = "sha1"


class SHA256(HashAlgorithm):
    dotnet_name = "System.Security.Cryptography.SHA256"
    _algorithm = "sha256"


class SHA384(HashAlgorithm):
    dotnet_name = "System.Security.Cryptography.SHA384"
    _algorithm = "sha384"


class SHA512(HashAlgorithm):
    dotnet_name = "System.Security.Cryptography.SHA512"
    _algorithm = "sha512"


SHA1Managed = SHA1
SHA256Managed = SHA256
SHA384Managed = SHA384
SHA512Managed = SHA512

_HASHES: dict[str, type[HashAlgorithm]] = {
    "MD5": MD5,
    "SHA1": SHA1,
    "SHA256": SHA256,
    "SHA384": SHA384,
    "SHA512": SHA512,
}


class KeyedHashAlgorithm(HashAlgorithm):
    """An HMAC: ``new HMACSHA256(key)``; ``Key`` is settable; a missing key is 64 random bytes."""

    dotnet_name = "System.Security.Cryptography.HMAC"

    def __init__(self, key: Any = None) -> None:
        super().__init__()
        self._key = (
            _data(key)
            if key is not None
            else os.urandom(64 if self._algorithm in ("md5", "sha1", "sha256") else 128)
        )

    @property
    def Key(self) -> bytes:
        return self._key

    @Key.setter
    def Key(self, value: Any) -> None:
        self._key = _data(value)

    def _digest(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, self._algorithm).digest()

    @classmethod
    def HashData(cls, key: Any, data: Any) -> bytes:  # type: ignore[override]  # .NET's HMAC.HashData(key, data) hides the hash's HashData(data)
        return hmac.new(_data(key), _data(data), cls._algorithm).digest()


HMAC = KeyedHashAlgorithm


class HMACMD5(KeyedHashAlgorithm):
    dotnet_name = "System.Security.Cryptography.HMACMD5"
    _algorithm = "md5"


class HMACSHA1(KeyedHashAlgorithm):
    dotnet_name = "System.Security.Cryptography.HMACSHA1"
    _algorithm = "sha1"


class HMACSHA256(KeyedHashAlgorithm):
    dotnet_name = "System.Security.Cryptography.HMACSHA256"
    _algorithm = "sha256"


class HMACSHA384(KeyedHashAlgorithm):
    dotnet_name = "System.Security.Cryptography.HMACSHA384"
    _algorithm = "sha384"


class HMACSHA512(KeyedHashAlgorithm):
    dotnet_name = "System.Security.Cryptography.HMACSHA512"
    _algorithm = "sha512"


# ---------------------------------------------------------------------------------------------
# symmetric encryption
# ---------------------------------------------------------------------------------------------


class CipherMode(enum.IntEnum):
    """``CipherMode``."""

    CBC = 1
    ECB = 2
    OFB = 3
    CFB = 4
    CTS = 5


class PaddingMode(enum.IntEnum):
    """``PaddingMode``."""

    None_ = 1
    PKCS7 = 2
    Zeros = 3
    ANSIX923 = 4
    ISO10126 = 5


def _pad(data: bytes, mode: PaddingMode, block: int = 16) -> bytes:
    if mode == PaddingMode.None_:
        if len(data) % block:
            raise CryptographicException("The input data is not a complete block.")
        return data
    n = block - len(data) % block
    if mode == PaddingMode.Zeros:
        return data + b"\0" * (n % block)
    if mode == PaddingMode.ANSIX923:
        return data + b"\0" * (n - 1) + bytes([n])
    if mode == PaddingMode.ISO10126:
        return data + os.urandom(n - 1) + bytes([n])
    return data + bytes([n]) * n


def _unpad(data: bytes, mode: PaddingMode, block: int = 16) -> bytes:
    if mode in (PaddingMode.None_, PaddingMode.Zeros):
        return data
    n = data[-1] if data else 0
    if (
        not 1 <= n <= block
        or n > len(data)
        or (mode == PaddingMode.PKCS7 and data[-n:] != bytes([n]) * n)
        or (mode == PaddingMode.ANSIX923 and data[-n:-1] != b"\0" * (n - 1))
    ):
        raise CryptographicException("Padding is invalid and cannot be removed.")
    return data[:-n]


def _checked_key(key: bytes) -> bytes:
    if len(key) not in (16, 24, 32):
        raise CryptographicException("Specified key is not a valid size for this algorithm.")
    return key


def _checked_iv(iv: bytes | None) -> bytes:
    if iv is None or len(iv) != 16:
        raise CryptographicException(
            "Specified initialization vector (IV) does not match the block size for this algorithm."
        )
    return iv


def _aes(key: bytes, iv: bytes | None, mode: CipherMode, data: bytes, encrypting: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _checked_key(key)
    if mode == CipherMode.CBC:
        cipher_mode: Any = modes.CBC(_checked_iv(iv))
    elif mode == CipherMode.ECB:
        cipher_mode = modes.ECB()
    elif mode == CipherMode.CFB:
        cipher_mode = modes.CFB8(_checked_iv(iv))
    else:
        raise CryptographicException("Specified cipher mode is not valid for this algorithm.")
    if len(data) % 16 and mode != CipherMode.CFB:
        raise CryptographicException("The input data is not a complete block.")
    cipher = Cipher(algorithms.AES(key), cipher_mode)
    ctx = cipher.encryptor() if encrypting else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


class CryptoTransform:
    """``ICryptoTransform`` from ``CreateEncryptor``/``CreateDecryptor``."""

    dotnet_name = "System.Security.Cryptography.ICryptoTransform"

    def __init__(self, algorithm: SymmetricAlgorithm, key: bytes, iv: bytes | None, encrypting: bool) -> None:
        self._alg = algorithm
        self._key = key
        self._iv = iv
        self._encrypting = encrypting

    def TransformFinalBlock(self, data: Any, offset: int = 0, count: int | None = None) -> bytes:
        raw = _data(data, offset, count)
        mode, padding = self._alg.Mode, self._alg.Padding
        if self._encrypting:
            padded = _pad(raw, padding) if mode != CipherMode.CFB else raw
            return _aes(self._key, self._iv, mode, padded, True)
        plain = _aes(self._key, self._iv, mode, raw, False)
        return _unpad(plain, padding) if mode != CipherMode.CFB else plain

    @property
    def InputBlockSize(self) -> int:
        return 16

    @property
    def OutputBlockSize(self) -> int:
        return 16

    def Dispose(self) -> None:
        return None


class SymmetricAlgorithm:
    """``SymmetricAlgorithm``/``Aes``: ``Key``, ``IV``, ``Mode``, ``Padding``, ``CreateEncryptor``."""

    dotnet_name = "System.Security.Cryptography.Aes"

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._iv = os.urandom(16)
        self._mode = CipherMode.CBC
        self._padding = PaddingMode.PKCS7

    @classmethod
    def Create(cls, name: Any = None) -> SymmetricAlgorithm:
        if name is not None:
            normalized = str(name).rsplit(".", 1)[-1].lower()
            if normalized not in (
                "aes",
                "aesmanaged",
                "aescryptoserviceprovider",
                "aescng",
                "rijndael",
                "rijndaelmanaged",
            ):
                raise NotSupportedException(
                    f"Symmetric algorithm '{name}' is not supported; only AES is available."
                )
        return cls()

    @property
    def Key(self) -> bytes:
        return self._key

    @Key.setter
    def Key(self, value: Any) -> None:
        self._key = _checked_key(_data(value))

    @property
    def IV(self) -> bytes:
        return self._iv

    @IV.setter
    def IV(self, value: Any) -> None:
        self._iv = _checked_iv(_data(value))

    @property
    def Mode(self) -> CipherMode:
        return self._mode

    @Mode.setter
    def Mode(self, value: Any) -> None:
        if value not in (CipherMode.CBC, CipherMode.ECB, CipherMode.CFB):
            raise CryptographicException("Specified cipher mode is not valid for this algorithm.")
        self._mode = CipherMode(int(value))

    @property
    def Padding(self) -> PaddingMode:
        return self._padding

    @Padding.setter
    def Padding(self, value: Any) -> None:
        self._padding = PaddingMode(int(value))

    @property
    def KeySize(self) -> int:
        return len(self._key) * 8

    @KeySize.setter
    def KeySize(self, bits: int) -> None:
        if bits not in (128, 192, 256):
            raise CryptographicException("Specified key is not a valid size for this algorithm.")
        self._key = os.urandom(bits // 8)

    @property
    def BlockSize(self) -> int:
        return 128

    def GenerateKey(self) -> None:
        self._key = os.urandom(len(self._key))

    def GenerateIV(self) -> None:
        self._iv = os.urandom(16)

    def CreateEncryptor(self, key: Any = None, iv: Any = None) -> CryptoTransform:
        return self._transform(key, iv, True)

    def CreateDecryptor(self, key: Any = None, iv: Any = None) -> CryptoTransform:
        return self._transform(key, iv, False)

    def _transform(self, key: Any, iv: Any, encrypting: bool) -> CryptoTransform:
        """A transform with ``key``/``iv`` (this algorithm's own when ``None``)."""
        return CryptoTransform(
            self,
            _data(key) if key is not None else self._key,
            _data(iv) if iv is not None else self._iv,
            encrypting,
        )

    def EncryptCbc(self, data: Any, iv: Any, padding: PaddingMode = PaddingMode.PKCS7) -> bytes:
        return _aes(self._key, _data(iv), CipherMode.CBC, _pad(_data(data), padding), True)

    def DecryptCbc(self, data: Any, iv: Any, padding: PaddingMode = PaddingMode.PKCS7) -> bytes:
        return _unpad(_aes(self._key, _data(iv), CipherMode.CBC, _data(data), False), padding)

    def EncryptEcb(self, data: Any, padding: PaddingMode) -> bytes:
        return _aes(self._key, None, CipherMode.ECB, _pad(_data(data), padding), True)

    def DecryptEcb(self, data: Any, padding: PaddingMode) -> bytes:
        return _unpad(_aes(self._key, None, CipherMode.ECB, _data(data), False), padding)

    def Dispose(self) -> None:
        return None

    def Clear(self) -> None:
        return None


Aes = SymmetricAlgorithm
AesManaged = SymmetricAlgorithm
Rijndael = SymmetricAlgorithm
RijndaelManaged = SymmetricAlgorithm


def _transform_for(alg: Any, key: Any, iv: Any, encrypting: bool) -> CryptoTransform:
    if isinstance(alg, SymmetricAlgorithm):
        algorithm = alg
    else:
        if alg is None:
            raise ArgumentNullException("alg")
        algorithm = SymmetricAlgorithm.Create(alg)
    return algorithm._transform(key, iv, encrypting)


def encrypt(data: Any, alg: Any, key: Any = None, iv: Any = None) -> bytes:
    """APIM ``byte[] Encrypt(this byte[] input, string alg | SymmetricAlgorithm, [byte[] key, byte[] iv])``."""
    return _transform_for(alg, key, iv, True).TransformFinalBlock(_data(data))


def decrypt(data: Any, alg: Any, key: Any = None, iv: Any = None) -> bytes:
    """APIM ``byte[] Decrypt(this byte[] input, string alg | SymmetricAlgorithm, [byte[] key, byte[] iv])``."""
    return _transform_for(alg, key, iv, False).TransformFinalBlock(_data(data))


class RandomNumberGenerator:
    """``RandomNumberGenerator``/``RNGCryptoServiceProvider`` backed by ``os.urandom``."""

    dotnet_name = "System.Security.Cryptography.RandomNumberGenerator"

    @staticmethod
    def Create() -> RandomNumberGenerator:
        return RandomNumberGenerator()

    def GetBytes(self, buffer: Any) -> None:
        if buffer is None:
            raise ArgumentNullException("data")
        buffer[:] = os.urandom(len(buffer))

    def GetNonZeroBytes(self, buffer: Any) -> None:
        buffer[:] = bytes((b % 255) + 1 for b in os.urandom(len(buffer)))

    @staticmethod
    def GetInt32(a: int, b: int | None = None) -> int:
        lo, hi = (0, a) if b is None else (a, b)
        return lo + int.from_bytes(os.urandom(8), "little") % (hi - lo)

    @staticmethod
    def Fill(buffer: Any) -> None:
        buffer[:] = os.urandom(len(buffer))

    def Dispose(self) -> None:
        return None


RNGCryptoServiceProvider = RandomNumberGenerator


class Extensions:
    """APIM's byte-array extension methods (receiver first): ``Encrypt`` and ``Decrypt``."""

    Encrypt = staticmethod(encrypt)
    Decrypt = staticmethod(decrypt)


def random_bytes(count: int) -> bytes:
    """``RandomNumberGenerator.GetBytes(int count)`` (the static overload)."""
    return os.urandom(count)


__all__ = [
    "HMAC",
    "HMACMD5",
    "HMACSHA1",
    "HMACSHA256",
    "HMACSHA384",
    "HMACSHA512",
    "MD5",
    "SHA1",
    "SHA256",
    "SHA384",
    "SHA512",
    "Aes",
    "CipherMode",
    "Extensions",
    "HashAlgorithm",
    "HashAlgorithmName",
    "KeyedHashAlgorithm",
    "PaddingMode",
    "RNGCryptoServiceProvider",
    "RandomNumberGenerator",
    "SymmetricAlgorithm",
    "decrypt",
    "encrypt",
    "random_bytes",
]
