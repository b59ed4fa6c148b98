"""XElement / XDocument basics."""

from __future__ import annotations

import pytest

from engine.dotnet.conversions import cast
from engine.dotnet.errors import XmlException
from engine.dotnet.xlinq import SaveOptions, XAttribute, XDocument, XElement, XName, XNamespace

DOC = '<?xml version="1.0"?><root a="1"><item id="x">hello</item><item id="y"><b>bold</b> text</item><empty/></root>'


def test_parse_and_navigate() -> None:
    doc = XDocument.Parse(DOC)
    root = doc.Root
    assert root.Name.LocalName == "root" and root.Attribute("a").Value == "1"
    assert [e.Attribute("id").Value for e in root.Elements("item")] == ["x", "y"]
    assert root.Element("item").Value == "hello"
    assert root.Elements()[1].Value == "bold text"
    assert root.Element("missing") is None and root.Attribute("missing") is None
    assert len(doc.Descendants("b")) == 1 and root.Descendants("b")[0].Parent.Attribute("id").Value == "y"
    assert root.HasElements and root.Element("empty").IsEmpty
    assert cast(root.Attribute("a"), "int") == 1
    assert cast(root.Element("item"), "string") == "hello"
    assert cast(root.Element("missing"), "string") is None
    assert cast(XElement.Parse("<f>true</f>"), "bool") is True
    assert doc.Declaration.Version == "1.0"


def test_to_string() -> None:
    doc = XDocument.Parse(DOC)
    assert doc.ToString() == (
        '<root a="1">\r\n'
        '  <item id="x">hello</item>\r\n'
        '  <item id="y"><b>bold</b> text</item>\r\n'
        "  <empty />\r\n"
        "</root>"
    )
    assert doc.Root.ToString(SaveOptions.DisableFormatting) == (
        '<root a="1"><item id="x">hello</item><item id="y"><b>bold</b> text</item><empty /></root>'
    )


def test_construction_and_mutation() -> None:
    e = XElement("order", XAttribute("id", 7), XElement("total", 9.5), XElement("note", "a<b & c"))
    assert (
        e.ToString() == '<order id="7">\r\n  <total>9.5</total>\r\n  <note>a&lt;b &amp; c</note>\r\n</order>'
    )
    e.SetAttributeValue("id", 8)
    e.SetAttributeValue("new", "v")
    e.SetElementValue("total", 10)
    e.Element("note").Remove()
    e.Add(XElement("flag", True))
    assert (
        e.ToString(SaveOptions.DisableFormatting)
        == '<order id="8" new="v"><total>10</total><flag>true</flag></order>'
    )
    e.Value = "plain"
    assert e.ToString() == '<order id="8" new="v">plain</order>'
    e.SetAttributeValue("new", None)
    assert e.Attribute("new") is None


def test_namespaces() -> None:
    el = XElement.Parse('<a xmlns="urn:x" xmlns:p="urn:p"><b>1</b><p:c>2</p:c></a>')
    ns = XNamespace.Get("urn:x")
    assert el.Name == ns + "a" and el.Name.ToString() == "{urn:x}a"
    assert el.Element(ns + "b").Value == "1"
    assert el.Element("b") is None
    assert el.Element("{urn:p}c").Value == "2"
    assert XName.Get("{urn:x}a").NamespaceName == "urn:x"
    assert (
        el.ToString(SaveOptions.DisableFormatting)
        == '<a xmlns="urn:x" xmlns:p="urn:p"><b>1</b><p:c>2</p:c></a>'
    )


def test_bad_xml_and_entities() -> None:
    with pytest.raises(XmlException):
        XElement.Parse("<a><b></a>")
    with pytest.raises(XmlException):
        XDocument.Parse("")
    with pytest.raises(XmlException) as external:  # external entities are never loaded
        XElement.Parse('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    assert "root:" not in str(external.value)
    internal = XDocument.Parse('<!DOCTYPE x [<!ENTITY e "v">]><x a="&e;">&e;&e;</x>')  # expanded, like .NET
    assert internal.Root.Value == "vv" and internal.Root.Attribute("a").Value == "v"
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    with pytest.raises(XmlException):  # entity amplification stays bounded (libxml2's limits)
        XDocument.Parse(f'<!DOCTYPE x [<!ENTITY l0 "lol">{laughs}]><x>&l9;</x>')


def test_string_reader_writer_and_save() -> None:
    from engine.dotnet.textio import StringReader, StringWriter

    reader = StringReader("a\r\nb\nc")
    assert reader.Peek() == ord("a")
    assert [reader.ReadLine(), reader.ReadLine(), reader.ReadLine(), reader.ReadLine()] == [
        "a",
        "b",
        "c",
        None,
    ]
    rest = StringReader("xyz")
    assert rest.Read() == ord("x") and rest.ReadToEnd() == "yz" and rest.Read() == -1
    writer = StringWriter()
    writer.Write("n={0}", 1)
    writer.WriteLine()
    writer.WriteLine(True)
    assert writer.ToString() == "n=1\r\nTrue\r\n"
    out = StringWriter()
    XDocument.Parse("<a><b/></a>").Save(out)
    assert out.ToString() == '<?xml version="1.0" encoding="utf-16"?>\r\n<a>\r\n  <b />\r\n</a>'


def test_adding_a_parented_node_copies_it_keeping_its_kind() -> None:
    src = XDocument.Parse('<!DOCTYPE r [<!ENTITY e "x">]><r><![CDATA[a<b]]><!--note--><i>t</i></r>')
    copy = XElement("copy", src.Root.Nodes())
    assert copy.ToString(SaveOptions.DisableFormatting) == "<copy><![CDATA[a<b]]><!--note--><i>t</i></copy>"
    assert [type(n).__name__ for n in copy.Nodes()] == ["XCData", "XComment", "XElement"]
    assert all(a is not b for a, b in zip(copy.Nodes(), src.Root.Nodes(), strict=True))
    assert src.Root.ToString(SaveOptions.DisableFormatting) == "<r><![CDATA[a<b]]><!--note--><i>t</i></r>"
    doc = XDocument(src.DocumentType, XElement("r"))
    assert doc.DocumentType is not src.DocumentType and src.DocumentType.Document is src
    assert doc.ToString() == '<!DOCTYPE r [<!ENTITY e "x">]>\r\n<r />'
