"""Serving: wrk against the real ``feedsvc serve``, nginx serving the same bytes, and a bare Flask app.

Every target runs at once, each in its own process; the rounds go round-robin over the targets, so
each round's ratios compare loads taken seconds apart on the same (shared, noisy) machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import pages, tools
from bench.stats import Figure, ratios

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench"
POSTS = 50
THREADS = 8  # feedsvc's default [service] threads, used by every Python server here
CONNECTIONS = (16, 256)  # wrk's concurrent keep-alive connections: a few readers, and many


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # e.g. "feedsvc serve (waitress)"
    url: str
    conditional: dict[str, str] | None  # If-None-Match for the 304 load; None: no 304 load


@dataclass
class ServingResult:
    feed_bytes: int
    entries: int
    rounds: int
    seconds: float
    loads: dict[str, list[tools.Load]] = field(default_factory=dict)  # "<target> 200|304[ @N]" -> per round
    connections: tuple[int, ...] = (16,)  # loads at 16 connections have no " @16" suffix in their key

    def figure(self, key: str, what: str) -> Figure:
        return Figure.of([getattr(load, what) for load in self.loads[key]])

    def ratio(self, numerator: str, denominator: str) -> Figure | None:
        if numerator not in self.loads or denominator not in self.loads:
            return None
        rate = [load.requests_per_second for load in self.loads[numerator]]
        return ratios(rate, [load.requests_per_second for load in self.loads[denominator]])


def key(target: str, status: str, connections: int = 16) -> str:
    """The key of a load in ``ServingResult.loads``: 16 connections (the first ones measured) carry no suffix."""
    return f"{target} {status}" + ("" if connections == 16 else f" @{connections}")


def run(
    workdir: Path, rounds: int, seconds: float, granian: bool = True, connections: tuple[int, ...] = CONNECTIONS
) -> ServingResult:
    absent = tools.missing("nginx", "wrk")
    if absent:
        raise RuntimeError(f"{' and '.join(absent)} not installed: {tools.INSTALL_HINT}")
    with _targets(workdir, granian) as (targets, body, entries):
        result = ServingResult(
            feed_bytes=len(body), entries=entries, rounds=rounds, seconds=seconds, connections=connections
        )
        for target in targets:  # warm up: first requests compile templates, fill caches
            tools.wrk(target.url, 1)
        for _ in range(rounds):
            for count in connections:
                for target in targets:
                    loads = [("200", None)] + ([("304", target.conditional)] if target.conditional else [])
                    for status, headers in loads:
                        load = tools.wrk(target.url, seconds, connections=count, headers=headers)
                        result.loads.setdefault(key(target.name, status, count), []).append(load)
    return result


@contextmanager
def _targets(workdir: Path, granian: bool) -> Iterator[tuple[list[Target], bytes, int]]:
    site = workdir / "site"
    site.mkdir(parents=True)
    page = site / "blog.txt"
    page.write_text(pages.byline_text(POSTS), encoding="utf-8")
    port = tools.free_port()
    conf = _config(workdir, port, page)
    subprocess.run(
        [sys.executable, "-m", "feedsvc", "--config", str(conf), "refresh"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=_env(),
    )
    path = f"/feeds/{SOURCE}.atom"
    with ExitStack() as stack:
        log = stack.enter_context((workdir / "feedsvc.log").open("wb"))
        service = stack.enter_context(
            _process([sys.executable, "-m", "feedsvc", "--config", str(conf), "serve"], log, f"http://127.0.0.1:{port}")
        )
        body, etag = _get(service + path)
        entries = body.count(b"<entry")
        if entries != POSTS:
            raise RuntimeError(f"feedsvc serves {entries} entries, expected {POSTS}: see {workdir / 'feedsvc.log'}")
        static = workdir / "static"
        (static / "feeds").mkdir(parents=True)
        (static / "feeds" / f"{SOURCE}.atom").write_bytes(body)
        body_file = workdir / "body.atom"
        body_file.write_bytes(body)

        nginx = stack.enter_context(tools.nginx(static, workdir))
        targets = [
            Target("nginx (static file)", nginx + path, None),
            Target("feedsvc serve (waitress)", service + path, None),
            Target("bare Flask (waitress)", "", None),
        ]
        servers = ["waitress", "granian"] if granian else ["waitress"]
        for server in servers:
            bare_port = tools.free_port()
            bare = stack.enter_context(_app("bare", server, bare_port, body_file, log))
            targets = [t if t.name != f"bare Flask ({server})" else Target(t.name, bare + path, None) for t in targets]
            if server == "granian":
                app_port = tools.free_port()
                granian_conf = _config(workdir, app_port, page, server="granian", public_port=port)
                command = [sys.executable, "-m", "feedsvc", "--config", str(granian_conf), "serve"]
                app = stack.enter_context(_process(command, log, f"http://127.0.0.1:{app_port}"))
                targets.append(Target("feedsvc serve (granian)", app + path, None))
                targets.append(Target("bare Flask (granian)", bare + path, None))
        # each target's own validator for its 304 load, and a check that it serves the same bytes
        checked: list[Target] = []
        for target in targets:
            served, tag = _get(target.url)
            if served != body:
                raise RuntimeError(f"{target.name} serves other bytes than feedsvc ({len(served)} vs {len(body)})")
            conditional = None
            if not target.name.startswith("bare") and tag is not None:
                conditional = {"If-None-Match": tag}
                if _status(target.url, conditional) != 304:
                    raise RuntimeError(f"{target.name}: no 304 for If-None-Match {tag}")
            checked.append(Target(target.name, target.url, conditional))
        del etag
        yield checked, body, entries


def _config(workdir: Path, port: int, page: Path, server: str = "waitress", public_port: int | None = None) -> Path:
    """A config for one source; ``public_port`` sets base_url, so that two servers render the same bytes."""
    conf = workdir / f"feedsvc-{server}.toml"
    conf.write_text(
        f"""
[service]
bind = "127.0.0.1:{port}"
data_dir = "data"
base_url = "http://127.0.0.1:{public_port or port}"
threads = {THREADS}
server = "{server}"

[[sources]]
name = "{SOURCE}"
title = "Benchmark source ({POSTS} posts)"
url = "{page}"
layout = "byline"
interval = "1d"
timezone = "Asia/Shanghai"
language = "zh-CN"
""",
        encoding="utf-8",
    )
    return conf


def _env() -> dict[str, str]:
    return {**os.environ, "FEEDSVC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}


@contextmanager
def _process(command: list[str], log: object, base: str) -> Iterator[str]:
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=_env())  # type: ignore[arg-type]
    try:
        tools.wait_until_answering(f"{base}/healthz", process=process)
        yield base
    finally:
        tools.stop(process)


def _app(which: str, server: str, port: int, path: Path, log: object) -> Iterator[str]:
    command = [sys.executable, "-m", "bench.apps", which, server, str(port), str(THREADS), str(path)]
    return _process(command, log, f"http://127.0.0.1:{port}")


def _get(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), answer.headers.get("ETag")


def _status(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
