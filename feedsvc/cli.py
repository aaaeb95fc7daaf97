"""``feedsvc serve | refresh | check-config``: wires config, store, app and scheduler."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from feedsvc import __version__, config, refresh, scheduler
from feedsvc.errors import FeedsvcError
from feedsvc.store import Store

DEFAULT_CONFIG = "config/feedsvc.toml"
log = logging.getLogger("feedsvc")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("FEEDSVC_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = config.load(args.config)
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
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the web app and the scheduler until SIGTERM or Ctrl-C")
    serve.set_defaults(command=_serve)
    once = commands.add_parser("refresh", help="refresh sources once and print what changed")
    once.add_argument("source", nargs="*", help="source names (default: all)")
    once.set_defaults(command=_refresh)
    check = commands.add_parser("check-config", help="validate the config and exit")
    check.set_defaults(command=_check_config)
    return parser


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    if settings.server == "granian":
        return _serve_granian(settings, args)
    from waitress import create_server

    from feedsvc.web import create_app

    store = Store(settings.database_url)
    app = create_app(settings, store)
    jobs = scheduler.build(settings, store)
    server = create_server(app, host=settings.bind_host, port=settings.bind_port, threads=settings.threads)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # waitress's loop catches it and shuts its workers down

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    jobs.start()
    log.info(
        "serving %d source(s) on http://%s:%s (database %s)",
        len(settings.sources),
        settings.bind_host,
        server.effective_port,  # type: ignore[union-attr]
        settings.database_url.split("://", 1)[0],
    )
    try:
        server.run()
    finally:
        log.info("stopping: waiting for running refreshes")
        jobs.shutdown(wait=True)
        store.close()
        log.info("stopped")
    return 0


def _serve_granian(settings: config.Settings, args: argparse.Namespace) -> int:
    from feedsvc.web import granian_server

    store = Store(settings.database_url)  # the scheduler's; granian's worker opens its own
    jobs = scheduler.build(settings, store)
    jobs.start()
    sources, host, port = len(settings.sources), settings.bind_host, settings.bind_port
    log.info("serving %d source(s) with granian on %s:%s", sources, host, port)
    try:
        granian_server.serve(settings, args.config)
    finally:
        log.info("stopping: waiting for running refreshes")
        jobs.shutdown(wait=True)
        store.close()
        log.info("stopped")
    return 0


def _refresh(settings: config.Settings, args: argparse.Namespace) -> int:
    unknown = [name for name in args.source if settings.source(name) is None]
    if unknown:
        print(f"feedsvc: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    store = Store(settings.database_url)
    failed = 0
    try:
        for source in settings.sources:
            if args.source and source.name not in args.source:
                continue
            result = refresh.run(store, source, datetime.now(UTC))
            if result.ok:
                what = "not modified" if result.not_modified else f"{result.new} new, {result.changed} updated"
                print(f"{source.name}: {what}, {result.seen} on the page")
            else:
                failed += 1
                print(f"{source.name}: failed: {result.error}")
    finally:
        store.close()
    return 1 if failed else 0


def _check_config(settings: config.Settings, args: argparse.Namespace) -> int:
    print(f"{args.config}: ok, {len(settings.sources)} source(s): {', '.join(s.name for s in settings.sources)}")
    return 0
