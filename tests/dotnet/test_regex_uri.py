"""Regex (on RE2 or re) and Uri/WebUtility."""

from __future__ import annotations

import time

import pytest

from engine.dotnet.errors import (
    ArgumentException,
    InvalidOperationException,
    UriFormatException,
)
from engine.dotnet.regex import Match, Regex
from engine.dotnet.regexengine import RegexOptions
from engine.dotnet.uri import Uri, UriKind, UriPartial, WebUtility


def test_match_and_groups() -> None:
    m = Regex.Match("max-age=3600, public", r"max-age=(?<maxAge>\d+)")
    assert m.Success and m.Value == "max-age=3600" and m.Index == 0 and m.Length == 12
    assert m.Groups["maxAge"].Value == "3600" and m.Groups["maxAge"].Success
    assert m.Groups[1].Value == "3600" and m.Groups.Count == 2
    missing = m.Groups["nope"]
    assert not missing.Success and missing.Value == ""
    failed = Regex.Match("no digits", r"\d+")
    assert not failed.Success and failed.Value == "" and failed.Index == 0
    assert not Match.Empty.Success
    quoted = Regex.Match("k=v", r"(?'key'\w)=(?'val'\w)")
    assert quoted.Groups["key"].Value == "k" and quoted.Groups["val"].Value == "v"
    assert [g.Name for g in quoted.Groups] == ["0", "key", "val"]
    assert quoted.Groups["val"].Captures.Count == 1 and quoted.Groups["val"].Captures[0].Value == "v"


@pytest.mark.parametrize(
    ("text", "pattern", "options", "expected"),
    [
        ("ABC", "^abc$", RegexOptions.IgnoreCase, True),
        ("ABC", "^abc$", RegexOptions.None_, False),
        ("a\nb", "^b$", RegexOptions.Multiline, True),
        ("a\nb", "a.b", RegexOptions.Singleline, True),
        ("a\nb", "a.b", RegexOptions.None_, False),
        ("abc\n", "abc$", RegexOptions.None_, True),
        ("abc\n", "abc\\z", RegexOptions.None_, False),
        ("abc\n", "abc\\Z", RegexOptions.None_, True),
        ("foo.bar", r"(?<=\.)bar", RegexOptions.None_, True),
        ("abab", r"(?<x>ab)\k<x>", RegexOptions.None_, True),
        ("a b", "a # comment\n\\sb", RegexOptions.IgnorePatternWhitespace, True),
        ("[x]", r"[]x[]+", RegexOptions.None_, True),
    ],
)
def test_is_match(text: str, pattern: str, options: RegexOptions, expected: bool) -> None:
    assert Regex.IsMatch(text, pattern, options) is expected
    assert Regex(pattern, options).IsMatch(text) is expected


def test_matches_replace_split() -> None:
    r = Regex(r"(\w)(\d)")
    assert [m.Value for m in r.Matches("a1 b2 c3")] == ["a1", "b2", "c3"]
    assert r.Matches("none").Count == 0
    assert r.Replace("a1 b2", "$2$1") == "1a 2b"
    assert r.Replace("a1 b2", "[$0]") == "[a1] [b2]"
    assert r.Replace("a1 b2", "$$") == "$ $"
    assert r.Replace("a1 b2", lambda m: m.Value.upper()) == "A1 B2"
    assert r.Replace("a1 b2 c3", "x", 2) == "x x c3"
    assert Regex.Replace("John Smith", r"(?<first>\w+)\s(?<last>\w+)", "${last}, ${first}") == "Smith, John"
    assert Regex.Replace("aaa", "a", "b") == "bbb"
    assert Regex.Split("a1b2c", r"\d") == ["a", "b", "c"]
    assert Regex.Split("a1b2c", r"(\d)") == ["a", "1", "b", "2", "c"]
    assert Regex.Split("abc", "x") == ["abc"]
    m = Regex.Match("aXbXc", "X")
    assert m.NextMatch().Index == 3 and not m.NextMatch().NextMatch().Success
    assert Regex.Match("2024-01-02", r"(\d+)-(\d+)").Result("$2/$1") == "01/2024"
    assert Regex.Escape("a.b*c (d)") == "a\\.b\\*c\\ \\(d\\)"
    assert Regex.Unescape(r"a\.b\tc") == "a.b\tc"
    assert Regex("x").ToString() == "x"


def test_regex_errors_and_safety() -> None:
    with pytest.raises(ArgumentException):
        Regex("(unclosed")
    assert Regex.Match("a1b2", r"\d", RegexOptions.RightToLeft).Value == "2"
    start = time.monotonic()
    assert not Regex.IsMatch("a" * 5000 + "c", r"(a+)+b")
    assert time.monotonic() - start < 2.0


def test_webutility() -> None:
    assert WebUtility.UrlEncode("a b&c=d/é~*") == "a+b%26c%3Dd%2F%C3%A9%7E*"
    assert WebUtility.UrlEncode(None) is None
    assert WebUtility.UrlDecode("a+b%26c%3Dd%2F%C3%A9") == "a b&c=d/é"
    assert WebUtility.UrlDecode("100%") == "100%"
    assert (
        WebUtility.HtmlEncode("<a href=\"x\">'é'</a>")
        == "&lt;a href=&quot;x&quot;&gt;&#39;&#233;&#39;&lt;/a&gt;"
    )
    assert WebUtility.HtmlDecode("&lt;b&gt; &amp; &quot;x&quot; &#39;") == '<b> & "x" \''


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b&c=d/é~*", "a%20b%26c%3Dd%2F%C3%A9~%2A"),
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("{x}", "%7Bx%7D"),
        ("", ""),
    ],
)
def test_escape_data_string(text: str, expected: str) -> None:
    assert Uri.EscapeDataString(text) == expected
    assert Uri.UnescapeDataString(expected) == text


def test_uri_parts() -> None:
    u = Uri("https://Example.com:8443/a/b%20c/../d?x=1&y=2#frag")
    assert u.Scheme == "https" and u.Host == "example.com" and u.Port == 8443
    assert u.AbsolutePath == "/a/d" and u.Query == "?x=1&y=2" and u.Fragment == "#frag"
    assert u.PathAndQuery == "/a/d?x=1&y=2"
    assert u.Segments == ["/", "a/", "d"]
    assert u.Authority == "example.com:8443" and not u.IsDefaultPort
    assert u.AbsoluteUri == "https://example.com:8443/a/d?x=1&y=2#frag"
    assert u.GetLeftPart(UriPartial.Authority) == "https://example.com:8443"
    assert u.GetLeftPart(UriPartial.Path) == "https://example.com:8443/a/d"
    assert u.OriginalString == "https://Example.com:8443/a/b%20c/../d?x=1&y=2#frag"
    plain = Uri("http://host")
    assert (
        plain.AbsolutePath == "/"
        and plain.Port == 80
        and plain.AbsoluteUri == "http://host/"
        and plain.IsDefaultPort
    )
    assert Uri("http://h/a%20b").ToString() == "http://h/a b"
    assert Uri("http://h/p?q=a b").AbsoluteUri == "http://h/p?q=a%20b"
    assert Uri(Uri("https://h/a/b"), "c?q=1").AbsoluteUri == "https://h/a/c?q=1"
    assert Uri(Uri("https://h/a/b"), "/root").AbsolutePath == "/root"
    rel = Uri("/path?x", UriKind.Relative)
    assert not rel.IsAbsoluteUri and rel.ToString() == "/path?x"
    with pytest.raises(InvalidOperationException):
        _ = rel.Host
    with pytest.raises(UriFormatException) as info:
        Uri("not a uri")
    assert info.value.Message == "Invalid URI: The format of the URI could not be determined."
    assert Uri.TryCreate("nope", UriKind.Absolute) == (False, None)
    assert Uri.TryCreate("http://x/", UriKind.Absolute)[0]
    assert Uri.IsWellFormedUriString("https://x/y", UriKind.Absolute)
    assert not Uri.IsWellFormedUriString("https://x/a b", UriKind.Absolute)
    assert Uri("http://x/a") == Uri("http://X/a")
