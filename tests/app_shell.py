"""A script app's site for the browser tests and bench: an app shell whose list a script builds.

``app_shell_sites()`` serves, on 127.0.0.1, an app shell (an empty ``<div id="root">``, an image,
a video, a stylesheet with a web font) and a script that fetches ``/api/posts.json`` and builds
the list from it; ``/static`` is the same list already in the HTML (what a plain fetch reads).
A second site, on another port, stands for an internal address the script tries to reach. Both
record every path they are asked for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support import local_http

TITLES = ["Tide tables for March", "Mending a dry-stone wall", "The heron came back"]
SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Field notes</title>
<link rel="stylesheet" href="/style.css"></head>
<body><div id="root"></div>
<img src="/banner.png" alt=""><video src="/clip.mp4" autoplay muted></video>
<script src="/app.js"></script></body></html>
"""
STYLE = "@font-face { font-family: Serif2; src: url(/serif.woff2); } body { font-family: Serif2; }"
APP = """
fetch("OTHER/steal").catch(() => null);  // another host on a private address: refused
fetch("/api/posts.json").then(r => r.json()).then(posts => {
  document.getElementById("root").innerHTML = '<ul class="posts">' + posts.map(p =>
    '<li class="post"><h2><a href="' + p.link + '">' + p.title + '</a></h2>' +
    '<time datetime="' + p.date + '">' + p.date + '</time><p>' + p.summary + '</p></li>').join("") + "</ul>";
});
"""
POSTS = (
    "["
    + ",".join(
        f'{{"title": "{title}", "link": "/notes/{n}", "date": "2024-03-0{n}", "summary": "Notes, part {n}, in words."}}'
        for n, title in enumerate(TITLES, 1)
    )
    + "]"
)


@dataclass
class Site:
    """The app's site: what it serves at each path, and every path it was asked for."""

    url: str = ""
    asked: list[str] = field(default_factory=list)
    down: bool = False  # the page answers 503 with Retry-After
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return list(self.asked)


def _handler(site: Site, pages: Callable[[], dict[str, tuple[str, bytes]]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with site.lock:
                site.asked.append(self.path)
            if self.path == "/" and site.down:
                self.send_response(503)
                self.send_header("Retry-After", "120")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            found = pages().get(self.path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind, body = found
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


STATIC = SHELL.replace(
    '<div id="root"></div>',
    '<div id="root"><ul class="posts">'
    + "".join(
        f'<li class="post"><h2><a href="/notes/{n}">{title}</a></h2><time datetime="2024-03-0{n}">2024-03-0{n}</time>'
        f"<p>Notes, part {n}, in words.</p></li>"
        for n, title in enumerate(TITLES, 1)
    )
    + "</ul></div>",
).replace('<script src="/app.js"></script>', "")


@contextmanager
def app_shell_sites() -> Iterator[tuple[Site, Site]]:
    """(the app's site, the other site); the app's ``url`` is its shell page."""
    app, other = Site(), Site()
    with local_http(_handler(other, dict)) as other_url:
        other.url = other_url

        def pages() -> dict[str, tuple[str, bytes]]:
            return {
                "/": ("text/html; charset=utf-8", SHELL.encode()),
                "/static": ("text/html; charset=utf-8", STATIC.encode()),
                "/style.css": ("text/css", STYLE.encode()),
                "/app.js": ("text/javascript", APP.replace("OTHER", other_url).encode()),
                "/api/posts.json": ("application/json", POSTS.encode()),
            }

        with local_http(_handler(app, pages)) as app_url:
            app.url = app_url + "/"
            yield app, other


def chromium_processes(root: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of the chromium processes descending from ``root`` (this process)."""
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        for _ in range(20):
            pid = parents.get(pid, 0)
            if pid == root:
                return True
            if pid <= 1:
                return False
        return False

    return [(pid, command) for pid, command in commands.items() if "chrom" in command.split(" ")[0] and descends(pid)]
