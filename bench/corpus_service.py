"""The corpus measured as a user meets it: through the real service, one source per page.

    python3 -m bench.corpus_service [FOLDER] [--keep DIR]

Each page of FOLDER (``../shared/realpages`` by default) is served over local HTTP (as
``text/html``, no charset: the page's own ``<meta>`` decides), configured as one source with
``layout = "auto"``, refreshed through ``POST /api/refresh`` of a real ``feedsvc serve`` process
on a fresh SQLite file, and read back from ``/feeds/<name>.atom?limit=500``; the folder's
``score.py`` scores the feeds. Unlike ``bench.corpus`` (the pipeline alone, with a fetch time
made up for each saved page), this includes fetching, decoding, the store and the Atom feed,
and dates without a year resolve against the real clock. The pages are never copied.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser

from bench.corpus import DEFAULT_FOLDER, ROOT
from bench.tools import free_port

TOKEN = "corpus-bench"


class _Pages(SimpleHTTPRequestHandler):
    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "text/html"

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Pages, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def source_name(page: str) -> str:
    return page.lower().replace(".", "-")


def config_text(site: str, port: int, pages: Sequence[str]) -> str:
    service = (
        f'[service]\nbind = "127.0.0.1:{port}"\ndata_dir = "data"\nserver = "waitress"\n'
        'host_gap = "0s"\nmanual_refresh_gap = "0s"\nallow_private_addresses = true\n'
    )
    sources = "".join(
        f'[[sources]]\nname = "{source_name(page)}"\nurl = "{site}/{page}.html"\ninterval = "1d"\n' for page in pages
    )
    return service + sources


def _get(url: str, method: str = "GET", timeout: float = 600) -> bytes:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as error:  # POST /api/refresh answers 502 when a page failed
        return bytes(error.read())


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"feedsvc exited with {process.returncode}")
        try:
            _get(f"{base}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("feedsvc did not answer within 60 s")


def run(folder: Path, out: Path) -> list[str]:
    """Refresh every page through a real service and write the scorer's input to ``out``; the errors."""
    pages = sorted(path.stem for path in (folder / "pages").glob("*.html"))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="feedsvc-corpus-") as work, _served(folder / "pages") as site:
        config = Path(work) / "feedsvc.toml"
        config.write_text(config_text(site, port, pages), encoding="utf-8")
        env = {**os.environ, "FEEDSVC_REFRESH_TOKEN": TOKEN, "FEEDSVC_LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "feedsvc", "--config", str(config), "serve", "--no-scheduler"]
        with (Path(work) / "service.log").open("wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process)
            answers = json.loads(_get(f"{base}/api/refresh", method="POST"))["sources"]
            errors = [f"{answer['source']}: {answer['error']}" for answer in answers if answer.get("error")]
            for page in pages:
                feed = feedparser.parse(_get(f"{base}/feeds/{source_name(page)}.atom?limit=500"))
                fields = ("title", "link", "published")
                posts = [{field: entry.get(field) for field in fields} for entry in feed.entries]
                (out / f"{page}.json").write_text(json.dumps({"posts": posts}, ensure_ascii=False), encoding="utf-8")
        finally:
            process.terminate()
            process.wait(60)
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER), help="pages/, truth/ and score.py")
    parser.add_argument("--keep", help="write the scorer's input here instead of a temporary folder")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    with tempfile.TemporaryDirectory(prefix="feedsvc-corpus-out-") as temporary:
        out = Path(args.keep or temporary)
        out.mkdir(parents=True, exist_ok=True)
        for error in run(folder, out):
            print(f"failed: {error}")
        scored = subprocess.run([sys.executable, str(folder / "score.py"), str(out)], capture_output=True, text=True)
        print(scored.stdout, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
