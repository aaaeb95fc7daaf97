"""``feedsvc serve | worker | refresh | check-config``: wires config, store, app and scheduler."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from feedsvc import __version__, config, refresh
from feedsvc.errors import FeedsvcError
from feedsvc.feeds import publish, static
from feedsvc.refresh import recovery
from feedsvc.refresh import schedule as scheduler
from feedsvc.refresh.reload import Reloader
from feedsvc.refresh.runner import Refresher
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
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # retries: the refresh line tells
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
    preview.set_defaults(command=_preview, needs_config=False)
    return parser


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    if settings.server == "granian":
        return _serve_granian(settings, args)
    from waitress import create_server

    from feedsvc.web import create_app

    store = Store(settings.database_url)
    recovery.release_dead_leases(store, refresh.OWNER)
    static.write(settings, store, [s.name for s in settings.sources])  # when publish_dir is set
    refresher = Refresher(settings, store)
    app = create_app(settings, store, refresher)
    jobs = None if args.no_scheduler else scheduler.build(settings, store, refresher=refresher)
    reloader = Reloader(args.config, refresher, jobs, on_swap=lambda new: app.config.update(FEEDSVC_SETTINGS=new))
    app.config.update(FEEDSVC_SCHEDULER=jobs, FEEDSVC_RELOADER=reloader)
    server = create_server(app, host=settings.bind_host, port=settings.bind_port, threads=settings.threads)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # waitress's loop catches it and shuts its workers down

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, _reload_on(reloader))
    if jobs is not None:
        jobs.start()
    log.info(
        "serving %d source(s) on http://%s:%s (database %s)%s",
        len(settings.sources),
        settings.bind_host,
        server.effective_port,  # type: ignore[union-attr]
        settings.database_url.split("://", 1)[0],
        "" if jobs is not None else ", web only (--no-scheduler)",
    )
    try:
        server.run()
    finally:
        _stop_refreshing(jobs, refresher)
        store.close()
        log.info("stopped")
    return 0


def _worker(settings: config.Settings, args: argparse.Namespace) -> int:
    """The scheduler alone: refreshes due sources (shared with other instances) until SIGTERM or Ctrl-C."""
    store = Store(settings.database_url)
    recovery.release_dead_leases(store, refresh.OWNER)
    refresher = Refresher(settings, store)
    jobs = scheduler.build(settings, store, refresher=refresher)
    reloader = Reloader(args.config, refresher, jobs)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, _reload_on(reloader))
    jobs.start()
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
        _stop_refreshing(jobs, refresher)
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


def _reload_on(reloader: Reloader) -> Callable[[int, FrameType | None], None]:
    """The SIGHUP handler: read the config again; a bad file is logged and changes nothing."""

    def reload(signum: int, frame: FrameType | None) -> None:
        try:
            reloader.reload()
        except FeedsvcError as exc:
            log.error("SIGHUP: config not reloaded: %s", exc)

    return reload


def _stop_refreshing(jobs: BackgroundScheduler | None, refresher: Refresher) -> None:
    """Stop scheduling; let running refreshes finish within ``shutdown_grace``, else exit 1 at once."""
    grace = refresher.settings.shutdown_grace.total_seconds()
    log.info("stopping: waiting up to %g s for running refreshes", grace)
    if jobs is not None:
        jobs.shutdown(wait=False)
    if not refresher.wait_idle(grace):
        # a refresh that would not end: its transaction rolls back, its lease is freed at the next start
        log.error("stopped with refreshes still running: %s", ", ".join(refresher.running()))
        logging.shutdown()
        os._exit(1)


def _refresh(settings: config.Settings, args: argparse.Namespace) -> int:
    unknown = [name for name in args.source if settings.source(name) is None]
    if unknown:
        print(f"feedsvc: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    store = Store(settings.database_url)
    notify = publish.after_refresh(settings, store)
    failed = 0
    try:
        for source in settings.sources:
            if args.source and source.name not in args.source:
                continue
            result = refresh.run(store, source, datetime.now(UTC), notify=notify)
            if result.ok:
                what = "not modified" if result.not_modified else f"{result.new} new, {result.changed} updated"
                print(f"{source.name}: {what}, {result.seen} on the page")
            else:
                failed += 1
                print(f"{source.name}: failed: {result.error}")
    finally:
        store.close()
    return 1 if failed else 0


def _preview(settings: config.Settings | None, args: argparse.Namespace) -> int:
    from feedsvc import preview

    source = preview.source(args.target, args.layout, args.timezone, args.selectors)
    print(preview.report(source, datetime.now(UTC)))
    return 0


def _check_config(settings: config.Settings, args: argparse.Namespace) -> int:
    print(f"{args.config}: ok, {len(settings.sources)} source(s): {', '.join(s.name for s in settings.sources)}")
    return 0
