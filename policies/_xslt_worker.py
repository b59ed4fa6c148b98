"""The process that runs xsl-transform's transforms (started by `engine.isolation.WorkerPool`).

Run as a script: `python -P _xslt_worker.py MEMORY_BYTES MAX_OUTPUT_BYTES`. It limits its
own address space, then answers framed requests on stdin (see engine/isolation.py): the header
carries the stylesheet and the parameters, the payload is the XML body; the reply header is
`{}` with the result as payload, or `{"error": kind, "message": ...}`. Only the standard library and
lxml are imported, so a user's module of the same name never shadows anything here.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from typing import Any, BinaryIO

from lxml import etree

FRAME = struct.Struct(">II")  # the framing of engine/isolation.py
MAX_STYLESHEETS = 64  # compiled stylesheets kept per worker
# document(), xsl:include/import of files or URLs and writing files are all refused
ACCESS = etree.XSLTAccessControl.DENY_ALL


def hardened_parser() -> etree.XMLParser:
    """No DTDs, no entity expansion, no network, default size limits."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def compile_sheet(text: str) -> etree.XSLT:
    return etree.XSLT(etree.ElementTree(etree.fromstring(text.encode(), hardened_parser())), access_control=ACCESS)


class Transformer:
    def __init__(self, max_output: int) -> None:
        self.max_output = max_output
        self.sheets: dict[str, etree.XSLT] = {}

    def run(self, header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        sheet = self.sheets.get(header["sheet"])
        if sheet is None:
            if len(self.sheets) >= MAX_STYLESHEETS:
                self.sheets.clear()
            sheet = self.sheets[header["sheet"]] = compile_sheet(header["sheet"])
        parameters: dict[str, Any] = {name: etree.XSLT.strparam(value) for name, value in header["parameters"].items()}
        try:
            document = etree.fromstring(body, hardened_parser()).getroottree()
        except etree.XMLSyntaxError as exc:
            return {"error": "syntax", "message": str(exc)}, b""
        try:
            # the result tree is a C-level buffer of its <xsl:output> serialisation, which no stub declares
            result: bytes = bytes(sheet(document, **parameters))  # type: ignore[call-overload]
        except etree.XSLTApplyError as exc:
            return {"error": "apply", "message": str(exc)}, b""
        except MemoryError:
            return {"error": "memory", "message": "the transform ran out of memory"}, b""
        if len(result) > self.max_output:
            return {"error": "output", "message": f"the result is larger than {self.max_output} bytes"}, b""
        return {}, result


def serve(source: BinaryIO, sink: BinaryIO, transformer: Transformer) -> None:
    while len(head := source.read(FRAME.size)) == FRAME.size:
        header_length, body_length = FRAME.unpack(head)
        header = json.loads(source.read(header_length))
        reply, payload = transformer.run(header, source.read(body_length))
        data = json.dumps(reply).encode()
        sink.write(FRAME.pack(len(data), len(payload)) + data + payload)
        sink.flush()


def main() -> None:
    memory, max_output = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    serve(sys.stdin.buffer, sys.stdout.buffer, Transformer(max_output))


if __name__ == "__main__":
    main()
