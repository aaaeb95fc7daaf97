"""``feedsvc preview URL|FILE``: the posts a source would yield, as a table, before it is added.

Fetches like a refresh (``fetch.get``), extracts (``extract.extract``) and resolves dates as the
differ would for a new source (``differ.diff`` against an empty store), then prints one row per
post: date and how it was resolved, title, link and the first words of the summary, under a
header naming the layout or detector that matched and the feed the page announces, if any.
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc import differ, extract, fetch
from feedsvc.config import Source, parse_fetch, parse_selectors
from feedsvc.errors import ConfigError, FetchError
from feedsvc.extract.selectors import Selectors
from feedsvc.model import Entry, Known, Post, Validators

SUMMARY_WIDTH = 40
TITLE_WIDTH = 36
LINK_WIDTH = 50


def source(
    target: str,
    layout: str = "auto",
    timezone: str = "UTC",
    selectors: str | None = None,
    fetch: str = "http",
    wait_for: str | None = None,
) -> Source:
    """A temporary source for ``target`` (an http(s) URL or a local file); ConfigError for a bad option.

    ``selectors`` is a TOML inline table, as in the config: ``{item = "article", title = "h2 a"}``.
    ``fetch = "browser"`` renders the page in headless Chromium first, waiting for ``wait_for`` when given.
    """
    url = target if target.startswith(("http://", "https://")) else str(Path(target.removeprefix("file://")).resolve())
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone: unknown zone {timezone!r}") from None
    parsed = _selectors(selectors) if selectors else None
    if parsed is not None and layout == "auto":
        layout = "selectors"
    table: dict[str, Any] = {"name": "preview", "url": url, "fetch": fetch}
    if wait_for is not None:
        table["wait_for"] = wait_for
    try:
        fetch, wait_for = parse_fetch(table, "preview", url)
    except ConfigError as exc:  # named as the options are: --fetch, --wait-for
        words = str(exc).replace("preview.wait_for", "--wait-for").replace("preview.fetch", "--fetch")
        raise ConfigError(words) from None
    return Source(
        name="preview",
        title="preview",
        url=url,
        layout=layout,
        timezone=timezone,
        selectors=parsed,
        fetch=fetch,
        wait_for=wait_for,
    )


def _selectors(text: str) -> Selectors:
    try:
        table = tomllib.loads(f"selectors = {text}")["selectors"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--selectors: expected a TOML inline table like '{{item = \"article\"}}': {exc}") from None
    return parse_selectors(table, "--selectors")


def report(preview_source: Source, now: datetime, *, as_json: bool = False, explain: bool = False) -> str:
    """The table ``feedsvc preview`` prints (or its JSON, with ``as_json``; with ``explain``, how auto
    mode chose); raises FetchError or ExtractError when there is nothing to show."""
    snapshot = fetch.get(preview_source, Validators(), now)
    if snapshot is None:  # pragma: no cover - no validators are sent, so no 304
        raise FetchError(f"{preview_source.url}: not modified")
    zone = preview_source.zone
    layout, selectors = preview_source.layout, preview_source.selectors
    reasons = extract.explain(snapshot, layout, selectors=selectors, zone=zone) if explain else None
    result = extract.extract(snapshot, layout, selectors=selectors, zone=zone)
    entries = {entry.identity: entry for entry in differ.diff(Known(), result.posts, now, zone, "preview").new}
    if as_json:
        return json.dumps(
            _as_data(snapshot.url, preview_source, result, entries, reasons), ensure_ascii=False, indent=1
        )
    table = _table_report(snapshot.url, preview_source, result, entries)
    return table if reasons is None else "\n".join([table, "", "how auto mode chose:", *reasons])


def _as_data(
    url: str,
    preview_source: Source,
    result: extract.Extraction,
    entries: dict[str, Entry],
    reasons: list[str] | None,
) -> dict[str, Any]:
    zone = preview_source.zone
    posts = []
    for post, key in zip(result.posts, differ.identities(result.posts), strict=True):
        entry = entries.get(key)
        resolved, how = _date(post, entry, zone)
        posts.append(
            {
                "title": post.title,
                "link": post.link,
                "date_shown": post.date_shown,
                "date": None if resolved == "-" else resolved,
                "date_how": how,
                "author": post.author,
                "summary": post.summary,
            }
        )
    data: dict[str, Any] = {
        "url": url,
        "layout": result.layout,
        "auto_detected": preview_source.layout == "auto",
        "fetch": preview_source.fetch,
        "timezone": zone.key,
        "feed_url": result.feed_url,
        "posts": posts,
    }
    if reasons is not None:
        data["explain"] = reasons
    return data


def _table_report(url: str, preview_source: Source, result: extract.Extraction, entries: dict[str, Entry]) -> str:
    zone = preview_source.zone
    snapshot_url = url
    header = [
        f"{snapshot_url}",
        f"layout: {result.layout}"
        + (" (auto-detected)" if preview_source.layout == "auto" else "")
        + f", {len(result.posts)} post(s), dates in {zone.key}"
        + (", rendered in headless Chromium" if preview_source.fetch == "browser" else ""),
    ]
    if result.feed_url:
        header.append(f"note: the page announces its own feed: {result.feed_url}")
    rows = [["#", "date", "resolved", "title", "link", "summary"]]
    for number, (post, key) in enumerate(zip(result.posts, differ.identities(result.posts), strict=True), start=1):
        entry = entries.get(key)
        rows.append(
            [
                str(number),
                *_date(post, entry, zone),
                _cut(post.title, TITLE_WIDTH),
                _cut(post.link or "", LINK_WIDTH),
                _cut(post.summary, SUMMARY_WIDTH),
            ]
        )
    return "\n".join([*header, "", *_table(rows)])


def _date(post: Post, entry: Entry | None, zone: ZoneInfo) -> tuple[str, str]:
    if post.date is None or entry is None or entry.published is None:
        return "-", "no date shown" if post.date is None else "no year yet"
    local = entry.published.astimezone(zone)
    shown = local.strftime("%Y-%m-%d %H:%M") if post.date.hour is not None else local.strftime("%Y-%m-%d")
    how = entry.date_evidence.value if entry.date_evidence else "page"
    if post.date_shown:
        how = "relative to the fetch" if post.date_relative else how
        how += f" {post.date_shown!r}"
    return shown, how


def _cut(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` columns wide (CJK characters take two)."""
    text = " ".join(text.split())
    out, used = [], 0
    for char in text:
        size = _width(char)
        if used + size > width - 1 and used + size + sum(_width(c) for c in text[len(out) + 1 :]) > width:
            return "".join(out) + "…"
        out.append(char)
        used += size
    return "".join(out)


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(sum(_width(c) for c in row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (width - sum(_width(c) for c in cell)) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines
