"""``feedsvc serve | worker | refresh | check-config``: wires config, store, app and scheduler."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from feedsvc import __version__, config, logs, refresh
from feedsvc.errors import FeedsvcError
from feedsvc.service import Service, reload_on_sighup, stop_or_exit

DEFAULT_CONFIG = "config/feedsvc.toml"
log = logging.getLogger("feedsvc")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure()
    try:
        settings = config.load(args.config) if args.needs_config else None
        return int(args.command(settings, args))
    except FeedsvcError as exc:
        print(f"feedsvc: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedsvc", description="Feeds for sites that have none.")
    parser.add_argument("--version", action="version", version=f"feedsvc {__version__}")
    parser.add_argument(
        "--config",
        default=os.environ.get("FEEDSVC_CONFIG", DEFAULT_CONFIG),
        help=f"config file (default: $FEEDSVC_CONFIG or {DEFAULT_CONFIG})",
    )
    parser.set_defaults(needs_config=True)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the web app and the scheduler until SIGTERM or Ctrl-C")
    serve.add_argument("--no-scheduler", action="store_true", help="web only: leave refreshing to `feedsvc worker`")
    serve.set_defaults(command=_serve)
    worker = commands.add_parser("worker", help="run the scheduler only (no web server) until SIGTERM or Ctrl-C")
    worker.set_defaults(command=_worker)
    once = commands.add_parser("refresh", help="refresh sources once and print what changed")
    once.add_argument("source", nargs="*", help="source names (default: all)")
    once.set_defaults(command=_refresh)
    check = commands.add_parser("check-config", help="validate the config and exit")
    check.set_defaults(command=_check_config)
    preview = commands.add_parser("preview", help="print the posts a page would yield, to tune a source (no config)")
    preview.add_argument("target", metavar="URL|FILE", help="http(s) URL or local file of a listing page")
    preview.add_argument("--layout", default="auto", choices=config.LAYOUTS, help="layout or detector (default: auto)")
    preview.add_argument(
        "--selectors",
        metavar="TOML",
        help='CSS selectors as a TOML inline table, e.g. \'{item = "article", title = "h2 a"}\'',
    )
    preview.add_argument("--timezone", default="UTC", help="IANA zone of the dates the page shows (default: UTC)")
    preview.add_argument("--json", action="store_true", help="print the layout and every post as JSON")
    preview.add_argument("--explain", action="store_true", help="also show the candidate lists auto mode weighed")
    preview.set_defaults(command=_preview, needs_config=False)
    return parser


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    if settings.server == "granian":
        return _serve_granian(settings, args)
    from waitress import create_server

    from feedsvc.web.waitress_limits import WAITRESS

    service = Service(settings, config_path=args.config, scheduled=not args.no_scheduler)
    server = create_server(
        service.app, host=settings.bind_host, port=settings.bind_port, threads=settings.threads, **WAITRESS
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # waitress's loop catches it and shuts its workers down

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload_on_sighup(service))
    service.start()
    log.info(
        "serving %d source(s) on http://%s:%s (database %s)%s",
        len(settings.sources),
        settings.bind_host,
        server.effective_port,  # type: ignore[union-attr]
        settings.database_url.split("://", 1)[0],
        "" if service.jobs is not None else ", web only (--no-scheduler)",
    )
    try:
        server.run()
    finally:
        stop_or_exit(service)
    return 0


def _serve_granian(settings: config.Settings, args: argparse.Namespace) -> int:
    """granian serves from a worker process, which builds and runs its own ``Service`` from the same
    config file: this process only supervises it (and forwards SIGHUP to it)."""
    from feedsvc import granian_server

    host, port = settings.bind_host, settings.bind_port
    role = "" if not args.no_scheduler else ", web only (--no-scheduler)"
    log.info("serving %d source(s) with granian on http://%s:%s%s", len(settings.sources), host, port, role)
    return granian_server.serve(settings, args.config, scheduled=not args.no_scheduler)


def _worker(settings: config.Settings, args: argparse.Namespace) -> int:
    """The scheduler alone: refreshes due sources (shared with other instances) until SIGTERM or Ctrl-C."""
    service = Service(settings, config_path=args.config)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload_on_sighup(service))
    service.start()
    log.info(
        "worker refreshing %d source(s) as %s (database %s)",
        len(settings.sources),
        refresh.OWNER,
        settings.database_url.split("://", 1)[0],
    )
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        stop_or_exit(service)
    return 0


def _refresh(settings: config.Settings, args: argparse.Namespace) -> int:
    unknown = [name for name in args.source if settings.source(name) is None]
    if unknown:
        print(f"feedsvc: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    service = Service(settings, scheduled=False)
    failed = 0
    try:
        for source in settings.sources:
            if args.source and source.name not in args.source:
                continue
            result = service.runner.refresh_now(source)
            if result.ok:
                what = "not modified" if result.not_modified else f"{result.new} new, {result.changed} updated"
                print(f"{source.name}: {what}, {result.seen} on the page")
            else:
                failed += 1
                print(f"{source.name}: failed: {result.error}")
    finally:
        service.stop()
    return 1 if failed else 0


def _preview(settings: config.Settings | None, args: argparse.Namespace) -> int:
    from feedsvc import preview

    source = preview.source(args.target, args.layout, args.timezone, args.selectors)
    print(preview.report(source, datetime.now(UTC), as_json=args.json, explain=args.explain))
    return 0


def _check_config(settings: config.Settings, args: argparse.Namespace) -> int:
    print(f"{args.config}: ok, {len(settings.sources)} source(s): {', '.join(s.name for s in settings.sources)}")
    return 0
