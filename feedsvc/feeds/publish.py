"""What follows a refresh that changed a feed: static files rewritten, the WebSub hub pinged.

    notifier(current, store) -> Notify      what the service hands the runner as its ``notify``

``refresh.run`` calls the hook after the refresh's transaction, only when entries were added
or changed or got their full text; it reads the settings in force at that moment, so a reload that sets or clears
``publish_dir`` or ``hub`` applies at once. Every failure is logged and swallowed: the refresh
already succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from feedsvc.config import Current, Settings, Source
from feedsvc.errors import FeedsvcError
from feedsvc.feeds import formats, static, websub
from feedsvc.feeds.render import Format
from feedsvc.model import RefreshResult
from feedsvc.store import Store

log = logging.getLogger("feedsvc.feeds.publish")


def notifier(current: Current, store: Store) -> Callable[[Source, RefreshResult], None]:
    """The hook the runner calls after a refresh that changed ``source``'s entries."""

    def notify(source: Source, result: RefreshResult) -> None:
        settings = current.settings
        if not result.feed_changed:
            return
        if settings.publish_dir is not None:
            try:
                static.write(settings, store, [source.name])
            except FeedsvcError as exc:
                log.error("publish source=%s static files in %s failed: %s", source.name, settings.publish_dir, exc)
        if settings.hub is not None:
            for error in websub.publish(settings.hub, topics(settings, source)):
                log.warning("websub source=%s ping failed: %s", source.name, error)

    return notify


def topics(settings: Settings, source: Source) -> list[str]:
    """The feed URLs whose content a change to ``source`` changes."""
    urls = [formats.feed_url(settings.base_url, source.name, format.value) for format in Format]
    return [*urls, formats.feed_url(settings.base_url, formats.ALL, Format.ATOM.value)]
