"""WSGI apps for the serving benchmark, run under waitress or granian with the same thread count.

    python -m bench.apps bare     waitress|granian PORT THREADS BODY_FILE   constant bytes: Flask's ceiling
    python -m bench.apps feedsvc  waitress|granian PORT THREADS CONFIG      the feedsvc app, no scheduler

The benchmark measures ``feedsvc serve`` itself (``server = "waitress"`` and ``"granian"``); the
bare app is the framework's ceiling under each server. The ``feedsvc`` app is for profiling by hand
(``$BENCH_GRANIAN_WORKERS``: granian worker processes, default 1).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, Response

ATOM = "application/atom+xml; charset=utf-8"


def bare_app() -> Flask:
    """A Flask app that answers every GET with the same bytes: no work beyond the framework."""
    body = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()
    app = Flask("bare")

    @app.get("/feeds/<name>.atom")
    def feed(name: str) -> Response:
        return Response(body, content_type=ATOM)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def feedsvc_app() -> Flask:
    """The feedsvc web app on the config in ``$BENCH_FEEDSVC_CONFIG`` (the scheduler is not started)."""
    from feedsvc.service import Service

    return Service.from_config(os.environ["BENCH_FEEDSVC_CONFIG"], scheduled=False).app


def main(argv: list[str]) -> int:
    which, server, port, threads, path = argv
    os.environ["BENCH_BODY_FILE" if which == "bare" else "BENCH_FEEDSVC_CONFIG"] = path
    factory = {"bare": "bare_app", "feedsvc": "feedsvc_app"}[which]
    if server == "waitress":
        from waitress import serve

        serve(globals()[factory](), host="127.0.0.1", port=int(port), threads=int(threads), _quiet=True)
    elif server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            f"bench.apps:{factory}",
            factory=True,
            address="127.0.0.1",
            port=int(port),
            interface=Interfaces.WSGI,
            workers=int(os.environ.get("BENCH_GRANIAN_WORKERS", "1")),
            blocking_threads=int(threads),
            websockets=False,
            log_enabled=False,
        ).serve()
    else:
        raise SystemExit(f"unknown server {server!r}: expected waitress or granian")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
