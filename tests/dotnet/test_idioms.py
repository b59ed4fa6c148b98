"""Whole APIM idioms composed from the runtime library, checked against independent computations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse

from engine.dotnet.crypto import HMACSHA256
from engine.dotnet.datetimes import DateTime, DateTimeKind, DateTimeOffset
from engine.dotnet.jsonconvert import JsonConvert
from engine.dotnet.jwt import as_jwt
from engine.dotnet.newtonsoft import JObject, JProperty
from engine.dotnet.strings import StringMembers as S
from engine.dotnet.systemconvert import Convert, Encoding
from engine.dotnet.uri import Uri, WebUtility


def _b64url(raw: bytes) -> str:
    text = Convert.ToBase64String(raw)
    return S.Replace(S.Replace(S.Replace(text, "/", "_"), "+", "-"), "=", "")


def test_hmac_signed_jwt_idiom() -> None:
    header = _b64url(Encoding.UTF8.GetBytes(JsonConvert.SerializeObject({"typ": "JWT", "alg": "HS256"})))
    assert header == "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"
    exp = DateTimeOffset(DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddMinutes(10)).ToUnixTimeSeconds()
    payload = _b64url(
        Encoding.UTF8.GetBytes(JsonConvert.SerializeObject({"exp": exp, "username": "john_doe"}))
    )
    signature = _b64url(
        HMACSHA256(Encoding.UTF8.GetBytes("secret")).ComputeHash(
            Encoding.UTF8.GetBytes(f"{header}.{payload}")
        )
    )
    token = f"{header}.{payload}.{signature}"
    expected_sig = base64.urlsafe_b64encode(
        hmac.new(b"secret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
    )
    assert signature == expected_sig.decode().rstrip("=")
    parsed = as_jwt(token)
    assert parsed.Algorithm == "HS256" and parsed.Claims["username"] == ["john_doe"]
    assert parsed.ExpirationTime.ToString("o") == "2024-01-02T03:14:05.0000000Z"


def test_storage_sas_signature_idiom() -> None:
    key = Convert.ToBase64String(b"storage-account-key")
    expiry = DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ")
    string_to_sign = "\n".join(["r", "", expiry, "/blob/account/container/file.txt", "", "2020-12-06"])
    mac = HMACSHA256(Convert.FromBase64String(key)).ComputeHash(Encoding.UTF8.GetBytes(string_to_sign))
    sig = WebUtility.UrlEncode(Convert.ToBase64String(mac))
    expected = hmac.new(b"storage-account-key", string_to_sign.encode(), hashlib.sha256).digest()
    assert sig == urllib.parse.quote_plus(base64.b64encode(expected).decode(), safe="-_.!*()")
    assert expiry == "2024-01-02T03:04:05Z"


def test_body_rewrite_idiom() -> None:
    body = JObject.Parse('{"order": {"id": "42", "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}}')
    total = sum(line.ValueOf("int", "qty") for line in body["order"]["lines"])
    result = JObject(
        JProperty("id", body.SelectToken("order.id")),
        JProperty("items", total),
        JProperty("skus", [line["sku"] for line in body["order"]["lines"]]),
    )
    assert json.loads(result.ToString()) == {"id": "42", "items": 3, "skus": ["a", "b"]}
    assert result.ToString(0) == '{"id":"42","items":3,"skus":["a","b"]}'
    assert body["order"]["id"].Parent.Name == "id"  # the original was cloned, not moved


def test_url_idiom() -> None:
    original = Uri("https://api.contoso.com/v1/orders/42?expand=lines&x=a%20b")
    forwarded = f"https://backend.internal{original.AbsolutePath}{original.Query}"
    assert forwarded == "https://backend.internal/v1/orders/42?expand=lines&x=a%20b"
    assert Uri.UnescapeDataString(original.Query) == "?expand=lines&x=a b"
    assert S.Split(S.TrimStart(original.Query, "?"), "&") == ["expand=lines", "x=a%20b"]
