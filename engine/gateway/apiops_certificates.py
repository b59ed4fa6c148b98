"""The APIOps folder's `certificates/`: APIM's uploaded certificates, for `certificate-id` and thumbprints.

APIOps' extractor does not lay certificates out (they hold private keys), so policygate chooses a
layout in the style of the other entities (docs/apiops.md):

    certificates/<id>/certificateInformation.json   {"properties": {...}} of the ARM certificate resource
    certificates/<id>/certificate.pfx | .p12 | .pem   the certificate itself (optional, see below)

The certificate comes from the file beside the JSON when there is one, else from `properties.data`
(base64 PKCS#12, as ARM, Bicep and the REST API take it). Its password comes from the environment
variable `POLICYGATE_CERT_<ID>_PASSWORD` when set, else from `properties.password`. A Key Vault
reference (`properties.keyVault`) cannot be resolved here: such a certificate needs the file. Lint
(`placeholder_secrets`) only warns about a Key Vault certificate without one: it checks documents,
and only the gateway needs the certificate. An extracted `properties.thumbprint` is checked against
the certificate when the gateway loads it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from engine.certificates import PKCS12_SUFFIXES, CertificateSettings

if TYPE_CHECKING:
    from engine.gateway.apiops_folder import FolderReader

FOLDER = "certificates"
INFORMATION = "certificateInformation.json"
FILES = tuple(f"certificate{suffix}" for suffix in (*PKCS12_SUFFIXES, ".pem"))
PROPERTIES = ("data", "password", "keyVault", "thumbprint", "subject", "expirationDate")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
KEY_VAULT_WARNING = ("Key Vault certificates cannot be fetched; `policygate serve` stops until each is put in "
                     "the file (or .p12, .pem)")


def password_variable(certificate_id: str) -> str:
    """The environment variable holding the password of certificate `certificate_id`."""
    return f"POLICYGATE_CERT_{_NOT_ALNUM.sub('_', certificate_id).upper()}_PASSWORD"


def folder_certificates(reader: FolderReader) -> dict[str, CertificateSettings]:
    """`certificates/<id>/` -> id -> settings; mistakes stop the load, naming the file and key."""
    found: dict[str, CertificateSettings] = {}
    for entity in reader.file_entities(FOLDER, INFORMATION, FILES, PROPERTIES, "certificate"):
        folder, info, props = entity.folder, entity.info, entity.properties
        variable = password_variable(folder.name)
        password = reader.environ.get(variable) or reader.string(props, "password", info) or ""
        thumbprint = reader.string(props, "thumbprint", info) or ""
        if entity.file is not None:
            found[folder.name] = CertificateSettings(entity.file, password=password, thumbprint=thumbprint)
            continue
        data = reader.string(props, "data", info)
        if data is None and props.get("keyVault") and reader.placeholder_secrets:
            reader.warnings.add(KEY_VAULT_WARNING, f"{reader.rel(folder)}/certificate.pfx")
            found[folder.name] = CertificateSettings(info, declared_only=True)  # its id resolves in documents
            continue
        if data is None:
            source = ("a Key Vault certificate cannot be fetched: put it in" if props.get("keyVault")
                      else "needs properties.data (base64 PKCS#12) or the certificate in")
            reader.fail(info, "properties", f"{source} {reader.rel(folder)}/certificate.pfx (or .p12, .pem)")
        try:
            pkcs12 = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            reader.fail(info, "properties.data", "is not base64 (the PKCS#12 file, base64-encoded)")
        found[folder.name] = CertificateSettings(info, password=password, data=pkcs12, thumbprint=thumbprint)
    return found
