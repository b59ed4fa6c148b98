from __future__ import annotations

import base64

from policies.authentication_basic import basic_authorization
from tests.policies.support import build, codes, context, run


def test_header_value() -> None:
    assert basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert base64.b64decode(basic_authorization("üser", "pä:ss")[6:]).decode() == "üser:pä:ss"


def test_schema() -> None:
    assert codes('<authentication-basic username="u" />') == ["policy-missing-attribute"]
    assert "policy-not-allowed-in-section" in codes('<authentication-basic username="u" password="p" />', "outbound")


async def test_replaces_caller_authorization() -> None:
    ctx = context(headers={"Authorization": "Bearer caller-token"})
    await run(build('<authentication-basic username="svc" password="@(&quot;s3&quot; + &quot;cret&quot;)" />'), ctx)
    assert ctx.request.headers.get_list("Authorization") == [basic_authorization("svc", "s3cret")]


def test_end_to_end(api_gateway, backend) -> None:
    policy = '<policies><inbound><base /><authentication-basic username="svc" password="pw" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'
    with api_gateway(policy) as gw:
        echoed = gw.request("GET", "/echo/x", headers={"Authorization": "Bearer x"}).json()
    assert echoed["headers"]["authorization"] == basic_authorization("svc", "pw")
