"""The one exception tree of feedsvc.

    FeedsvcError
     ├── ConfigError          bad config: names the key path and the problem
 │    ├── UnsafeURL       a URL typed by a user: not http(s), or a private/loopback/metadata address
 │    └── NameTaken       a source name already used (by the config file or the database)
 ├── UnknownSource        no source of that name (in the database, for edits and deletes)
     ├── FetchError           the page could not be had
     │    ├── FetchTimeout
     │    ├── TooLarge
     │    ├── HTTPStatusError
     │    ├── AddressRefused  an address feedsvc may not connect to (outbound.py)
     │    └── DecodeError     bytes that are not text in any honest encoding
     ├── ExtractError         the page has no posts in the expected layout
     │    ├── LayoutChanged   far fewer posts than usual (error/block page, redesign)
     │    └── NoMainText      an article page with no main text to take (full_text)
     ├── StoreError           the database refused or is unreachable
     └── PublishError         a static feed file could not be written to publish_dir

Inside a refresh every FetchError and ExtractError becomes data
(``RefreshResult.error``, ``SourceState.last_error``); nothing reaches the scheduler.
"""

from __future__ import annotations


class FeedsvcError(Exception):
    """Base of every error feedsvc raises on purpose."""

    kind = "error"  # one word for logs, metrics and the status API


class ConfigError(FeedsvcError):
    """The configuration is invalid: ``ConfigError("sources.kexue.timezone: unknown zone 'X'")``."""


class FetchError(FeedsvcError):
    """The snapshot page could not be fetched."""

    kind = "fetch"


class FetchTimeout(FetchError):
    """The site did not answer in time."""

    kind = "timeout"


class TooLarge(FetchError):
    """The body is larger than the configured cap."""

    kind = "too-large"


class HTTPStatusError(FetchError):
    """The site answered with an error status."""

    kind = "http"

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AddressRefused(FetchError):
    """The URL, or a redirect, leads to an address outbound requests may not reach (or is not http(s))."""

    kind = "refused"


class DecodeError(FetchError):
    """The body cannot be decoded to text without guessing wrong."""

    kind = "decode"


class ExtractError(FeedsvcError):
    """The snapshot does not hold posts in the expected layout."""

    kind = "extract"


class LayoutChanged(ExtractError):
    """The page shows far fewer posts than usual: an error, block or login page, or a redesign."""

    kind = "layout-change"


class NoMainText(ExtractError):
    """An article page shows no main text (an empty page, a gallery, a login wall): ``full_text`` keeps the teaser."""

    kind = "no-main-text"


class StoreError(FeedsvcError):
    """The store cannot be read or written."""

    kind = "store"


class PublishError(FeedsvcError):
    """A feed could not be written to ``publish_dir``."""

    kind = "publish"


class UnsafeURL(ConfigError):
    """A URL from the browser, the API or an import that feedsvc will not fetch."""


class NameTaken(ConfigError):
    """A new source's name is already used by the config file or the database."""


class UnknownSource(FeedsvcError):
    """No source of that name where it was looked for."""
