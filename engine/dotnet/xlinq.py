"""``System.Xml.Linq`` basics: ``XDocument``, ``XElement``, ``XAttribute``, ``XName``, ``XNamespace``.

Documents are parsed with lxml with entity resolution, DTD loading and network access disabled,
then held in small Python node classes (so C# reference identity holds). ``ToString()`` indents
with two spaces like ``SaveOptions.None`` and writes empty elements as ``<a />``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from .errors import (
    ArgumentException,
    ArgumentNullException,
    InvalidOperationException,
    NotSupportedException,
    XmlException,
)
from .limits import TextBuffer, paced
from .primitives import NEW_LINE, TypeRef


class SaveOptions(enum.IntFlag):
    """``System.Xml.Linq.SaveOptions``."""

    None_ = 0
    DisableFormatting = 1
    OmitDuplicateNamespaces = 2


class LoadOptions(enum.IntFlag):
    """``System.Xml.Linq.LoadOptions``."""

    None_ = 0
    PreserveWhitespace = 1
    SetBaseUri = 2
    SetLineInfo = 4


class XmlNodeType(enum.IntEnum):
    """``System.Xml.XmlNodeType`` (the kinds of ``XNode.NodeType``)."""

    None_ = 0
    Element = 1
    Attribute = 2
    Text = 3
    CDATA = 4
    EntityReference = 5
    Entity = 6
    ProcessingInstruction = 7
    Comment = 8
    Document = 9
    DocumentType = 10
    DocumentFragment = 11
    Notation = 12
    Whitespace = 13
    SignificantWhitespace = 14
    EndElement = 15
    EndEntity = 16
    XmlDeclaration = 17


class XNamespace:
    """``XNamespace``; ``ns + "local"`` makes an ``XName``; ``(XNamespace)"urn:x"`` converts."""

    dotnet_name = "System.Xml.Linq.XNamespace"
    None_: ClassVar[XNamespace]  # the well-known namespaces: instances, set below the class
    Xml: ClassVar[XNamespace]
    Xmlns: ClassVar[XNamespace]

    def __init__(self, uri: str) -> None:
        self._uri = uri

    @property
    def NamespaceName(self) -> str:
        return self._uri

    @staticmethod
    def Get(uri: str) -> XNamespace:
        return XNamespace(uri)

    def GetName(self, local: str) -> XName:
        return XName(local, self._uri)

    def __add__(self, local: str) -> XName:
        return XName(local, self._uri)

    @staticmethod
    def from_string(text: str) -> XNamespace:
        """The implicit conversion from ``string``."""
        return XNamespace(text)

    def ToString(self) -> str:
        return self._uri

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XNamespace) and other._uri == self._uri

    def __hash__(self) -> int:
        return hash(self._uri)


XNamespace.None_ = XNamespace("")
XNamespace.Xml = XNamespace("http://www.w3.org/XML/1998/namespace")
XNamespace.Xmlns = XNamespace("http://www.w3.org/2000/xmlns/")


class XName:
    """``XName``: ``LocalName`` + ``NamespaceName``; ``ToString()`` is ``{ns}local``."""

    dotnet_name = "System.Xml.Linq.XName"

    def __init__(self, local: str, namespace: str = "") -> None:
        if not local:
            raise ArgumentException("The empty string '' is not a valid local name.")
        self._local = local
        self._ns = namespace

    @staticmethod
    def Get(name: str, namespace: str | None = None) -> XName:
        return XName(name, namespace) if namespace is not None else to_xname(name)

    @staticmethod
    def from_string(text: str) -> XName:
        """The implicit conversion from ``string`` (``"{ns}local"`` or ``"local"``)."""
        return to_xname(text)

    @property
    def LocalName(self) -> str:
        return self._local

    @property
    def NamespaceName(self) -> str:
        return self._ns

    @property
    def Namespace(self) -> XNamespace:
        return XNamespace(self._ns)

    def ToString(self) -> str:
        return f"{{{self._ns}}}{self._local}" if self._ns else self._local

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = to_xname(other)
        return isinstance(other, XName) and other._local == self._local and other._ns == self._ns

    def __hash__(self) -> int:
        return hash((self._local, self._ns))

    def __repr__(self) -> str:
        return f"XName({self.ToString()!r})"


def to_xname(name: Any) -> XName:
    if isinstance(name, XName):
        return name
    if name is None:
        raise ArgumentNullException("name")
    text = str(name)
    if text.startswith("{"):
        ns, _, local = text[1:].partition("}")
        return XName(local, ns)
    return XName(text)


def _escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(s: str) -> str:
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#xA;")
        .replace("\r", "&#xD;")
        .replace("\t", "&#x9;")
    )


class XObject:
    """Base of XML nodes and attributes."""

    dotnet_name = "System.Xml.Linq.XObject"

    def __init__(self) -> None:
        self._parent: XElement | None = None
        self._document: XDocument | None = None

    @property
    def Parent(self) -> XElement | None:
        return self._parent

    @property
    def Document(self) -> XDocument | None:
        node: Any = self
        while node is not None:
            if isinstance(node, XDocument):
                return node
            node = node._parent or node._document
        return None


class XNode(XObject):
    """Base of elements, text and comments."""

    dotnet_name = "System.Xml.Linq.XNode"

    def _container(self) -> XContainer | None:
        return self._parent if self._parent is not None else self._document

    def Remove(self) -> None:
        container = self._container()
        if container is None:
            raise InvalidOperationException("The parent is missing.")
        container._nodes = [n for n in container._nodes if n is not self]
        container._open = False
        self._parent = None
        self._document = None

    def ReplaceWith(self, *content: Any) -> None:
        container = self._container()
        if container is None:
            raise InvalidOperationException("The parent is missing.")
        index = next(i for i, n in enumerate(container._nodes) if n is self)
        new_nodes = container._convert(content)
        container._nodes[index : index + 1] = new_nodes
        self._parent = None

    def _siblings(self) -> tuple[list[XNode], int]:
        """The container's nodes and this node's index among them (``[], -1`` without a parent)."""
        container = self._container()
        if container is None:
            return [], -1
        nodes = container._nodes
        return nodes, next(i for i, n in enumerate(nodes) if n is self)

    @property
    def NextNode(self) -> XNode | None:
        nodes, i = self._siblings()
        return nodes[i + 1] if 0 <= i < len(nodes) - 1 else None

    @property
    def PreviousNode(self) -> XNode | None:
        nodes, i = self._siblings()
        return nodes[i - 1] if i > 0 else None

    def NodesBeforeSelf(self) -> list[XNode]:
        nodes, i = self._siblings()
        return nodes[:i] if i > 0 else []

    def NodesAfterSelf(self) -> list[XNode]:
        nodes, i = self._siblings()
        return nodes[i + 1:] if i >= 0 else []

    def ElementsBeforeSelf(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        return [n for n in self.NodesBeforeSelf() if isinstance(n, XElement) and (xname is None or n.Name == xname)]

    def ElementsAfterSelf(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        return [n for n in self.NodesAfterSelf() if isinstance(n, XElement) and (xname is None or n.Name == xname)]

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        raise NotImplementedError

    def _clone(self) -> XNode:
        """A parentless deep copy (what .NET adds when the node already has a parent)."""
        raise NotImplementedError

    def ToString(self, options: Any = SaveOptions.None_) -> str:
        out = TextBuffer()
        self._write(out, not (int(options) & SaveOptions.DisableFormatting), 0)
        return out.text()

    def Save(self, writer: Any, options: Any = SaveOptions.None_) -> None:
        """Write the XML (with a declaration for documents) to a ``StringWriter``/``StringBuilder``."""
        from .stringbuilder import StringBuilder
        from .textio import StringWriter

        if not isinstance(writer, StringWriter | StringBuilder):
            raise NotSupportedException(
                "Save only writes to a StringWriter or StringBuilder in policy expressions."
            )
        declaration = '<?xml version="1.0" encoding="utf-16"?>'
        if isinstance(self, XDocument) and self.Declaration is not None and self.Declaration.Version:
            declaration = f'<?xml version="{self.Declaration.Version}" encoding="utf-16"'
            declaration += (
                f' standalone="{self.Declaration.Standalone}"?>' if self.Declaration.Standalone else "?>"
            )
        newline = "\r\n" if not int(options) & SaveOptions.DisableFormatting else ""
        text = declaration + newline + self.ToString(options)
        (writer.Write if isinstance(writer, StringWriter) else writer.Append)(text)

    def __str__(self) -> str:
        return self.ToString()


class XText(XNode):
    """A text node."""

    dotnet_name = "System.Xml.Linq.XText"

    def __init__(self, value: str) -> None:
        super().__init__()
        self.Value = value

    NodeType = XmlNodeType.Text

    def _clone(self) -> XText:
        return type(self)(self.Value)  # an XCData stays one

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        out.append(_escape_text(self.Value))


class XCData(XText):
    """A CDATA section."""

    dotnet_name = "System.Xml.Linq.XCData"

    NodeType = XmlNodeType.CDATA

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        out.append(f"<![CDATA[{self.Value}]]>")


class XComment(XNode):
    """A comment."""

    dotnet_name = "System.Xml.Linq.XComment"

    def __init__(self, value: str) -> None:
        super().__init__()
        self.Value = value

    NodeType = XmlNodeType.Comment

    def _clone(self) -> XComment:
        return XComment(self.Value)

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        out.append(f"<!--{self.Value}-->")


class XDocumentType(XNode):
    """``<!DOCTYPE name PUBLIC "..." "..." [internal subset]>`` of a parsed document."""

    dotnet_name = "System.Xml.Linq.XDocumentType"
    NodeType = XmlNodeType.DocumentType

    def __init__(self, name: str, public_id: str | None, system_id: str | None, internal_subset: str | None) -> None:
        super().__init__()
        self._doctype = (name, public_id, system_id, internal_subset)

    Name = property(lambda self: self._doctype[0])
    PublicId = property(lambda self: self._doctype[1])
    SystemId = property(lambda self: self._doctype[2])
    InternalSubset = property(lambda self: self._doctype[3])

    def _clone(self) -> XDocumentType:
        return XDocumentType(*self._doctype)

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        text = f"<!DOCTYPE {self.Name}"
        if self.PublicId is not None:
            text += f' PUBLIC "{self.PublicId}" "{self.SystemId or ""}"'
        elif self.SystemId is not None:
            text += f' SYSTEM "{self.SystemId}"'
        if self.InternalSubset:
            text += f" [{self.InternalSubset}]"
        out.append(text + ">")


class XAttribute(XObject):
    """``XAttribute``: ``Name``, ``Value``; ``(string)attr`` is its value."""

    dotnet_name = "System.Xml.Linq.XAttribute"

    def __init__(self, name: Any, value: Any) -> None:
        super().__init__()
        if value is None:
            raise ArgumentNullException("value")
        self._name = to_xname(name)
        from .conversions import to_string

        self._value = (
            value
            if isinstance(value, str)
            else _xml_value_text(value)
            if not isinstance(value, str)
            else to_string(value)
        )

    @property
    def Name(self) -> XName:
        return self._name

    @property
    def Value(self) -> str:
        return self._value

    @Value.setter
    def Value(self, value: Any) -> None:
        self._value = _xml_value_text(value)

    NodeType = XmlNodeType.Attribute

    def Remove(self) -> None:
        if self._parent is None:
            raise InvalidOperationException("The parent is missing.")
        self._parent._attributes = [a for a in self._parent._attributes if a is not self]
        self._parent = None

    def _sibling(self, step: int) -> XAttribute | None:
        if self._parent is None:
            return None
        attrs = self._parent._attributes
        i = next(i for i, a in enumerate(attrs) if a is self) + step
        return attrs[i] if 0 <= i < len(attrs) else None

    @property
    def NextAttribute(self) -> XAttribute | None:
        return self._sibling(1)

    @property
    def PreviousAttribute(self) -> XAttribute | None:
        return self._sibling(-1)

    def ToString(self) -> str:
        return f'{_qualified(self._name, self._parent)}="{_escape_attr(self._value)}"'

    @staticmethod
    def explicit_conversion(attr: XAttribute | None, t: TypeRef) -> Any:
        return _convert_text(None if attr is None else attr.Value, t)


def _xml_value_text(value: Any) -> str:
    """``XmlConvert.ToString`` of a content value: `true`, `INF`, ISO dates (round-trip kind)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        from .formatting import double_to_string

        if value != value or value in (float("inf"), float("-inf")):
            return "NaN" if value != value else "INF" if value > 0 else "-INF"
        return double_to_string(value)
    from .datetimes import DateTime, DateTimeOffset
    from .timespan import TimeSpan

    if isinstance(value, DateTime | DateTimeOffset):
        text = value.ToString("o")
        head, dot, rest = text.partition(".")
        if dot:  # XmlConvert drops trailing zeros of the fraction (and a zero fraction)
            fraction = rest[:7].rstrip("0")
            text = head + ("." + fraction if fraction else "") + rest[7:]
        return text
    if isinstance(value, TimeSpan):
        return _xml_duration(value)
    from .conversions import to_string

    return to_string(value)


def _xml_duration(span: Any) -> str:
    """``XmlConvert.ToString(TimeSpan)``: an ISO 8601 duration (`PT1H30M`)."""
    ticks = span.Ticks
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    days, rem = divmod(ticks, 864_000_000_000)
    hours, rem = divmod(rem, 36_000_000_000)
    minutes, rem = divmod(rem, 600_000_000)
    seconds, frac = divmod(rem, 10_000_000)
    out = f"{sign}P" + (f"{days}D" if days else "")
    if hours or minutes or seconds or frac or not days:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        if seconds or frac or not (hours or minutes):
            out += f"{seconds}" + (("." + f"{frac:07d}".rstrip("0")) if frac else "") + "S"
    return out


def _convert_text(text: str | None, t: TypeRef) -> Any:
    if text is None:
        if t.nullable or t.name in ("System.String", "System.Object"):
            return None
        raise ArgumentNullException("element")
    if t.name == "System.Boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        from .errors import FormatException

        raise FormatException(f"The string '{text}' is not a valid Boolean value.")
    from .systemconvert import change_type

    return change_type(text, t)


def _qualified(name: XName, scope: XElement | None) -> str:
    if not name.NamespaceName:
        return name.LocalName
    if name.NamespaceName == "http://www.w3.org/XML/1998/namespace":
        return "xml:" + name.LocalName
    if name.NamespaceName == "http://www.w3.org/2000/xmlns/":
        return "xmlns:" + name.LocalName
    node = scope
    while node is not None:
        for attr in node._attributes:
            if (
                attr.Name.NamespaceName == "http://www.w3.org/2000/xmlns/"
                and attr.Value == name.NamespaceName
            ):
                return f"{attr.Name.LocalName}:{name.LocalName}"
        node = node._parent
    return name.LocalName


class XContainer(XNode):
    """Nodes with children: ``XElement`` and ``XDocument``."""

    dotnet_name = "System.Xml.Linq.XContainer"

    def __init__(self) -> None:
        super().__init__()
        self._nodes: list[XNode] = []
        # parsed `<a></a>` (or `<a>  </a>`): no nodes but an end tag, which .NET keeps (not IsEmpty)
        self._open = False

    def _convert(self, content: Iterable[Any]) -> list[XNode]:
        self._open = False
        nodes: list[XNode] = []
        for item in paced(content):
            if item is None:
                continue
            if isinstance(item, XAttribute):
                if not isinstance(self, XElement):
                    raise ArgumentException("An attribute cannot be added to content.")
                self.SetAttributeValue(item.Name, item.Value)
                continue
            if isinstance(item, XNode):
                if item._parent is not None or item._document is not None:
                    item = item._clone()
                item._parent = self if isinstance(self, XElement) else None
                item._document = self if isinstance(self, XDocument) else None
                nodes.append(item)
            elif isinstance(item, list | tuple) or (
                hasattr(item, "__iter__") and not isinstance(item, str | bytes | dict)
            ):
                nodes.extend(self._convert(item))
            else:
                text = _xml_value_text(item)
                if nodes and type(nodes[-1]) is XText:
                    nodes[-1].Value += text
                else:
                    node = XText(text)
                    node._parent = self if isinstance(self, XElement) else None
                    nodes.append(node)
        return nodes

    def Add(self, *content: Any) -> None:
        self._nodes.extend(self._convert(content))

    def AddFirst(self, *content: Any) -> None:
        self._nodes[0:0] = self._convert(content)

    def Nodes(self) -> list[XNode]:
        return list(self._nodes)

    @property
    def FirstNode(self) -> XNode | None:
        return self._nodes[0] if self._nodes else None

    @property
    def LastNode(self) -> XNode | None:
        return self._nodes[-1] if self._nodes else None

    def Elements(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        return [n for n in self._nodes if isinstance(n, XElement) and (xname is None or n.Name == xname)]

    def Element(self, name: Any) -> XElement | None:
        xname = to_xname(name)
        return next((n for n in self._nodes if isinstance(n, XElement) and n.Name == xname), None)

    def Descendants(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        out: list[XElement] = []
        for n in self._nodes:
            if isinstance(n, XElement):
                if xname is None or n.Name == xname:
                    out.append(n)
                out.extend(n.Descendants(xname))
        return out

    def DescendantNodes(self) -> list[XNode]:
        out: list[XNode] = []
        for n in self._nodes:
            out.append(n)
            if isinstance(n, XContainer):
                out.extend(n.DescendantNodes())
        return out

    def RemoveNodes(self) -> None:
        for n in self._nodes:
            n._parent = None
        self._nodes = []
        self._open = False

    def __iter__(self) -> Iterator[XNode]:
        return iter(list(self._nodes))


class XElement(XContainer):
    """``XElement``."""

    dotnet_name = "System.Xml.Linq.XElement"
    _name: XName
    _attributes: list[XAttribute]

    def __init__(self, name: Any, *content: Any) -> None:
        super().__init__()
        if isinstance(name, XElement):
            other = name._clone()
            self._name = other._name
            self._attributes = other._attributes
            for a in self._attributes:
                a._parent = self
            self._nodes = other._nodes
            for n in self._nodes:
                n._parent = self
            return
        self._name = to_xname(name)
        self._attributes = []
        self.Add(*content)

    @staticmethod
    def Parse(text: str, options: Any = None) -> XElement:
        return _parse(text, bool(options and int(options) & LoadOptions.PreserveWhitespace))._root_element()

    @property
    def Name(self) -> XName:
        return self._name

    @Name.setter
    def Name(self, value: Any) -> None:
        self._name = to_xname(value)

    @property
    def Value(self) -> str:
        parts: list[str] = []
        for n in self.DescendantNodes():
            if isinstance(n, XText):
                parts.append(n.Value)
        return "".join(parts)

    @Value.setter
    def Value(self, value: Any) -> None:
        self.SetValue(value)

    def SetValue(self, value: Any) -> None:
        if value is None:
            raise ArgumentNullException("value")
        self.RemoveNodes()
        self.Add(_xml_value_text(value))

    @property
    def HasElements(self) -> bool:
        return any(isinstance(n, XElement) for n in self._nodes)

    @property
    def HasAttributes(self) -> bool:
        return bool(self._attributes)

    NodeType = XmlNodeType.Element

    @property
    def IsEmpty(self) -> bool:
        return not self._nodes and not self._open

    @property
    def FirstAttribute(self) -> XAttribute | None:
        return self._attributes[0] if self._attributes else None

    @property
    def LastAttribute(self) -> XAttribute | None:
        return self._attributes[-1] if self._attributes else None

    def Attributes(self, name: Any = None) -> list[XAttribute]:
        xname = to_xname(name) if name is not None else None
        return [a for a in self._attributes if xname is None or a.Name == xname]

    def Attribute(self, name: Any) -> XAttribute | None:
        xname = to_xname(name)
        return next((a for a in self._attributes if a.Name == xname), None)

    def SetAttributeValue(self, name: Any, value: Any) -> None:
        xname = to_xname(name)
        existing = self.Attribute(xname)
        if value is None:
            if existing is not None:
                existing.Remove()
            return
        if existing is not None:
            existing.Value = value
        else:
            attr = XAttribute(xname, value)
            attr._parent = self
            self._attributes.append(attr)

    def SetElementValue(self, name: Any, value: Any) -> None:
        child = self.Element(name)
        if value is None:
            if child is not None:
                child.Remove()
        elif child is not None:
            child.SetValue(value)
        else:
            self.Add(XElement(name, value))

    def RemoveAttributes(self) -> None:
        self._attributes = []

    def RemoveAll(self) -> None:
        self.RemoveAttributes()
        self.RemoveNodes()

    def Ancestors(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        out: list[XElement] = []
        node = self._parent
        while node is not None:
            if xname is None or node.Name == xname:
                out.append(node)
            node = node._parent
        return out

    def DescendantsAndSelf(self, name: Any = None) -> list[XElement]:
        xname = to_xname(name) if name is not None else None
        return ([self] if xname is None or self.Name == xname else []) + self.Descendants(xname)

    def GetDefaultNamespace(self) -> XNamespace:
        return XNamespace(self._name.NamespaceName)

    def _clone(self) -> XElement:
        copy = XElement(self._name)
        for a in self._attributes:
            attr = XAttribute(a.Name, a.Value)
            attr._parent = copy
            copy._attributes.append(attr)
        for n in self._nodes:
            child = n._clone()
            child._parent = copy
            copy._nodes.append(child)
        copy._open = self._open
        return copy

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        tag = _qualified(self._name, self)
        needs_xmlns = (
            self._name.NamespaceName
            and ":" not in tag
            and (self._parent is None or self._parent.Name.NamespaceName != self._name.NamespaceName)
            and not any(a.Name.LocalName == "xmlns" and not a.Name.NamespaceName for a in self._attributes)
        )
        out.append("<" + tag)
        if needs_xmlns:
            out.append(f' xmlns="{_escape_attr(self._name.NamespaceName)}"')
        for a in self._attributes:
            out.append(" " + a.ToString())
        if not self._nodes:
            out.append(f"></{tag}>" if self._open else " />")
            return
        out.append(">")
        mixed = any(isinstance(n, XText) for n in self._nodes)
        for n in self._nodes:
            if indent and not mixed:
                out.append(NEW_LINE + "  " * (level + 1))
            n._write(out, indent and not mixed, level + 1)
        if indent and not mixed:
            out.append(NEW_LINE + "  " * level)
        out.append(f"</{tag}>")

    @staticmethod
    def explicit_conversion(element: XElement | None, t: TypeRef) -> Any:
        return _convert_text(None if element is None else element.Value, t)


class XDeclaration:
    """``XDeclaration``."""

    dotnet_name = "System.Xml.Linq.XDeclaration"

    def __init__(self, version: str | None, encoding: str | None, standalone: str | None) -> None:
        self._version = version
        self._encoding = encoding
        self._standalone = standalone

    Version = property(lambda self: self._version)
    Encoding = property(lambda self: self._encoding)
    Standalone = property(lambda self: self._standalone)

    def ToString(self) -> str:
        parts = [f'version="{self.Version}"'] if self.Version else []
        if self.Encoding:
            parts.append(f'encoding="{self.Encoding}"')
        if self.Standalone:
            parts.append(f'standalone="{self.Standalone}"')
        return "<?xml " + " ".join(parts) + "?>"


class XDocument(XContainer):
    """``XDocument``."""

    dotnet_name = "System.Xml.Linq.XDocument"

    NodeType = XmlNodeType.Document

    def __init__(self, *content: Any) -> None:
        super().__init__()
        self._declaration: XDeclaration | None = None
        items = list(content)
        if items and isinstance(items[0], XDeclaration):
            self.Declaration = items.pop(0)
        if items and isinstance(items[0], XDocument):
            other = items.pop(0)
            self.Declaration = other.Declaration
            items = [n for n in other._nodes] + items
        self.Add(*items)

    @staticmethod
    def Parse(text: str, options: Any = None) -> XDocument:
        return _parse(text, bool(options and int(options) & LoadOptions.PreserveWhitespace))

    @property
    def Declaration(self) -> XDeclaration | None:
        return self._declaration

    @Declaration.setter
    def Declaration(self, value: XDeclaration | None) -> None:
        self._declaration = value

    @property
    def DocumentType(self) -> XDocumentType | None:
        return next((n for n in self._nodes if isinstance(n, XDocumentType)), None)

    @property
    def Root(self) -> XElement | None:
        return next((n for n in self._nodes if isinstance(n, XElement)), None)

    def _root_element(self) -> XElement:
        root = self.Root
        assert root is not None
        root._document = None
        return root

    def _write(self, out: list[str], indent: bool, level: int) -> None:
        for i, n in enumerate(self._nodes):
            if i and indent:
                out.append(NEW_LINE)
            n._write(out, indent, 0)


def _parse(text: str, preserve_whitespace: bool) -> XDocument:
    if text is None:
        raise ArgumentNullException("text")
    from lxml import etree

    # Like .NET's XDocument.Parse (DtdProcessing.Parse, no XmlResolver): entities declared in the
    # document's internal subset are expanded, external ones never loaded; libxml2's limits on
    # entity amplification apply (huge_tree off).
    parser = etree.XMLParser(
        resolve_entities="internal",
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        strip_cdata=False,
        remove_blank_text=not preserve_whitespace,
    )
    try:
        root = etree.fromstring(text.encode("utf-8") if text.lstrip().startswith("<?xml") else text, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        line, col = getattr(exc, "position", None) or (1, 1)
        message = (getattr(exc, "msg", "") or str(exc) or "Root element is missing.").split(", line ")[
            0
        ].rstrip(".") + "."
        raise XmlException(f"{message} Line {line}, position {col}.") from exc
    doc = XDocument()
    info = root.getroottree().docinfo
    if text.lstrip().startswith("<?xml"):
        doc.Declaration = XDeclaration(info.xml_version, info.encoding, "yes" if info.standalone else None)
    if info.doctype:
        subset = _INTERNAL_SUBSET.search(text)
        doctype = XDocumentType(info.root_name, info.public_id, info.system_url, subset.group(1) if subset else None)
        doctype._document = doc
        doc._nodes.append(doctype)
    source = _Source(text)
    for prev in reversed(list(root.itersiblings(preceding=True))):
        node = _convert_node(prev, preserve_whitespace, source)
        if node is not None:
            node._document = doc
            doc._nodes.append(node)
    top = _convert_node(root, preserve_whitespace, source)
    assert top is not None
    top._document = doc
    doc._nodes.append(top)
    for nxt in root.itersiblings():
        node = _convert_node(nxt, preserve_whitespace, source)
        if node is not None:
            node._document = doc
            doc._nodes.append(node)
    return doc


_INTERNAL_SUBSET = re.compile(r"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.S)
_EMPTY_CONTENT = re.compile(r"<[^<>/!?](?:[^<>]*[^/<>])?>\s*</")


class _Source:
    """What lxml does not tell about the parsed text, read with expat only when the text has it:
    per element (in document order) whether it was written with an end tag (`<a></a>`, not `<a/>`;
    only elements without content can tell) and, for elements holding CDATA sections, their text
    pieces (CDATA or not) between child nodes."""

    def __init__(self, text: str) -> None:
        self.open: list[bool] = []
        self.pieces: dict[int, list[list[tuple[bool, str]]]] = {}
        self._next = 0
        has_cdata = "<![CDATA[" in text
        if not has_cdata and not _EMPTY_CONTENT.search(text):
            return
        import xml.parsers.expat

        data = text.encode("utf-8")
        parser = xml.parsers.expat.ParserCreate(encoding="UTF-8")
        stack: list[int] = []
        segments: dict[int, list[list[tuple[bool, str]]]] = {}
        in_cdata = False

        def boundary() -> None:  # a child node starts a new text segment of its parent
            if stack:
                segments[stack[-1]].append([])

        def start(name: str, attrs: Any) -> None:
            boundary()
            stack.append(len(self.open))
            self.open.append(False)
            segments[stack[-1]] = [[]]

        def end(name: str) -> None:
            self.open[stack.pop()] = data[parser.CurrentByteIndex:parser.CurrentByteIndex + 2] == b"</"

        fresh = True  # the next chunk starts a new piece (a CDATA section began or ended)

        def characters(chunk: str) -> None:
            nonlocal fresh
            if stack:
                pieces = segments[stack[-1]][-1]
                if pieces and not fresh and pieces[-1][0] == in_cdata:  # expat splits text at line ends
                    pieces[-1] = (in_cdata, pieces[-1][1] + chunk)
                else:
                    pieces.append((in_cdata, chunk))
            fresh = False

        def cdata(flag: bool) -> None:
            nonlocal in_cdata, fresh
            in_cdata, fresh = flag, True

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CommentHandler = lambda _text: boundary()
        parser.ProcessingInstructionHandler = lambda _target, _data: boundary()
        if has_cdata:
            parser.CharacterDataHandler = characters
            parser.StartCdataSectionHandler = lambda: cdata(True)
            parser.EndCdataSectionHandler = lambda: cdata(False)
        try:
            parser.Parse(data, True)
        except xml.parsers.expat.ExpatError:
            self.open = []
            return
        self.pieces = {i: segs for i, segs in segments.items() if any(c for seg in segs for c, _ in seg)}

    def element(self) -> tuple[bool, list[list[tuple[bool, str]]] | None]:
        """The next element's end-tag flag and CDATA-holding text segments (None: use lxml's)."""
        index = self._next
        self._next += 1
        return (self.open[index] if index < len(self.open) else False), self.pieces.get(index)


def _name_of(tag: str) -> XName:
    return to_xname(tag)


def _convert_node(el: Any, preserve_whitespace: bool, source: _Source) -> XNode | None:
    from lxml import etree

    if isinstance(el, etree._Comment):
        return XComment(el.text or "")
    if isinstance(el, etree._ProcessingInstruction) or not isinstance(el.tag, str):
        return None
    element = XElement(_name_of(el.tag))
    element._open, segments = source.element()
    for prefix, uri in (el.nsmap or {}).items():
        parent_map = el.getparent().nsmap if el.getparent() is not None else {}
        if parent_map.get(prefix) == uri:
            continue
        attr = XAttribute(XName(prefix, "http://www.w3.org/2000/xmlns/") if prefix else XName("xmlns"), uri)
        attr._parent = element
        element._attributes.append(attr)
    for key, value in el.attrib.items():
        attr = XAttribute(_name_of(key), value)
        attr._parent = element
        element._attributes.append(attr)

    def add(node: XNode) -> None:
        node._parent = element
        element._nodes.append(node)

    def add_text(position: int, text: str | None) -> None:
        if segments is not None and position < len(segments):  # text and CDATA sections, as written
            plain = ""
            for is_cdata, chunk in segments[position] + [(True, "")]:
                if not is_cdata:
                    plain += chunk
                    continue
                if plain and (preserve_whitespace or plain.strip()):
                    add(XText(plain))
                plain = ""
                if chunk:
                    add(XCData(chunk))
            return
        if text and (preserve_whitespace or text.strip()):  # whitespace-only text is insignificant
            add(XText(text))

    add_text(0, el.text)
    for position, child in enumerate(el, 1):
        node = _convert_node(child, preserve_whitespace, source)
        if node is not None:
            add(node)
        add_text(position, child.tail)
    return element


__all__ = [
    "LoadOptions",
    "SaveOptions",
    "XAttribute",
    "XCData",
    "XComment",
    "XContainer",
    "XDeclaration",
    "XDocument",
    "XDocumentType",
    "XElement",
    "XName",
    "XNamespace",
    "XNode",
    "XObject",
    "XText",
    "XmlNodeType",
]
