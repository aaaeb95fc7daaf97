"""What reading embedded state costs: time and peak memory of ``app_state.posts`` on typical and hostile pages.

    python3 -m bench.app_state [--runs N]

Each case is a page made here (no network): a Next.js-style ``__NEXT_DATA__`` of 50 posts with
the usual clutter (~60 KB), the same at 1,000 posts (~1.2 MB), a ``window.__INITIAL_STATE__``
assignment of 1,000 posts, and the bounds: a 5 MB blob of 250,000 small objects (the largest read),
a 50 MB blob (skipped unread), JSON nested 100,000 deep, and a Nuxt 3 devalue array whose every
object refers twice to the next (2^200 paths). The page is parsed once, outside the timing; each run
reads its state afresh. Prints the median milliseconds and the peak Python memory (tracemalloc)
of one run; the figures are kept in ``bench/app_state.md``.
"""

from __future__ import annotations

import argparse
import json
import tracemalloc
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.tools import median_ms
from feedsvc.extract import app_state
from feedsvc.extract.page import Page
from feedsvc.model import Snapshot


def _posts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "title": f"Post number {n}: notes on building things",
            "slug": f"post-{n}",
            "href": f"/blog/post-{n}",
            "publishedAt": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00.000Z",
            "author": {"name": "Ann Writer", "avatar": {"url": "/a.png", "width": 64, "height": 64}},
            "excerpt": "<p>A short excerpt of the post, as CMSs send it, with <em>markup</em>.</p>",
            "tags": [{"name": "engineering", "slug": "engineering"}, {"name": "notes", "slug": "notes"}],
        }
        for n in range(count)
    ]


def _next_page(count: int) -> str:
    data = {"props": {"pageProps": {"posts": _posts(count), "nav": [{"title": "Home", "href": "/"}]}}, "page": "/blog"}
    blob = json.dumps(data)
    return f'<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{blob}</script>'


def _assigned_page(count: int) -> str:
    return f"<html><body><script>window.__INITIAL_STATE__ = {json.dumps({'feed': _posts(count)})};</script>"


def _json_page(blob: str, script_id: str = "state") -> str:
    return f'<html><body><script id="{script_id}" type="application/json">{blob}</script></body></html>'


def cases() -> list[tuple[str, str]]:
    """(name, page) per case."""
    doubling: list[Any] = [{"a": n + 1, "b": n + 1} for n in range(200)] + [{"title": "end"}]
    return [
        ("`__NEXT_DATA__`, 50 posts", _next_page(50)),
        ("`__NEXT_DATA__`, 1,000 posts", _next_page(1000)),
        ("`window.__INITIAL_STATE__`, 1,000 posts", _assigned_page(1000)),
        ("3.6 MB blob of 250,000 objects", _json_page(json.dumps({"rows": [{"n": n} for n in range(250_000)]}))),
        ("50 MB blob (skipped)", _json_page('{"pad": "' + "x" * 50_000_000 + '"}')),
        ("nested 100,000 deep", _json_page("[" * 100_000 + "]" * 100_000)),
        ("devalue, 2^200 paths", _json_page(json.dumps(doubling), "__NUXT_DATA__")),
    ]


def measure(page_text: str, runs: int) -> tuple[int, int, float, float]:
    """(page characters, posts found, median ms, peak MB) for one page."""
    snapshot = Snapshot("https://example.org/blog", page_text, "text/html", datetime(2024, 6, 1, tzinfo=UTC))
    page = Page(snapshot, ZoneInfo("UTC"))
    _ = page.scripts  # parsed once, outside the timing
    found = app_state.posts(page)
    milliseconds = median_ms(lambda: app_state.posts(page), runs)
    tracemalloc.start()
    app_state.posts(page)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return len(page_text), len(found), milliseconds, peak / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default: 5)")
    args = parser.parse_args(argv)
    print("| case | page chars | posts | median ms | peak MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, text in cases():
        chars, found, milliseconds, peak = measure(text, args.runs)
        print(f"| {name} | {chars:,} | {found} | {milliseconds:.1f} | {peak:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
