"""What follows a refresh that changed a feed: static files rewritten, the WebSub hub pinged.

    after_refresh(settings, store) -> Notify | None     None when neither is configured

``refresh.run`` calls the hook after the refresh's transaction, only when entries were added
or changed. Every failure is logged and swallowed: the refresh already succeeded.
"""

from __future__ import annotations

import logging

from feedsvc.config import Settings, Source
from feedsvc.errors import FeedsvcError
from feedsvc.feeds import formats as feeds
from feedsvc.feeds import static, websub
from feedsvc.feeds.render import Format
from feedsvc.model import RefreshResult
from feedsvc.refresh import Notify
from feedsvc.store import Store

log = logging.getLogger("feedsvc.feeds.publish")


def after_refresh(settings: Settings, store: Store) -> Notify | None:
    """The hook for ``refresh.run(..., notify=)``, or None when there is nothing to publish to."""
    if settings.hub is None and settings.publish_dir is None:
        return None

    def notify(source: Source, result: RefreshResult) -> None:
        if not (result.new or result.changed):
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
    urls = [feeds.feed_url(settings.base_url, source.name, format.value) for format in Format]
    return [*urls, feeds.feed_url(settings.base_url, feeds.ALL, Format.ATOM.value)]
