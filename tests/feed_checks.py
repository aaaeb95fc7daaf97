"""Checks for the other formats, as atom_checks.py is for Atom.

assert_valid_rss(xml)        feedparser (bozo == 0, rss20) + RSS 2.0's required channel and item elements
assert_valid_json_feed(raw)  the required fields of JSON Feed 1.1, as a JSON Schema
parse_opml(raw)              listparser, which must not flag the document
"""

from __future__ import annotations

import json
from typing import Any

import feedparser
import jsonschema
import listparser
from lxml import etree

# JSON Feed 1.1 (https://jsonfeed.org/version/1.1): what is required, and the types of what is used.
_RFC3339 = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"}
_AUTHORS = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
JSON_FEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string", "minLength": 1},
        "home_page_url": {"type": "string", "pattern": "^https?://"},
        "feed_url": {"type": "string", "pattern": "^https?://"},
        "description": {"type": "string"},
        "icon": {"type": "string"},
        "favicon": {"type": "string"},
        "language": {"type": "string"},
        "authors": _AUTHORS,
        "hubs": {
            "type": "array",
            "items": {"type": "object", "required": ["type", "url"], "properties": {"url": {"type": "string"}}},
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "content_text": {"type": "string"},
                    "date_published": _RFC3339,
                    "date_modified": _RFC3339,
                    "authors": _AUTHORS,
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def assert_valid_rss(xml: bytes) -> Any:
    """Fail unless ``xml`` is RSS 2.0 feedparser reads cleanly with every required element; return it parsed."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    assert root.tag == "rss" and root.get("version") == "2.0", (
        f"not RSS 2.0: <{root.tag} version={root.get('version')}>"
    )
    (channel,) = root.findall("channel")
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel has no {name}"
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description"), "an item needs a title or a description"
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, f"feedparser: bozo {parsed.bozo}: {parsed.get('bozo_exception')!r}"
    assert parsed.version == "rss20", f"feedparser sees {parsed.version!r}, not RSS 2.0"
    return parsed


def assert_valid_json_feed(raw: bytes) -> dict[str, Any]:
    """Fail unless ``raw`` is UTF-8 JSON with JSON Feed 1.1's required fields; return it loaded."""
    document = json.loads(raw.decode("utf-8"))
    checker = jsonschema.Draft202012Validator(JSON_FEED_SCHEMA)
    errors = [f"  {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in checker.iter_errors(document)]
    assert not errors, "not a valid JSON Feed 1.1:\n" + "\n".join(errors)
    return document  # type: ignore[no-any-return]


def parse_opml(raw: bytes) -> Any:
    parsed = listparser.parse(raw.decode("utf-8"))
    assert parsed.bozo == 0, f"listparser: bozo: {parsed.get('bozo_exception')!r}"
    return parsed
