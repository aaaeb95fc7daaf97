"""Checks every served Atom document must pass; shared by unit, web and e2e tests.

assert_valid_atom(xml)  RELAX NG schema of RFC 4287 (schemas/atom.rng) + the three
                        Schematron rules it embeds, which lxml's RelaxNG does not evaluate
parse_feed(xml)         feedparser, which must not flag the document (bozo == 0)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import feedparser
from lxml import etree

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "atom.rng"
ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}

# The schema's embedded <s:rule>s, as XPath: each must be true of every context node.
_RULES = (
    (
        "/atom:feed",
        "atom:author or not(atom:entry[not(atom:author)])",
        "an atom:feed must have an atom:author unless all of its atom:entry children have one",
    ),
    (
        "//atom:entry",
        "atom:link[@rel='alternate'] or atom:link[not(@rel)] or atom:content",
        "an atom:entry must have an atom:link with rel 'alternate' or an atom:content",
    ),
    (
        "//atom:entry",
        "atom:author or ../atom:author or atom:source/atom:author",
        "an atom:entry must have an atom:author if its feed does not",
    ),
)


@cache
def _schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


def assert_valid_atom(xml: bytes) -> None:
    """Fail unless ``xml`` is a well-formed Atom 1.0 document valid against RFC 4287's schema."""
    assert isinstance(xml, bytes), f"expected bytes, got {type(xml).__name__}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"not well-formed XML: {exc}") from None
    schema = _schema()
    if not schema.validate(root):
        errors = "\n".join(f"  line {e.line}: {e.message} ({e.path})" for e in schema.error_log)
        raise AssertionError(f"not valid Atom ({SCHEMA.name}):\n{errors}")
    broken = [
        f"  {message}: {root.getroottree().getpath(node)}"
        for context, test, message in _RULES
        for node in root.xpath(context, namespaces=ATOM_NS)
        if not node.xpath(f"boolean({test})", namespaces=ATOM_NS)
    ]
    assert not broken, "Atom schematron rules broken:\n" + "\n".join(broken)


def parse_feed(xml: bytes) -> Any:
    """Parse ``xml`` with feedparser, fail if it had to guess (bozo), and return the result."""
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, f"feedparser: bozo {parsed.bozo}: {parsed.get('bozo_exception')!r}"
    assert parsed.version == "atom10", f"feedparser sees {parsed.version!r}, not Atom 1.0"
    return parsed
