"""``feedsvc serve | worker | refresh | check-config``: wires config, store, app and scheduler."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from feedsvc import __version__, config, logs, refresh, startup
from feedsvc.errors import FeedsvcError
from feedsvc.service import Service, reload_on_sighup, stop_or_exit

log = logging.getLogger("feedsvc")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ[logs.FORMAT_ENV] = args.log_format  # granian's worker configures its logging afresh
    logs.configure(args.log_format)
    settings = None
    try:
        if args.needs_config:
            args.config = str(startup.find_config(args.config, os.environ, Path.cwd()))
            settings = config.load(args.config)
        return int(args.command(settings, args))
    except FeedsvcError as exc:
        print(f"feedsvc: {startup.explain(exc, settings)}", file=sys.stderr)
        return 2


_EXAMPLES = {
    "serve": "feedsvc serve                      # then open http://127.0.0.1:8080/\n"
    "  feedsvc serve --config /etc/feedsvc/feedsvc.toml --log-format json\n"
    "  feedsvc serve --no-scheduler       # web only, beside `feedsvc worker` instances",
    "worker": "feedsvc worker --config /etc/feedsvc/feedsvc.toml",
    "refresh": "feedsvc refresh                    # every source\n  feedsvc refresh kexue fieldnotes",
    "check-config": "feedsvc check-config --config config/feedsvc.toml",
    "preview": "feedsvc preview https://blog.example/\n"
    "  feedsvc preview https://blog.example/ --selectors '{item = \"article\", title = \"h2 a\"}'\n"
    "  feedsvc preview page.html --timezone Asia/Shanghai\n"
    "  feedsvc preview https://app.example/news --fetch browser --wait-for 'ul.news li'",
}
_DESCRIPTIONS = {
    "serve": "Run the web app (feeds, pages, the admin pages and the API) and the scheduler in one "
    "process until SIGTERM or Ctrl-C; SIGHUP re-reads the config.",
    "worker": "Run the scheduler only: refresh due sources (shared with other instances on the same "
    "database) until SIGTERM or Ctrl-C; SIGHUP re-reads the config.",
    "refresh": "Refresh sources once, now, and print what changed for each.",
    "check-config": "Read and check the config file, print its sources, and exit (2 when it is invalid).",
    "preview": "Fetch a page and print the posts it would yield (date and how it was resolved, title, "
    "link, summary), the layout that matched and the feed the page announces. Needs no config; "
    "stores nothing.",
}


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """A subcommand whose --help has a description and an example; --config also after its name."""
    return commands.add_parser(
        name,
        help=help,
        description=textwrap.fill(_DESCRIPTIONS[name], 78),
        epilog=f"example:\n  {_EXAMPLES[name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsvc",
        description="Feeds for sites that have none.",
        epilog="example:\n  feedsvc serve   # then open http://127.0.0.1:8080/\n"
        "run `feedsvc COMMAND --help` for a command's options",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"feedsvc {__version__}")
    parser.add_argument("--config", default=None, help=_CONFIG_HELP)
    parser.add_argument("--log-format", choices=logs.FORMATS, default="text", help=_LOG_HELP)
    # the same options after the command (`feedsvc serve --config FILE`): they win when given
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=_CONFIG_HELP)
    common.add_argument("--log-format", choices=logs.FORMATS, default=argparse.SUPPRESS, help=_LOG_HELP)
    parser.set_defaults(needs_config=True)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = _command(commands, "serve", "run the web app and the scheduler until SIGTERM or Ctrl-C", common)
    serve.add_argument("--no-scheduler", action="store_true", help="web only: leave refreshing to `feedsvc worker`")
    serve.set_defaults(command=_serve)
    worker = _command(commands, "worker", "run the scheduler only (no web server) until SIGTERM or Ctrl-C", common)
    worker.set_defaults(command=_worker)
    once = _command(commands, "refresh", "refresh sources once and print what changed", common)
    once.add_argument("source", nargs="*", help="source names (default: all)")
    once.set_defaults(command=_refresh)
    check = _command(commands, "check-config", "validate the config and exit", common)
    check.set_defaults(command=_check_config)
    preview = _command(commands, "preview", "print the posts a page would yield, to tune a source (no config)", common)
    preview.add_argument("target", metavar="URL|FILE", help="http(s) URL or local file of a listing page")
    preview.add_argument("--layout", default="auto", choices=config.LAYOUTS, help="layout or detector (default: auto)")
    preview.add_argument(
        "--selectors",
        metavar="TOML",
        help="CSS selectors as a TOML inline table, e.g. '{item = \"article\", title = \"h2 a\"}'",
    )
    preview.add_argument("--timezone", default="UTC", help="IANA zone of the dates the page shows (default: UTC)")
    preview.add_argument(
        "--fetch",
        default="http",
        choices=config.FETCHES,
        help="http (default), or browser: render the page in headless Chromium first (a list a script builds)",
    )
    preview.add_argument(
        "--wait-for", metavar="CSS", help="with --fetch browser: wait for this element instead of the network idle"
    )
    preview.add_argument("--json", action="store_true", help="print the layout and every post as JSON")
    preview.add_argument("--explain", action="store_true", help="also show the candidate lists auto mode weighed")
    preview.set_defaults(command=_preview, needs_config=False)
    _sources_parser(commands, common)
    return parser


_CONFIG_HELP = (
    "config file (default: $FEEDSVC_CONFIG, else the first of ./feedsvc.toml, ./config/feedsvc.toml, "
    "$XDG_CONFIG_HOME/feedsvc/feedsvc.toml, /etc/feedsvc/feedsvc.toml)"
)
_LOG_HELP = "log lines as text (default) or JSON objects, one a line, for log shippers"


def _sources_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """``feedsvc sources export|import``: the sources kept in the database."""
    sources = commands.add_parser(
        "sources",
        help="export or import the sources kept in the database (added from the browser or the API)",
        description="The sources kept in the database, beside the config file's: export them as TOML, "
        "or import [[sources]] tables from a TOML file.",
        epilog="examples:\n  feedsvc sources export > sources.toml\n  feedsvc sources import sources.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    actions = sources.add_subparsers(required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="print the database's sources as TOML [[sources]] tables", parents=[common]
    )
    export.set_defaults(command=_sources_export)
    load = actions.add_parser("import", help="add the [[sources]] of a TOML file to the database", parents=[common])
    load.add_argument("file", metavar="FILE", help="TOML file with [[sources]] tables (a config file works)")
    load.add_argument("--replace", action="store_true", help="overwrite sources already in the database")
    load.set_defaults(command=_sources_import)


def _sources_export(settings: config.Settings, args: argparse.Namespace) -> int:
    from feedsvc import sources_io

    service = Service(settings, scheduled=False)
    try:
        sys.stdout.write(sources_io.export(service.store.definitions()))
    finally:
        service.stop()
    return 0


def _sources_import(settings: config.Settings, args: argparse.Namespace) -> int:
    from feedsvc import sources_io

    service = Service(settings, scheduled=False)
    try:
        refused = sources_io.import_file(Path(args.file), service.catalog, args.replace, print)
    finally:
        service.stop()
    return 1 if refused else 0


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    startup.preflight(settings)  # port, database, data directory: one line naming the fix
    if settings.server == "granian":
        return _serve_granian(settings, args)
    from waitress import create_server

    from feedsvc.web.waitress_limits import WAITRESS

    service = Service(settings, config_path=args.config, scheduled=not args.no_scheduler)
    try:
        server = create_server(
            service.app, host=settings.bind_host, port=settings.bind_port, threads=settings.threads, **WAITRESS
        )
    except OSError as exc:  # the port in use & co, in one line naming the fix
        service.stop(0)
        raise startup.bind_problem(exc, settings) from None

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
    service = Service(settings, scheduled=False)  # with the database's sources
    settings = service.settings
    unknown = [name for name in args.source if settings.source(name) is None]
    if unknown:
        service.stop()
        print(f"feedsvc: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    service.heartbeat.start()  # registered: other instances see its leases held by a live instance
    failed = 0
    chosen = [source for source in settings.sources if not args.source or source.name in args.source]
    progress = sys.stderr.isatty()  # on a terminal, "[n/N] name" as each refresh starts
    try:
        for number, source in enumerate(chosen, 1):
            if progress:
                print(f"[{number}/{len(chosen)}] {source.name} …", file=sys.stderr, flush=True)
            result = service.runner.refresh_now(source)
            full_text = "" if result.full_text is None else f"; {result.full_text}"
            if result.ok and result.not_modified:
                print(f"{source.name}: not modified since the last fetch{full_text}")
            elif result.ok:
                counts = f"{result.new} new, {result.changed} updated, {result.seen} on the page"
                print(f"{source.name}: {counts}{full_text}")
            else:
                failed += 1
                print(f"{source.name}: failed: {result.error}")
    finally:
        service.stop()
    return 1 if failed else 0


def _preview(settings: config.Settings | None, args: argparse.Namespace) -> int:
    from feedsvc import browser, preview

    source = preview.source(args.target, args.layout, args.timezone, args.selectors, args.fetch, args.wait_for)
    try:
        print(preview.report(source, datetime.now(UTC), as_json=args.json, explain=args.explain))
    finally:
        browser.close_shared()
    return 0


def _check_config(settings: config.Settings, args: argparse.Namespace) -> int:
    print(f"{args.config}: ok, {len(settings.sources)} source(s): {', '.join(s.name for s in settings.sources)}")
    return 0
