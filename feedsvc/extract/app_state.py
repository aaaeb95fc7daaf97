"""The ``app_state`` detector: posts in the JSON a page embeds for its own scripts.

Pages built with client-side frameworks ship the data they render as JSON inside the page, often
with little or nothing of it in the markup (an empty shell filled in by scripts). Read here:

    <script type="application/json">            any id: Next.js ``__NEXT_DATA__``, Nuxt 3 ``__NUXT_DATA__``
                                                 (devalue's flat array, unflattened), Angular's transfer
                                                 state (``&q;`` for quotes), other frameworks' blobs
    window.NAME = {...} | window["NAME"] = [...]  assignments of a JSON object or array literal in an
    var|let|const NAME = {...}                   inline script (``__INITIAL_STATE__``, ``__APOLLO_STATE__``,
                                                 ``__PRELOADED_STATE__``...; a declared variable only when
    window.NAME = JSON.parse("...")              its name says state, data, props or store), or of a
                                                 ``JSON.parse`` of one string literal

JavaScript is never run: what is not JSON is skipped. A Nuxt 2 ``window.__NUXT__=(function(a,b)
{return {...}}(...))`` is a function call, not a literal, and is skipped (its markup is still read
by the other detectors); so are the React Server Components stream (``self.__next_f.push``) and
object literals with unquoted keys.

The parsed JSON is walked for lists of objects (arrays, with Apollo's ``{"__ref": ...}`` items
resolved, and objects keyed by id, as normalised Redux stores keep them) whose items have a title
(``title``, ``headline``, ``name``...) and a link (``url``, ``href``, ``permalink``, ``path``,
``slug``...), looking two levels into the wrappers CMS and GraphQL APIs put around fields
(``node``, ``attributes``, ``fields``, ``frontmatter``...), and optionally a date, an author and a
summary. A link is resolved against the page as an ``href``
would be and must pass ``urls.link``; a bare slug becomes a link only when the page's own links
show where slugs go (a link of the page ends in it): else the item has no link.

A list is read as posts when at least ``MIN_ITEMS`` (3) of its items have both a title and a
link: state is full of pairs (breadcrumbs, locales, previous/next, an author's two profiles), so
two items count only when both also carry a date, which menus never do. It is no post list when
most of its titles are too short for a post's (``scoring.title_like``) and most items carry no
date (a menu, tags, categories), nor when most of its links are the page's navigation, header,
footer or sidebar links. The best list is the most complete (two per item with a title and a link,
one per date, as ``extract`` weighs readings), then the one whose links the page shows most, then
the one with the longer titles.

Bounded, whatever the page: a blob over ``MAX_BLOB`` characters is skipped unread, one page's
blobs together are read up to ``MAX_STATE`` characters, the walk follows ``MAX_DEPTH`` levels and
visits at most ``MAX_VALUES`` values per page (then stops with the lists found so far), and a
list's first ``bounds.MAX_POSTS`` items are read. Broken JSON, and JSON nested deeper than the
parser allows, is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from feedsvc import bounds, urls
from feedsvc.extract import dates, scoring, titles
from feedsvc.extract.page import Page, Script
from feedsvc.model import Post

MAX_BLOB = 5_000_000  # characters of one embedded blob; a larger one is skipped unread
MAX_STATE = 10_000_000  # characters of embedded JSON read from one page, all blobs together
MAX_DEPTH = 48  # levels of nesting the walk follows (real state nests a list of posts 5-15 deep)
MAX_VALUES = 250_000  # JSON values one page's walk and list reading visit; then it stops
FIRST_WINDOW = 1024  # characters an assigned literal is first read through (then 8x, up to MAX_BLOB)
MIN_ITEMS = 3  # items with a title and a link a list needs (2 when both also carry a date)

JSON_TYPES = frozenset({"application/json", "text/json", "application/x-json"})
SCRIPT_TYPES = frozenset({"", "text/javascript", "application/javascript", "module", "text/ecmascript"})
DEVALUE_IDS = frozenset({"__NUXT_DATA__"})  # blobs written by devalue: a flat array of values and indexes

# Keys are compared lower case, without "_" and "-": publishedAt, published_at and published-at are one.
TITLE_KEYS = ("title", "headline", "heading", "subject", "name")
HREF_KEYS = ("permalink", "canonicalurl", "url", "href", "link", "uri", "fullurl", "absoluteurl", "weburl", "htmlurl")
PATH_KEYS = ("path", "pathname", "urlpath", "fullpath", "fullslug", "slug")
DATE_KEYS = (
    "datepublished", "publishedat", "published", "publishdate", "publicationdate", "publishedon", "pubdate",
    "firstpublishedat", "publishtime", "publishedtime", "pubtime", "date", "postdate", "postedat", "posted",
    "releasedate", "releasedat", "releasetime", "datecreated", "createdat", "createdutc", "created", "time",
    "timestamp",
)  # fmt: skip
AUTHOR_KEYS = ("author", "authors", "primaryauthor", "byline", "creator", "writer", "postedby", "user")
SUMMARY_KEYS = (
    "excerpt", "summary", "description", "teaser", "subtitle", "dek", "abstract", "snippet", "standfirst", "lead",
    "intro", "blurb",
)  # fmt: skip
WRAPPER_KEYS = (
    "node", "attributes", "fields", "frontmatter", "data", "post", "article", "entry", "item", "document", "sys",
)  # fmt: skip
TEXT_KEYS = ("rendered", "text", "value", "plain", "raw")  # {"title": {"rendered": "..."}}
NAME_KEYS = ("name", "displayname", "fullname", "title", "username")
MEDIA = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|ico|bmp|mp3|mp4|m4a|webm|ogg|wav|woff2?|ttf|css|js)$", re.I)

_ASSIGNMENT = re.compile(
    r"(?:\b(?:window|self|globalThis)\s*(?:\.\s*[A-Za-z_$][\w$]*|\[\s*(?P<q>[\"'])[\w$.-]+(?P=q)\s*\])"
    r"|\b(?:var|let|const)\s+(?P<var>[A-Za-z_$][\w$]*))"
    r"\s*=(?!=)\s*(?=[{\[]|JSON\.parse\(\s*[\"'])"
)
_STATE_NAME = re.compile(r"state|data|props|store|initial|preload|^__\w+__$", re.IGNORECASE)
_JSON_PARSE = re.compile(r"JSON\.parse\(\s*")
_JS_ESCAPE = re.compile(r"\\(.)|\"", re.DOTALL)
_DECODER = json.JSONDecoder()
_ID = re.compile(r"[0-9]{1,20}|[0-9a-fA-F-]{8,40}")  # the keys of a store normalised by id: numbers, hex, UUIDs
_ANGULAR_ESCAPES = {"&a;": "&", "&q;": '"', "&s;": "'", "&l;": "<", "&g;": ">"}
_ANGULAR_ESCAPE = re.compile("|".join(_ANGULAR_ESCAPES))
_EPOCH_SECONDS = (1e8, 1e11)  # a number in this range is a Unix time in seconds (1973-5138), above in milliseconds


class Budget:
    """What reading one page's state may still cost: JSON characters and values visited."""

    def __init__(self, chars: int = MAX_STATE, values: int = MAX_VALUES) -> None:
        self.chars = chars
        self.values = values

    def spend(self, values: int = 1) -> bool:
        """Take ``values`` visits; False (and nothing taken) when fewer are left."""
        if values > self.values:
            self.values = 0
            return False
        self.values -= values
        return True


@dataclass(frozen=True, slots=True)
class Reading:
    """One candidate list read as posts, and what ranks it among the page's lists."""

    posts: list[Post]
    dated: int
    on_page: int  # items whose link the page also shows outside its navigation
    title_width: int

    @property
    def rank(self) -> tuple[int, int, int]:
        """Completeness (2 per post, 1 per date), then links the page shows, then title length: higher is better."""
        return (2 * len(self.posts) + self.dated, self.on_page, self.title_width)


def posts(page: Page) -> list[Post]:
    """The posts of the best list in the page's embedded state, in its order; [] when none reads as posts."""
    if not page.is_html:
        return []
    budget = Budget()
    links = _PageLinks(page)
    best: Reading | None = None
    for state in states(page, budget):
        for items in lists(state, budget):
            reading = read(items, page, links, budget)
            if reading is not None and (best is None or reading.rank > best.rank):
                best = reading
    return best.posts if best is not None else []


# --- finding the state ---------------------------------------------------------------------------


def states(page: Page, budget: Budget) -> Iterator[Any]:
    """Every JSON value the page embeds for its scripts, parsed, in page order (within ``budget``)."""
    for script in page.scripts:
        kind = script.type.partition(";")[0].strip()  # application/json; charset=utf-8
        if kind in JSON_TYPES:
            value = _loads(script.text, budget)
            if value is not None:
                yield _unflatten(value, budget) if script.id in DEVALUE_IDS else value
        elif kind in SCRIPT_TYPES:
            yield from _assigned(script, budget)


def _loads(text: str, budget: Budget) -> Any:
    """``text`` parsed as JSON; None when it is too long for the budget, broken or nested too deep."""
    if len(text) > MAX_BLOB or len(text) > budget.chars:
        return None
    budget.chars -= len(text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        if "&q;" not in text:
            return None
    try:  # Angular's transfer state writes its JSON with &q; for quotes
        return json.loads(_ANGULAR_ESCAPE.sub(lambda match: _ANGULAR_ESCAPES[match[0]], text))
    except (ValueError, RecursionError):
        return None


def _assigned(script: Script, budget: Budget) -> Iterator[Any]:
    """The JSON literals an inline script assigns to window properties or state-named variables."""
    text = script.text
    position = 0
    while budget.chars > 0:
        match = _ASSIGNMENT.search(text, position, position + budget.chars)  # the search is charged too
        budget.chars -= (match.end() if match else len(text)) - position
        if match is None:
            return
        position = match.end()
        if match["var"] is not None and not _STATE_NAME.search(match["var"]):
            continue
        parse = _JSON_PARSE.match(text, position)
        start = parse.end() if parse else position
        read = _literal(text, start, budget, quoted=parse is not None)
        if read is None:
            continue
        if isinstance(read, int):
            position = start + read  # a literal longer than MAX_BLOB: not searched again inside
            continue
        value, end = read
        if parse:
            value = _loads(value, budget) if isinstance(value, str) else None
            if value is None:
                continue
        else:
            position = start + end
        yield value


def _literal(text: str, start: int, budget: Budget, *, quoted: bool) -> tuple[Any, int] | int | None:
    """The JSON value (a JavaScript string literal when ``quoted``) at ``text[start:]`` and where it ends;
    None when there is none; the length read when it runs on past ``MAX_BLOB`` characters (or the budget).
    Read through a window that grows only while the value runs past it, so a script's many non-JSON
    assignments cost little; every character taken into a window is charged to ``budget``."""
    limit = min(MAX_BLOB, budget.chars)
    size = min(FIRST_WINDOW, limit)
    while True:
        window = text[start : start + size]
        budget.chars -= len(window)
        try:
            return _DECODER.raw_decode(_js_string(window) if quoted else window)
        except json.JSONDecodeError as error:
            ran_out = error.pos >= len(window) - 1 or error.msg.startswith("Unterminated")
            if not ran_out or start + size >= len(text):
                return None
            if size >= limit or budget.chars <= 0:
                return size
            size = min(size * 8, limit, budget.chars)
        except (ValueError, RecursionError):
            return None


def _js_string(text: str) -> str:
    """A JavaScript string literal at the start of ``text`` as JSON reads it: a single-quoted one re-quoted."""
    if not text.startswith("'"):
        return text
    end = 1
    while (end := text.find("'", end)) != -1 and _escaped(text, end):
        end += 1
    if end == -1:
        return '"'  # unterminated here: the decoder reports an unterminated string, and the window grows
    body = _JS_ESCAPE.sub(lambda m: ("'" if m[1] == "'" else m[0]) if m[1] is not None else '\\"', text[1:end])
    return f'"{body}"'


def _escaped(text: str, index: int) -> bool:
    """The character at ``index`` follows an odd number of backslashes."""
    backslashes = 0
    while index > backslashes and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _unflatten(values: Any, budget: Budget) -> Any:
    """devalue's flat form (``[root, ...]``, objects and arrays holding indexes into it) as plain JSON
    values; typed entries (``["Reactive", 3]``, ``["Date", "..."]``, ``["Set", ...]``) become what they hold."""
    if not isinstance(values, list) or not values:
        return None
    built: dict[int, Any] = {}

    def get(index: Any, depth: int) -> Any:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(values):
            return None  # -1 undefined, -2 a hole, -3 NaN...
        if index in built:
            return built[index]
        if depth > MAX_DEPTH or not budget.spend():
            return None
        value = values[index]
        if isinstance(value, dict):
            built[index] = result = {}
            result.update((key, get(item, depth + 1)) for key, item in value.items())
            return result
        if isinstance(value, list):
            if value and isinstance(value[0], str):
                kind, rest = value[0], value[1:]
                if kind == "Date":
                    result = rest[0] if rest else None
                elif kind in ("Set", "Map", "null", "Object", "RegExp", "BigInt"):
                    result = [get(item, depth + 1) for item in rest] if kind == "Set" else None
                else:  # a framework's own reducer (Reactive, ShallowRef, ...): the value it wraps
                    result = get(rest[0], depth + 1) if len(rest) == 1 else None
                built[index] = result
                return result
            built[index] = result = []
            result.extend(get(item, depth + 1) for item in value)
            return result
        built[index] = value
        return value

    return get(0, 0)


# --- walking it ----------------------------------------------------------------------------------


def lists(state: Any, budget: Budget) -> Iterator[list[dict[str, Any]]]:
    """Every array in ``state`` holding at least two objects (``__ref`` items resolved against the root
    object), and every object of two or more objects keyed by id, depth first in document order; stops
    at ``MAX_DEPTH`` levels and when ``budget`` runs out (every value looked at costs one: a value
    shared many times costs each time)."""
    root = state if isinstance(state, dict) else {}
    stack: list[tuple[Any, int]] = [(state, 0)]
    while stack and budget.values > 0:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
            if _keyed_by_id(value, children):
                yield children[: bounds.MAX_POSTS]  # a normalised store: {"byId": {"17": {...}, "18": {...}}}
        else:
            items = [_resolved(item, root) for item in value[: bounds.MAX_POSTS]]
            objects = [item for item in items if isinstance(item, dict)]
            if len(objects) >= 2:
                yield objects
            children = value
        if depth >= MAX_DEPTH:
            continue
        looked = children[: budget.values]
        budget.values = budget.values - len(looked) if len(looked) == len(children) else 0
        stack.extend((child, depth + 1) for child in reversed(looked) if isinstance(child, (dict, list)))


def _keyed_by_id(value: dict[str, Any], children: list[Any]) -> bool:
    first = children[: bounds.MAX_POSTS]
    return (
        len(first) >= 2
        and all(isinstance(child, dict) for child in first)
        and all(_ID.fullmatch(key) for key in list(value)[: bounds.MAX_POSTS])
    )


def _resolved(item: Any, root: dict[str, Any]) -> Any:
    if isinstance(item, dict) and len(item) == 1 and isinstance(ref := item.get("__ref"), str):
        return root.get(ref, item)
    return item


# --- reading a list ------------------------------------------------------------------------------


class _PageLinks:
    """The page's own links (``a[href]``), whether each is shown outside navigation, and by last path segment."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self._main: dict[str, bool] | None = None
        self._by_segment: dict[str, list[str]] = {}

    @property
    def main(self) -> dict[str, bool]:
        """Link -> shown somewhere outside navigation, header, footer and sidebars."""
        if self._main is None:
            self._main = {}
            body = self._page.body
            for anchor in body.css("a[href]") if body is not None else ():
                link = urls.link(self._page.link(anchor.attributes.get("href")))
                if link is not None and not self._main.get(link):
                    self._main[link] = not scoring.is_furniture(anchor, self._page)
            for link in self._main:
                path = urlsplit(link).path.rstrip("/")
                self._by_segment.setdefault(path.rpartition("/")[2], []).append(link)
        return self._main

    def ending_in(self, slug: str) -> str | None:
        """The page's one link whose path ends in ``slug`` (None: none, or several different ones)."""
        _ = self.main
        found = {
            link
            for link in self._by_segment.get(slug.rpartition("/")[2], ())
            if urlsplit(link).path.rstrip("/").endswith("/" + slug)
        }
        return found.pop() if len(found) == 1 else None


def read(items: list[dict[str, Any]], page: Page, links: _PageLinks, budget: Budget) -> Reading | None:
    """``items`` as posts, when they read as the page's post list (see the module's rules); else None."""
    if not budget.spend(len(items)):
        return None
    fields = [_flat(item) for item in items]
    titles = [_title(flat) for flat in fields]
    if 2 * sum(map(bool, titles)) < len(items) or sum(map(bool, titles)) < 2:
        return None  # most items untitled: no post list, whatever their links
    slugs = _slug_links(fields, links)
    found: list[Post] = []
    seen: set[str] = set()
    page_url = urls.link(page.snapshot.url.partition("#")[0])
    for flat, title, slug_link in zip(fields, titles, slugs, strict=True):
        link = _link(flat, page) or slug_link if title else None
        if not title or link is None or link in seen or link == page_url:
            continue
        seen.add(link)
        found.append(_post(flat, title, link, page))
    if not _enough(found, len(items)):
        return None
    dated = sum(post.date is not None for post in found)
    if 2 * sum(scoring.title_like(post.title) for post in found) < len(found) and 2 * dated < len(found):
        return None  # short titles without dates: a menu, tags, categories
    shown = [links.main[post.link] for post in found if post.link in links.main]
    if 2 * sum(not main for main in shown) > len(found):
        return None  # the page's navigation
    width = sum(len(post.title) for post in found) // len(found)
    return Reading(found, dated, sum(shown), width)


def _enough(found: list[Post], items: int) -> bool:
    if 2 * len(found) < items:
        return False  # most items are something else (blocks of a page builder, mixed content)
    if len(found) == 2:
        return all(post.date is not None for post in found)
    return len(found) >= MIN_ITEMS


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """The item's fields by normalised key, with those of its wrappers (``node``, ``attributes``...) after them."""
    flat: dict[str, Any] = {}
    pending = [item]
    for _ in range(3):  # the item, its wrappers, theirs (an edge's node's frontmatter)
        inner: list[dict[str, Any]] = []
        for thing in pending:
            for key, value in list(thing.items())[:200]:
                name = _key(key)
                if name in WRAPPER_KEYS and isinstance(value, dict):
                    inner.append(value)
                flat.setdefault(name, value)
        pending = inner
    return flat


def _key(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _title(flat: dict[str, Any]) -> str:
    for key in TITLE_KEYS:
        if text := _text(flat.get(key)):
            return text
    return ""


def _text(value: Any) -> str:
    """A string, or the text a ``{"rendered": ...}`` object holds, as plain text (markup and entities read)."""
    if isinstance(value, dict):
        value = next((value[key] for key in TEXT_KEYS if isinstance(value.get(key), str)), None)
    return titles.plain(value) if isinstance(value, str) else ""


def _link(flat: dict[str, Any], page: Page) -> str | None:
    for key in (*HREF_KEYS, *PATH_KEYS):
        value = flat.get(key)
        if isinstance(value, dict):
            value = next((value[k] for k in ("url", "href", "path") if isinstance(value.get(k), str)), None)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if key in PATH_KEYS and not value.startswith(("/", "http://", "https://")):
            continue  # a slug: only where the page's links show the pattern (_slug_links)
        link = urls.link(page.link(value))
        if link is not None and not MEDIA.search(urlsplit(link).path):
            return link
    return None


def _slug_links(fields: list[dict[str, Any]], links: _PageLinks) -> list[str | None]:
    """Links for items known by a bare slug: where the page's own links end in it, and, when those show one
    pattern (the same link around the slug) for at least two items, that pattern for the others too."""
    slugs = [_slug(flat) for flat in fields]
    if not any(slugs):
        return [None] * len(fields)
    shown = [links.ending_in(slug) if slug else None for slug in slugs]
    patterns = {}
    for slug, link in zip(slugs, shown, strict=True):
        if slug and link:
            path_end = link.partition("?")[0].partition("#")[0]
            at = path_end.rstrip("/").rfind(slug)
            patterns.setdefault((path_end[:at], path_end[at + len(slug) :]), []).append(slug)
    if not patterns:
        return shown
    (before, after), matched = max(patterns.items(), key=lambda pattern: len(pattern[1]))
    if len(matched) < 2 or 2 * len(matched) < sum(1 for link in shown if link):
        return shown
    return [urls.link(f"{before}{slug}{after}") if slug else None for slug in slugs]


def _slug(flat: dict[str, Any]) -> str | None:
    for key in PATH_KEYS:
        value = flat.get(key)
        if isinstance(value, dict):
            value = value.get("current")  # {"slug": {"current": "..."}}
        if isinstance(value, str) and (value := value.strip().strip("/")) and ":" not in value and " " not in value:
            return value
    return None


def _post(flat: dict[str, Any], title: str, link: str, page: Page) -> Post:
    shown, date = _date(flat, page)
    summary = next((text for key in SUMMARY_KEYS if (text := _text(flat.get(key)))), "")
    return Post(
        title=title,
        summary=summary,
        date=date.date if date is not None else None,
        author=_author(flat),
        link=link,
        date_shown=shown if date is not None else None,
    )


def _date(flat: dict[str, Any], page: Page) -> tuple[str | None, dates.ShownDate | None]:
    for key in DATE_KEYS:
        value = flat.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > _EPOCH_SECONDS[0]:
            seconds = value if value < _EPOCH_SECONDS[1] else value / 1000
            try:
                value = datetime.fromtimestamp(seconds, UTC).isoformat()
            except (OverflowError, ValueError, OSError):
                continue
        if isinstance(value, str) and value.strip() and len(value) < 100:
            shown = value.strip()
            if (date := dates.parse(shown, page.now, page.zone, page.languages)) is not None:
                return shown, date
    return None, None


def _author(flat: dict[str, Any]) -> str | None:
    for key in AUTHOR_KEYS:
        value = flat.get(key)
        people = value if isinstance(value, list) else [value]
        names = [name for person in people[:20] if (name := _name(person))]
        if names:
            return ", ".join(dict.fromkeys(names))
    return None


def _name(person: Any) -> str:
    if isinstance(person, dict):
        person = {_key(key): value for key, value in person.items()}
        if isinstance(person.get("node"), dict):  # a GraphQL edge
            return _name(person["node"])
        return next((text for key in NAME_KEYS if (text := _text(person.get(key)))), "")
    return _text(person)
