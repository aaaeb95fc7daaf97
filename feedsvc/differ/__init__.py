"""Which posts of a snapshot are new, which known ones changed. Pure: no I/O, no clock.

Identity survives volatile fields, layout changes and re-ordering: the post's link when
the page has one, else its normalised title plus the month and day (the part of a date
that every layout shows). Never the year (one layout lacks it), the summary (layouts
truncate it differently) or the position.

A post is *changed* only when its words change: title, summary text (ignoring
punctuation and white space, which layouts render differently, and truncation),
author, link, categories; or when its date is corrected by better evidence.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from feedsvc.differ import years
from feedsvc.model import DateEvidence, Diff, Entry, Known, Listing, ListingItem, Post

# An untitled post matches a known entry of the same day when their texts start alike.
_SAME_TEXT_PREFIX = 24
# Anything but a letter or a digit (Unicode categories L* and N*: ``[^\W_]`` is exactly those,
# checked over every code point); one regex pass instead of a category lookup per character.
_NOT_WORD = re.compile(r"[\W_]+")


# Control (Cc) and format (Cf) characters, removed before titles are compared; the controls that are
# white space in text (TAB, LF, CR, NEL U+0085) are folded with the rest of the white space instead.
_INVISIBLE = re.compile(
    "["
    + "".join(
        re.escape(chr(c))
        for c in range(0x110000)
        if unicodedata.category(chr(c)) in ("Cc", "Cf") and chr(c) not in "\t\n\r\x85"
    )
    + "]+"
)


def normalize(text: str) -> str:
    """NFKC, case-folded, control and format characters removed, every white space and line or
    paragraph separator (U+2028, U+2029, U+0085 too) folded to one space: how titles are compared."""
    return " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold().split())


def words(text: str) -> str:
    """Only the letters and digits of ``text``: how summaries are compared across layouts."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def identity(post: Post, *, shared_link: bool = False) -> str:
    """A stable key for a post: its link, else its normalised title and month-day.

    ``shared_link``: several posts of the page carry this link (one "read more" page for many
    items): then the link and the normalised title, so that they stay distinct posts.
    """
    if post.link and shared_link:
        key = "link:" + _normal_link(post.link) + "|title:" + normalize(post.title)
    elif post.link:
        key = "link:" + _normal_link(post.link)
    else:
        key = "title:" + normalize(post.title) + "|" + (post.date.month_day if post.date else "")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def identities(posts: Sequence[Post], known: Known | None = None) -> list[str]:
    """Each post's identity on this page: link + title where several posts share a link.

    A post stored before under its link alone (when its link was not yet shared) keeps that
    identity when its title is the stored one, so existing entries still match.
    """
    counts = Counter(_normal_link(post.link) for post in posts if post.link)
    keys = []
    for post in posts:
        shared = post.link is not None and counts[_normal_link(post.link)] > 1
        key = identity(post, shared_link=shared)
        if shared and known is not None and key not in known.entries:
            old = known.entries.get(identity(post))
            if old is not None and normalize(old.title) == normalize(post.title):
                key = old.identity
        keys.append(key)
    return keys


def diff(known: Known, posts: Sequence[Post], seen_at: datetime, zone: ZoneInfo, source: str) -> Diff:
    """Compare a snapshot's posts with what is stored for ``source``."""
    matched = _match(known, posts, zone)
    listing = _listing(matched, seen_at)
    resolved = _resolve_dates(known, matched, listing, zone)

    new: list[Entry] = []
    changed: dict[str, Entry] = {}
    for key, post in matched:
        published, evidence = _published(post, resolved.get(key), zone)
        old = known.entries.get(key)
        if old is None:
            new.append(_new_entry(source, key, post, published, evidence, seen_at))
            continue
        merged = _merge(old, post, published, evidence)
        if merged != old:
            changed[key] = replace(merged, updated=seen_at)

    current = {key for key, _ in matched}
    for key, result in resolved.items():
        old = changed.get(key) or known.entries.get(key)
        if key in current or old is None or old.date_evidence is None or not old.date_evidence.inferred:
            continue
        published = _midnight(result.day, zone)
        if (old.published, old.date_evidence) != (published, result.evidence):
            changed[key] = replace(old, published=published, date_evidence=result.evidence, updated=seen_at)

    listed_tombstones = frozenset(identity(post) for post in posts) & known.tombstones
    return Diff(
        new=tuple(new),
        changed=tuple(changed.values()),
        seen=len(posts),
        listing=listing,
        listed_tombstones=listed_tombstones,
    )


def _match(known: Known, posts: Iterable[Post], zone: ZoneInfo) -> list[tuple[str, Post]]:
    """Each post with its identity: known ones first by key, then untitled ones by text."""
    out: list[tuple[str, Post]] = []
    taken: set[str] = set()
    posts = list(posts)
    for post, key in zip(posts, identities(posts, known), strict=True):
        if key not in known.entries:
            key = _same_text(known, post, zone) or key
        if key in taken or key in known.tombstones:
            continue
        taken.add(key)
        out.append((key, post))
    return out


def _same_text(known: Known, post: Post, zone: ZoneInfo) -> str | None:
    """The known entry this post is, when one of the two had to make up its title."""
    if post.date is None:
        return None
    prefix = words(post.summary)[:_SAME_TEXT_PREFIX]
    if len(prefix) < _SAME_TEXT_PREFIX:
        return None
    for key, entry in known.entries.items():
        if not (post.title_derived or entry.title_derived) or entry.published is None:
            continue
        shown = entry.published.astimezone(zone)
        if (shown.month, shown.day) == (post.date.month, post.date.day) and words(entry.summary).startswith(prefix):
            return key
    return None


def _listing(matched: Sequence[tuple[str, Post]], seen_at: datetime) -> Listing | None:
    items = tuple(
        ListingItem(key, post.date.month, post.date.day, post.date.year) for key, post in matched if post.date
    )
    return Listing(fetched_at=seen_at, items=items) if items else None


def _resolve_dates(
    known: Known, matched: Sequence[tuple[str, Post]], listing: Listing | None, zone: ZoneInfo
) -> dict[str, years.Resolved]:
    """Full dates for every post on this page and every known entry whose year was inferred."""
    listings = (*known.listings, listing) if listing else known.listings
    explicit = {
        key: entry.published.astimezone(zone).date()
        for key, entry in known.entries.items()
        if entry.published is not None and entry.date_evidence is not None and not entry.date_evidence.inferred
    }
    explicit.update(years.full_dates(listings))
    resolved = years.resolve(listings, explicit, zone)
    for key, post in matched:
        if post.date is not None and post.date.year is None and key in explicit:
            resolved[key] = years.Resolved(explicit[key], DateEvidence.SAME_POST)
    return resolved


def _published(
    post: Post, resolved: years.Resolved | None, zone: ZoneInfo
) -> tuple[datetime | None, DateEvidence | None]:
    shown = post.date
    if shown is None:
        return None, None
    if shown.year is not None:
        try:
            day, evidence = date(shown.year, shown.month, shown.day), DateEvidence.PAGE
        except ValueError:
            return None, None
    elif resolved is not None:
        day, evidence = resolved.day, resolved.evidence
    else:
        return None, None
    clock = time(shown.hour or 0, shown.minute or 0)
    return datetime.combine(day, clock, zone).astimezone(UTC), evidence


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), zone).astimezone(UTC)


def _new_entry(
    source: str,
    key: str,
    post: Post,
    published: datetime | None,
    evidence: DateEvidence | None,
    seen_at: datetime,
) -> Entry:
    return Entry(
        source=source,
        identity=key,
        title=post.title,
        summary=post.summary,
        first_seen=seen_at,
        updated=seen_at,
        published=published,
        date_evidence=evidence,
        author=post.author,
        link=post.link,
        title_derived=post.title_derived,
        categories=post.categories,
        summary_html=post.summary_html,
    )


def _merge(old: Entry, post: Post, published: datetime | None, evidence: DateEvidence | None) -> Entry:
    """``old`` with what this sighting says better; unchanged fields stay identical."""
    merged = old
    keeps_real_title = post.title_derived and not old.title_derived
    title_differs = (normalize(post.title), post.title_derived) != (normalize(old.title), old.title_derived)
    if title_differs and not keeps_real_title:
        merged = replace(merged, title=post.title, title_derived=post.title_derived)
    if _summary_changed(old.summary, post.summary):
        merged = replace(merged, summary=post.summary, summary_html=post.summary_html)
    if post.author and post.author != old.author:
        merged = replace(merged, author=post.author)
    if post.link and post.link != old.link:
        merged = replace(merged, link=post.link)
    if post.categories and post.categories != old.categories:
        merged = replace(merged, categories=post.categories)
    settled = post.date_relative and old.published is not None  # "2小时前" drifts; the first reading stands
    if published is not None and evidence is not None and not settled and _better_date(old, published, evidence):
        merged = replace(merged, published=published, date_evidence=evidence)
    return merged


def _summary_changed(old: str, new: str) -> bool:
    """A real change of text, not punctuation, white space or a different truncation."""
    if old == new:
        return False
    a, b = words(old), words(new)
    return not (a.startswith(b) or b.startswith(a))


def _better_date(old: Entry, published: datetime, evidence: DateEvidence) -> bool:
    if old.published is None or old.date_evidence is None:
        return True
    if published == old.published:
        return evidence.rank < old.date_evidence.rank
    # a shown or same-post date always replaces an inferred one; inferred dates follow
    # the latest resolution; a shown date replaces a shown one (the site corrected it)
    return not evidence.inferred or old.date_evidence.inferred


def _normal_link(link: str) -> str:
    parts = urlsplit(link.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
