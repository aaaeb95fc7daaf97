"""A local blog for the full-text tests: a listing page and its article pages, on 127.0.0.1.

    with local_blog(posts) as blog:   blog.url is the listing; blog.requests records every request

The listing answers with an ETag and 304 to a matching If-None-Match. Each post's page is what its
``kind`` says: ``ok`` (an article among navigation, sidebar and footer), ``hostile`` (script,
event handlers, ``javascript:`` links), ``slow`` (answers only once the test ends: beyond any
timeout), ``missing`` (404), ``huge`` (more bytes than any source here accepts), ``off-site``
(a link to another host, which must never be fetched) or ``redirect`` (302 to another local port,
an address outbound requests may not reach).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support import local_http

LISTING_ETAG = '"listing-v1"'
HUGE_BYTES = 3_000_000


@dataclass(frozen=True)
class Post:
    slug: str
    kind: str = "ok"  # ok, hostile, slow, missing, huge, off-site, redirect
    day: int = 1

    @property
    def title(self) -> str:
        return f"Post {self.slug}"

    def article_text(self) -> str:
        """A sentence only the article page holds (never the listing's teaser)."""
        return f"The whole story of {self.slug} is told here in full"


@dataclass
class Blog:
    posts: list[Post]
    url: str = ""
    base: str = ""
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)  # path, headers, status
    release: threading.Event = field(default_factory=threading.Event)  # lets the slow article answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def article_url(self, post: Post) -> str:
        return f"{self.base}/blog/posts/{post.slug}.html"

    def asked(self, path: str) -> list[tuple[str, dict[str, str], int]]:
        with self.lock:
            return [request for request in self.requests if request[0] == path]

    def article_requests(self) -> list[str]:
        with self.lock:
            return [path for path, _, _ in self.requests if path.startswith("/blog/posts/")]


def listing(blog: Blog) -> bytes:
    items = []
    for post in blog.posts:
        href = "https://elsewhere.example/story.html" if post.kind == "off-site" else f"/blog/posts/{post.slug}.html"
        items.append(
            f'<article class="post"><h2><a href="{href}">{post.title}</a></h2>'
            f'<time datetime="2024-03-{post.day:02d}">2024-03-{post.day:02d}</time>'
            f'<p class="excerpt">Teaser of {post.slug}…</p></article>'
        )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>A blog</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav><main>" + "".join(items) + "</main>"
        "<footer>© A blog</footer></body></html>"
    ).encode()


def article(post: Post) -> bytes:
    paragraphs = "".join(
        f"<p>{post.article_text()}, paragraph {n}: a good many words follow, so that the text reads as the "
        f"main content of the page rather than as navigation or boilerplate around it.</p>"
        for n in range(1, 6)
    )
    if post.kind == "hostile":
        paragraphs += (
            '<p onclick="steal()">A paragraph with a handler and <a href="javascript:alert(1)">a script link</a>'
            " and <script>alert(2)</script> a script, long enough to be kept as part of the main text.</p>"
            '<p>Another <a href="/blog/other.html" onmouseover="steal()">relative link</a> that the text keeps, '
            "made absolute, in a paragraph that is long enough to count.</p>"
        )
    return (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{post.title}</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/tags'>Tags</a></nav></header>"
        f"<main><article><h1>{post.title}</h1>{paragraphs}</article></main>"
        "<aside class='sidebar'><h3>Recent</h3><ul><li><a href='/x'>Sidebar link one</a></li></ul></aside>"
        "<footer>© A blog · <a href='/privacy'>Privacy</a></footer></body></html>"
    ).encode()


@contextmanager
def local_blog(posts: list[Post]) -> Iterator[Blog]:
    blog = Blog(posts)
    by_path = {f"/blog/posts/{post.slug}.html": post for post in posts}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            post = by_path.get(self.path)
            if self.path == "/blog/":
                if self.headers.get("If-None-Match") == LISTING_ETAG:
                    self._answer(304, b"", {"ETag": LISTING_ETAG})
                else:
                    self._answer(200, listing(blog), {"ETag": LISTING_ETAG})
            elif post is None or post.kind == "missing":
                self._answer(404, b"<html><body><h1>Not found</h1></body></html>")
            elif post.kind == "slow":
                self._record(200)
                blog.release.wait(60)  # answers after the client gave up: the test's end releases it
                self._send(200, article(post), {}, record=False)
            elif post.kind == "redirect":
                self._answer(302, b"", {"Location": "http://127.0.0.1:9/internal/secret"})
            elif post.kind == "huge":
                self._answer(200, b"<html><body>" + b"<p>word word word</p>" * (HUGE_BYTES // 21) + b"</body></html>")
            else:
                self._answer(200, article(post))

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self._send(status, body, headers or {})

        def _record(self, status: int) -> None:
            with blog.lock:
                blog.requests.append((self.path, dict(self.headers.items()), status))

        def _send(self, status: int, body: bytes, headers: dict[str, str], record: bool = True) -> None:
            if record:
                self._record(status)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout, a refused size): that is the point

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Handler) as base:
        blog.base = base
        blog.url = f"{base}/blog/"
        try:
            yield blog
        finally:
            blog.release.set()
