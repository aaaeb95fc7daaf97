"""What one full-text article costs (``full_text = true``): time and memory of taking its main text.

    python3 -m bench.full_text [--runs N] [--real DIR]

1. Extraction (``extract.article.main_text``, trafilatura) and cleaning (``feeds.sanitize.html``, what
   rendering adds) on synthetic blog articles of realistic sizes, and on the real pages of
   ``../shared/realpages/pages`` (listing pages: real markup, but not articles). Median of ``--runs``
   runs; memory as the peak of Python's allocations (tracemalloc, one extra run) and as the growth of
   the peak resident set (``VmHWM``) of a fresh process that extracts the page once after a warm-up
   (it also counts what libxml2 allocates, which tracemalloc does not see; Linux only).
2. One whole refresh step on a local site: ``full_text.fill`` fetching ten 41 KB articles (the typical
   post above) over HTTP (127.0.0.1), extracting and storing each in SQLite: wall time per article.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tools import median_ms  # noqa: E402
from feedsvc import fetch  # noqa: E402
from feedsvc.config import Source  # noqa: E402
from feedsvc.extract import article  # noqa: E402
from feedsvc.feeds import sanitize  # noqa: E402
from feedsvc.model import Diff, Entry, SourceStatus  # noqa: E402
from feedsvc.refresh import full_text  # noqa: E402
from feedsvc.store import Store  # noqa: E402
from tests.support import local_http  # noqa: E402

REAL_PAGES = ROOT.parent / "shared" / "realpages" / "pages"
URL = "https://blog.example/2024/03/a-post.html"
SENTENCE = "the quick analysis of feeds shows that readers prefer whole articles to teasers when they travel"


@dataclass(frozen=True)
class Row:
    name: str
    size: int  # bytes of HTML
    extract_ms: float
    sanitize_ms: float
    text_chars: int
    traced_mb: float  # tracemalloc peak during extraction
    rss_mb: float | None  # growth of the peak resident set during extraction


def synthetic_article(words: int, comments: int) -> str:
    """A blog article page as engines render them: head with inline CSS and scripts, navigation, the post
    (paragraphs, headings, a list, a quote, code), a sidebar, a comment thread and a footer."""
    sentence = SENTENCE
    paragraphs = []
    for n in range(max(1, words // 80)):
        body = " ".join([sentence] * 5)
        paragraphs.append(f'<p>{body} <a href="/2024/0{n % 9 + 1}/related-{n}.html">related {n}</a>.</p>')
        if n % 6 == 5:
            paragraphs.append(f"<h2>Section {n // 6}</h2><ul><li>point one</li><li>point two</li></ul>")
        if n % 9 == 8:
            paragraphs.append(f"<blockquote><p>{sentence}</p></blockquote><pre><code>x = {n}\n</code></pre>")
    thread = "".join(
        f'<li class="comment"><div class="comment-author"><img src="/avatar/{n}.png"> reader{n}</div>'
        f'<div class="comment-body"><p>{sentence}</p></div><a class="reply" href="#c{n}">Reply</a></li>'
        for n in range(comments)
    )
    sidebar = "".join(f'<li><a href="/tag/t{n}">tag {n}</a></li>' for n in range(40))
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>A post</title>"
        f"<style>{'.c{color:#333;margin:0 auto} ' * 400}</style>"
        f"<script>{'window.dataLayer=window.dataLayer||[];' * 200}</script></head><body>"
        "<header class=site-header><nav><a href='/'>Home</a><a href='/archive'>Archive</a><a href='/about'>About</a>"
        "</nav></header><main><article class='post'><h1 class='entry-title'>A post</h1>"
        "<div class='entry-meta'><time datetime='2024-03-20'>20 March 2024</time> by Someone</div>"
        f"<div class='entry-content'>{''.join(paragraphs)}</div></article>"
        f"<section id=comments><h3>{comments} comments</h3><ol>{thread}</ol></section></main>"
        f"<aside class=sidebar><h3>Tags</h3><ul>{sidebar}</ul></aside>"
        "<footer>© 2024 · <a href='/privacy'>Privacy</a></footer></body></html>"
    )


SYNTHETIC = {
    "short post (600 words)": (600, 5),
    "typical post (2,000 words, 20 comments)": (2000, 20),
    "long post (8,000 words, 100 comments)": (8000, 100),
    "very long (30,000 words, 1,000 comments)": (30000, 1000),
}


def measure(name: str, page: str, url: str, runs: int) -> Row:
    text = _extracted(page, url)
    extract_ms = median_ms(lambda: _extracted(page, url), runs)
    sanitize_ms = median_ms(lambda: sanitize.html(text), runs) if text else 0.0
    tracemalloc.start()
    _extracted(page, url)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = _rss_growth(page, url)
    return Row(name, len(page.encode()), extract_ms, sanitize_ms, len(text), traced / 1e6, rss)


def _extracted(page: str, url: str) -> str:
    try:
        return article.main_text(page, url)
    except article.NoMainText:
        return ""


def _rss_growth(page: str, url: str) -> float | None:
    """MB a fresh process's peak resident set grows by while it extracts ``page`` once (Linux), or None."""
    if not Path("/proc/self/status").exists():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as file:
        file.write(page)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-m", "bench.full_text", "--rss-of", file.name, url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        return float(done.stdout.strip())
    except ValueError:
        return None


def _rss_of(path: Path, url: str) -> None:
    """(the child of ``_rss_growth``) print the MB the peak resident set grows by for one extraction."""
    page = path.read_text(encoding="utf-8")
    _extracted(synthetic_article(600, 5), URL)  # trafilatura's lazy set-up is not the page's cost
    before = _status_kb("VmRSS")
    _extracted(page, url)
    print(f"{max(0, _status_kb('VmHWM') - before) / 1000:.1f}")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def fill_on_a_local_site(articles: int = 10) -> tuple[float, int]:
    """Seconds ``full_text.fill`` takes for ``articles`` typical (41 KB) articles on 127.0.0.1; how many it filled."""
    page = synthetic_article(2000, 20).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    now = datetime(2024, 3, 20, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/bench.db") as store, local_http(Handler) as base:
        source = Source(name="blog", title="blog", url=f"{base}/", full_text=True, full_text_per_refresh=articles)
        posts = tuple(
            Entry("blog", f"p{n}", f"Post {n}", "teaser", now, now, now, link=f"{base}/posts/{n}.html")
            for n in range(articles)
        )
        store.apply("blog", Diff(new=posts, seen=articles), SourceStatus(now, ok=True))
        started = time.perf_counter()
        report = full_text.fill(store, source, lambda: now)
        return time.perf_counter() - started, report.ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page (default: 5)")
    parser.add_argument("--real", type=Path, default=REAL_PAGES, help="a directory of real HTML pages")
    parser.add_argument("--rss-of", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_of:
        _rss_of(Path(args.rss_of[0]), args.rss_of[1])
        return 0
    _extracted(synthetic_article(600, 5), URL)  # warm up: trafilatura's lazy set-up is not a page's cost
    print("| page | HTML | extract ms | sanitise ms | text chars | traced MB | RSS peak +MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (words, comments) in SYNTHETIC.items():
        _print(measure(name, synthetic_article(words, comments), URL, args.runs))
    real = sorted(args.real.glob("*.html")) if args.real.is_dir() else []
    rows = [
        measure(path.stem, fetch.decode(path.read_bytes(), None), f"https://{path.stem}.example/", args.runs)
        for path in real
    ]
    if rows:
        times = sorted(row.extract_ms for row in rows)
        rss = sorted(row.rss_mb for row in rows if row.rss_mb is not None)
        biggest = max(rows, key=lambda row: row.size)
        print(
            f"\n{len(rows)} real pages ({sum(r.size for r in rows) / 1e6:.1f} MB): extract median "
            f"{statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9)]:.1f} ms, max {times[-1]:.1f} ms; "
            f"RSS peak growth median {statistics.median(rss) if rss else float('nan'):.1f} MB, "
            f"max {rss[-1] if rss else float('nan'):.1f} MB"
        )
        _print(biggest)
    seconds, filled = fill_on_a_local_site()
    print(f"\nfull_text.fill, 10 articles of 41 KB on 127.0.0.1 (fetch + extract + store, no host gap): "
          f"{seconds:.2f} s, {seconds / max(filled, 1) * 1000:.0f} ms per article ({filled} filled)")
    return 0


def _print(row: Row) -> None:
    rss = "n/a" if row.rss_mb is None else f"{row.rss_mb:.1f}"
    print(
        f"| {row.name} | {row.size / 1000:.0f} KB | {row.extract_ms:.1f} | {row.sanitize_ms:.1f} | "
        f"{row.text_chars:,} | {row.traced_mb:.1f} | {rss} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
