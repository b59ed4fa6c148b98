"""Regenerate tests/oracle/x509.jsonl: certificates made here, read by Mono's X509Certificate2.

    python scripts/oracle/x509.py      # needs mono and mcs

Each row holds a certificate (DER, base64) and what C# printed for its members. Where Mono is
known not to print what .NET prints, the row carries the .NET value under "dotnet" with the
reason (from .NET's X500NameEncoder: inner quotes doubled, several values of one relative name
joined with " + ").
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OUT = Path(__file__).resolve().parents[2] / "tests" / "oracle" / "x509.jsonl"
MEMBERS = ["Subject", "Issuer", "SubjectName.Name", "Thumbprint", "SerialNumber", "NotBefore.ToString(\"o\")",
           "NotAfter.ToString(\"o\")", "Version", "GetNameInfo(X509NameType.SimpleName, false)",
           "GetNameInfo(X509NameType.DnsName, false)", "GetNameInfo(X509NameType.EmailName, false)",
           "SubjectName.Decode(X500DistinguishedNameFlags.UseSemicolons)", "GetSerialNumberString()",
           "GetCertHashString()", "GetPublicKeyString()", "GetKeyAlgorithm()", "GetFormat()", "HasPrivateKey"]
A = x509.NameAttribute
NAMES = {
    "ordinary": [A(NameOID.COUNTRY_NAME, "US"), A(NameOID.STATE_OR_PROVINCE_NAME, "WA"), A(NameOID.LOCALITY_NAME, "Redmond"),
                 A(NameOID.ORGANIZATION_NAME, "Contoso, Inc."), A(NameOID.ORGANIZATIONAL_UNIT_NAME, "R&D"),
                 A(NameOID.COMMON_NAME, "api.contoso.com")],
    "named attributes": [A(NameOID.EMAIL_ADDRESS, "a@b.c"), A(NameOID.DOMAIN_COMPONENT, "com"), A(NameOID.SERIAL_NUMBER, "42"),
                         A(NameOID.GIVEN_NAME, "Jo"), A(NameOID.SURNAME, "Doe"), A(NameOID.TITLE, "Dr"),
                         A(NameOID.STREET_ADDRESS, "1 Main"), A(NameOID.INITIALS, "JD"), A(NameOID.DN_QUALIFIER, "q"),
                         A(NameOID.USER_ID, "uid1"), A(NameOID.COMMON_NAME, "people")],
    "unnamed attributes": [A(x509.ObjectIdentifier("1.2.3.4"), "odd"), A(NameOID.POSTAL_CODE, "98052"),
                           A(NameOID.BUSINESS_CATEGORY, "biz"), A(NameOID.COMMON_NAME, "oids")],
    "quoting": [A(NameOID.ORGANIZATION_NAME, " lead;semi+plus=eq<>"), A(NameOID.ORGANIZATIONAL_UNIT_NAME, "trail "),
                A(NameOID.LOCALITY_NAME, "#hash"), A(NameOID.COMMON_NAME, "a\\b")],
    "unicode": [A(NameOID.COMMON_NAME, "ünïcödé ✓")],
    "inner quotes": [A(NameOID.COMMON_NAME, 'say "hi"')],
}
MULTI = x509.Name([x509.RelativeDistinguishedName([A(NameOID.COMMON_NAME, "multi"), A(NameOID.ORGANIZATIONAL_UNIT_NAME, "x")])])
DOTNET = {  # rows where Mono's output is not .NET's: (case, member) -> (.NET value, reason)
    ("inner quotes", "Subject"): ('CN="say ""hi"""', "Mono drops the doubled inner quotes; .NET's X500NameEncoder doubles them"),
    ("inner quotes", "SubjectName.Name"): ('CN="say ""hi"""', "as Subject"),
    ("inner quotes", "SubjectName.Decode(X500DistinguishedNameFlags.UseSemicolons)"): ('CN="say ""hi"""', "as Subject"),
    ("quoting", "Subject"): ('CN=a\\b, L="#hash", OU="trail ", O=" lead;semi+plus=eq<>"',
                             "Mono leaves a value with '#' unquoted; .NET's X500NameEncoder quotes it"),
    ("quoting", "SubjectName.Name"): ('CN=a\\b, L="#hash", OU="trail ", O=" lead;semi+plus=eq<>"', "as Subject"),
    ("quoting", "SubjectName.Decode(X500DistinguishedNameFlags.UseSemicolons)"): (
        'O=" lead;semi+plus=eq<>"; OU="trail "; L="#hash"; CN=a\\b', "as Subject"),
    ("multi-valued", "Subject"): ("OU=x + CN=multi", "Mono splits a multi-valued RDN with ', '; .NET joins its "
                                 "values with ' + ', in their encoded (DER SET) order"),
    ("multi-valued", "SubjectName.Name"): ("OU=x + CN=multi", "as Subject"),
    ("multi-valued", "SubjectName.Decode(X500DistinguishedNameFlags.UseSemicolons)"): ("OU=x + CN=multi", "as Subject"),
}
PROGRAM = """using System; using System.IO; using System.Security.Cryptography.X509Certificates;
class P { static void Main(string[] a) { foreach (var f in a) { var c = new X509Certificate2(File.ReadAllBytes(f));
%s } } }"""


def certificates() -> list[tuple[str, bytes]]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name(NAMES["ordinary"])
    made = []
    cases = [(case, x509.Name(attributes)) for case, attributes in NAMES.items()] + [("multi-valued", MULTI)]
    for serial, (case, name) in enumerate(cases, start=0x7F):
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(serial * 0x1_0000_0001).not_valid_before(datetime.datetime(2024, 1, 2, 3, 4, 5))
                   .not_valid_after(datetime.datetime(2030, 6, 7, 8, 9, 10)))
        if case == "ordinary":
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("www.contoso.com"), x509.RFC822Name("ops@contoso.com")]), critical=False)
        made.append((case, builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)))
    return made


def main() -> None:
    made = certificates()
    lines = "\n".join(f'Console.WriteLine("v:" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(c.{m}.ToString())));'
                      for m in MEMBERS)
    with tempfile.TemporaryDirectory() as folder:
        source, exe = Path(folder, "p.cs"), Path(folder, "p.exe")
        source.write_text(PROGRAM % lines)
        subprocess.run(["mcs", "-r:System.dll", str(source), f"-out:{exe}"], check=True, capture_output=True)
        files = []
        for index, (_, der) in enumerate(made):
            files.append(Path(folder, f"{index}.cer"))
            files[-1].write_bytes(der)
        out = subprocess.run(["mono", str(exe), *map(str, files)], check=True, capture_output=True, text=True).stdout
    values = [base64.b64decode(v[2:]).decode() for v in out.splitlines() if v.startswith("v:")]
    rows = []
    for index, (case, der) in enumerate(made):
        printed = dict(zip(MEMBERS, values[index * len(MEMBERS):(index + 1) * len(MEMBERS)], strict=True))
        row: dict[str, object] = {"case": case, "der": base64.b64encode(der).decode(), "mono": printed}
        overrides = {m: {"value": v, "reason": r} for (c, m), (v, r) in DOTNET.items() if c == case}
        if overrides:
            row["dotnet"] = overrides
        rows.append(row)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{OUT}: {len(rows)} certificates x {len(MEMBERS)} members")


if __name__ == "__main__":
    main()
