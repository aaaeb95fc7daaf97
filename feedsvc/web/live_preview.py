"""The add-site page's live preview: fetch a page once, then show what each layout makes of it.

``run(source, now, allow_private)`` fetches like a refresh (``fetch.get``: the same body size and
time limits), reads the page with the source's layout (auto by default) and with every other
layout (the candidates, to switch to), resolves dates as the first refresh would (``differ.diff``
against an empty store) and returns plain JSON-ready data. Nothing is stored. Errors become a
readable ``error`` (the URL refused, the site unreachable, no posts, a bad selector).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feedsvc import differ, extract, fetch, outbound, urls
from feedsvc.config import Source
from feedsvc.errors import ExtractError, FeedsvcError
from feedsvc.extract import html_blocks
from feedsvc.extract.page import Page
from feedsvc.extract.selectors import invalid
from feedsvc.model import Known, Snapshot, Validators
from feedsvc.user_sources import check_url

MAX_POSTS = 100  # shown in the preview
SAMPLE = 3  # titles shown per candidate
LISTS = 6  # candidate lists shown


def run(source: Source, now: datetime, allow_private: bool) -> dict[str, Any]:
    """``{url, layout, posts: [{title, date, link, summary}], candidates: [...], lists: [...], feed_url, error}``:
    ``candidates`` are the layouts that read the page, ``lists`` the repeated lists auto mode weighed."""
    answer: dict[str, Any] = {
        "url": source.url, "layout": None, "posts": [], "candidates": [], "lists": [], "error": None,
    }  # fmt: skip
    try:
        check_url(source.url, allow_private)  # a readable refusal before any request
        # every hop checked and pinned (outbound.py), the source's own host not exempt: a user typed it
        snapshot = fetch.get(source, Validators(), now, policy=outbound.Policy(allow_private=allow_private))
        if snapshot is None:  # pragma: no cover - no validators sent, so no 304
            raise ExtractError("the site answered 304 Not Modified to a request without validators")
    except FeedsvcError as exc:
        answer["error"] = f"{_kind(exc)}: {exc}"
        return answer
    answer["url"] = snapshot.url
    answer["candidates"] = _candidates(snapshot, source)
    answer["lists"] = _lists(snapshot, source)
    try:
        found = extract.extract(snapshot, source.layout, selectors=source.selectors, zone=source.zone)
    except FeedsvcError as exc:
        answer["error"] = f"{_kind(exc)}: {exc}"
        return answer
    answer["layout"] = found.layout
    answer["feed_url"] = found.feed_url
    answer["posts"] = _posts(found.posts, source, snapshot, now)
    return answer


def _posts(posts: list[Any], source: Source, snapshot: Snapshot, now: datetime) -> list[dict[str, Any]]:
    zone = source.zone
    entries = {entry.identity: entry for entry in differ.diff(Known(), posts, now, zone, source.name).new}
    shown = []
    for post in posts[:MAX_POSTS]:
        entry = entries.get(differ.identity(post))
        published = entry.published if entry is not None else None
        shown.append(
            {
                "title": post.title,
                "date": published.astimezone(zone).isoformat() if published is not None else None,
                "date_shown": post.date_shown,
                "date_evidence": entry.date_evidence.value if entry is not None and entry.date_evidence else None,
                # an entry without a link of its own links to the page it was listed on
                "link": _http(post.link) or _http(snapshot.url),
                "own_link": _http(post.link) is not None,
                "summary": " ".join(post.summary.split())[:200],
            }
        )
    return shown


def _http(url: str | None) -> str | None:
    """``url`` when it is http(s): never a ``javascript:`` link from a hostile page into the admin's page."""
    return urls.link(url)


def _candidates(snapshot: Snapshot, source: Source) -> list[dict[str, Any]]:
    """Every layout's reading of the page: how many posts, the first titles, or why none."""
    out = []
    for name in extract.LAYOUTS:
        if name == "selectors" and source.selectors is None:
            continue
        try:
            found = extract.extract(snapshot, name, selectors=source.selectors, zone=source.zone).posts
        except FeedsvcError as exc:
            out.append({"layout": name, "posts": 0, "titles": [], "error": str(exc)})
            continue
        except Exception as exc:  # a detector's bug must not break the preview of the others
            out.append({"layout": name, "posts": 0, "titles": [], "error": f"{type(exc).__name__}: {exc}"})
            continue
        out.append({"layout": name, "posts": len(found), "titles": [p.title for p in found[:SAMPLE]], "error": None})
    return out


def _lists(snapshot: Snapshot, source: Source) -> list[dict[str, Any]]:
    """The repeated lists html_blocks weighed, best first: each one's CSS path works as ``selectors.item``."""
    if snapshot.media_type != "text/html":
        return []
    try:
        choice = html_blocks.choose(Page(snapshot, source.zone, None))
    except Exception:  # a detector's bug must not break the preview
        return []
    joined = {id(c) for c in choice.joined}
    return [
        {
            "item": candidate.path,
            "records": len(candidate.records),
            "score": round(candidate.score, 1),
            "chosen": candidate is choice.winner or id(candidate) in joined,
            "factors": list(candidate.factors),
        }
        for candidate in choice.considered[:LISTS]
        if not invalid(candidate.path)
    ]


def _kind(exc: FeedsvcError) -> str:
    return {
        "UnsafeURL": "URL refused",
        "AddressRefused": "URL refused",
        "ConfigError": "invalid",
        "ExtractError": "no posts",
        "LayoutChanged": "no posts",
    }.get(type(exc).__name__, "cannot fetch the page")
