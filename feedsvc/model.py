"""Plain data that crosses every arrow of a refresh.

    fetch.get        -> Snapshot
    extract.posts    -> [Post]
    differ.diff      -> Diff            (from Known + [Post])
    store.apply      <- Diff, SourceStatus
    store.entries    -> [Entry]         -> feeds.atom

No ORM rows, no ``requests.Response``: only these frozen dataclasses.
All datetimes are timezone-aware; stored and compared in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class PageDate:
    """A date exactly as a page shows it: the year (and time) may be missing.

    ``year is None`` is the ``20 Apr`` case; the differ resolves it from evidence.
    Hour and minute, when shown, are wall-clock time in the source's time zone.
    """

    month: int
    day: int
    year: int | None = None
    hour: int | None = None
    minute: int | None = None

    @property
    def month_day(self) -> str:
        """The part of a date that every layout shows: ``"07-14"``."""
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One fetched page, already decoded to text."""

    url: str
    text: str
    media_type: str  # "text/html" or "text/plain"
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    warning: str | None = None  # what was cut from the page to bound its parsing (bounds.py)
    rendered: bool = False  # the HTML is what a browser's scripts built (fetch = "browser"), not what was sent


@dataclass(frozen=True, slots=True)
class Post:
    """One post as a snapshot shows it. Volatile fields (reader counts) are dropped."""

    title: str
    summary: str
    date: PageDate | None = None
    author: str | None = None
    link: str | None = None
    title_derived: bool = False  # True when the page shows no title and it was made from the text
    date_shown: str | None = field(default=None, compare=False)  # the date as the page wrote it: "3天前"
    date_relative: bool = field(default=False, compare=False)  # counted back from the fetch: drifts between fetches
    categories: tuple[str, ...] = ()  # tags or categories the page shows for the post
    summary_html: bool = False  # True when the summary is an HTML fragment (sanitised before serving)


class DateEvidence(StrEnum):
    """Why an entry has the date it has, strongest first."""

    PAGE = "page"  # the page itself showed the full date
    SAME_POST = "same-post"  # the same post was seen elsewhere with a full date
    LISTING_ORDER = "listing-order"  # between/after posts whose year is known
    FETCH_TIME = "fetch-time"  # the latest such day not after the fetch time

    @property
    def inferred(self) -> bool:
        return self not in (DateEvidence.PAGE, DateEvidence.SAME_POST)

    @property
    def rank(self) -> int:
        """0 for the strongest evidence."""
        return _EVIDENCE_RANK[self]


_EVIDENCE_RANK = {evidence: rank for rank, evidence in enumerate(DateEvidence)}


@dataclass(frozen=True, slots=True)
class Entry:
    """A post as feedsvc stores and serves it."""

    source: str
    identity: str
    title: str
    summary: str
    first_seen: datetime
    updated: datetime  # first_seen, or when the post last really changed
    published: datetime | None = None  # the page's own date, in UTC
    date_evidence: DateEvidence | None = None
    author: str | None = None
    link: str | None = None
    title_derived: bool = False
    categories: tuple[str, ...] = ()
    summary_html: bool = False  # the summary is an HTML fragment, sanitised before serving
    # the main text of the entry's own page (full_text), an HTML fragment sanitised before serving;
    # read only for rendering (``Store.entries(..., with_content=True)``), never by the differ
    content: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An entry whose own page the full-text step is to fetch."""

    identity: str
    link: str
    attempts: int = 0  # failed attempts so far


@dataclass(frozen=True, slots=True)
class ArticleFailure:
    """An entry whose page gave no full text, as the status shows it."""

    title: str
    link: str
    reason: str  # "HTTP 404 Not Found", "no answer within 20 s", "no main text found", ...
    tried_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class FullTextState:
    """A source's full text as stored: how many entries have it, failed, or were skipped; the latest failures."""

    ok: int = 0
    failed: int = 0  # retried by later refreshes until ``full_text.MAX_ATTEMPTS``
    skipped: int = 0  # never fetched: the link is on another site
    last_failures: tuple[ArticleFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class FullTextReport:
    """What one refresh's full-text step did: articles filled, failed (each with why), left for later."""

    ok: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()  # "<link>: <reason>", one per failure
    left: int = 0  # wanted, but beyond this refresh's budget: for the next refreshes

    def __str__(self) -> str:
        words = f"full text: {self.ok} ok, {self.failed} failed"
        if self.errors:
            words += ": " + "; ".join(self.errors)
        return words


@dataclass(frozen=True, slots=True)
class ListingItem:
    """One post's place in one snapshot, kept to re-resolve missing years later."""

    identity: str
    month: int
    day: int
    year: int | None


@dataclass(frozen=True, slots=True)
class Listing:
    """The order of dated posts on one snapshot, as shown."""

    fetched_at: datetime
    items: tuple[ListingItem, ...]


@dataclass(frozen=True, slots=True)
class Known:
    """What the store already holds for one source: the differ's only input besides posts."""

    entries: dict[str, Entry] = field(default_factory=dict)
    listings: tuple[Listing, ...] = ()
    tombstones: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Diff:
    """What one snapshot changes. Pure data; ``store.apply`` writes it in one transaction."""

    new: tuple[Entry, ...] = ()
    changed: tuple[Entry, ...] = ()
    seen: int = 0  # posts on the page
    listing: Listing | None = None  # to remember, when the page had dates
    listed_tombstones: frozenset[str] = frozenset()  # pruned posts the page still shows: their tombstones stay


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered per source for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The outcome of one refresh attempt, recorded by ``store.apply``."""

    attempted_at: datetime
    ok: bool
    error: str | None = None
    posts_on_page: int | None = None
    validators: Validators | None = None  # new validators after a successful fetch
    retry_after: datetime | None = None  # the site asked (Retry-After) not to be polled before this
    icon: str | None = None  # the icon the page names, when ``read_icon``
    read_icon: bool = False  # the page was HTML: ``icon`` replaces the stored one (None clears it)
    warning: str | None = None  # a successful refresh that left something out (bounds.MAX_POSTS)
    next_due: datetime | None = None  # when the scheduler next refreshes the source; None: leave it as it was


@dataclass(frozen=True, slots=True)
class Lease:
    """A source's lease as stored: its owner (``host:pid:instance:run``, see ``refresh/instances.py``) and end."""

    owner: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class Instance:
    """A running instance as it registered itself; ``heartbeat_age`` is measured by the database's clock."""

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_age: timedelta


@dataclass(frozen=True, slots=True)
class HostTurn:
    """The answer to asking for a host's turn, on the clock ``now`` was read from (the database's).

    ``taken``: the turn is the asker's, and its request may go out at ``at``. Otherwise ``holder``
    has it, its request due at ``at``: ask again then.
    """

    taken: bool
    at: datetime
    now: datetime
    holder: str | None = None  # when not taken: who has the turn

    @property
    def wait(self) -> float:
        """Seconds from the answer until ``at`` (0 when it is already past)."""
        return max(0.0, (self.at - self.now).total_seconds())


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the operator sees of a source."""

    name: str
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    posts_on_page: int | None = None
    entries_stored: int = 0
    version: int = 0  # bumps whenever the source's entries change
    icon: str | None = None  # absolute URL of the site's icon or logo, when its page names one
    retry_after_until: datetime | None = None  # the site's Retry-After, when it sent one
    recent_posts: tuple[int, ...] = ()  # posts on the latest pages read, oldest first
    warning: str | None = None  # what the latest successful refresh left out, if anything
    lease: Lease | None = None  # who holds the source's lease (perhaps expired, or a dead instance's)
    next_due: datetime | None = None  # when the scheduler next refreshes it; None: not scheduled (yet)


class Outcome(StrEnum):
    """What one refresh call came to: exactly one of these."""

    OK = "ok"  # the page was read; ``new`` and ``changed`` say what it added
    NOT_MODIFIED = "not-modified"  # the site answered 304: nothing to read
    FAILED = "failed"  # nothing stored; ``error`` says why, ``error_kind`` names the kind
    BUSY = "busy"  # another refresh of this source holds the lease: nothing done
    DEFERRED = "deferred"  # backing off after failures until ``deferred_until``: nothing fetched
    NOT_DUE = "not-due"  # a scheduled check found the source refreshed within its interval


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did: one ``outcome``; ``error`` is set when nothing could be stored."""

    source: str
    outcome: Outcome = Outcome.OK
    new: int = 0
    changed: int = 0
    seen: int = 0
    error: str | None = None
    error_kind: str | None = None  # "timeout", "http", "too-large", "layout-change", ... when it failed
    deferred_until: datetime | None = None  # with DEFERRED: when the backoff ends
    full_text: FullTextReport | None = None  # the full-text step, when the source has full_text and it ran
    held_by: str | None = None  # with BUSY: the owner of the lease that holds the source

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.outcome is Outcome.NOT_MODIFIED

    @property
    def busy(self) -> bool:
        return self.outcome is Outcome.BUSY

    @property
    def not_due(self) -> bool:
        return self.outcome is Outcome.NOT_DUE

    @property
    def feed_changed(self) -> bool:
        """Entries were added or changed, or articles got their full text: the feeds render differently."""
        return bool(self.new or self.changed or (self.full_text is not None and self.full_text.ok))

    @property
    def label(self) -> str:
        """One word for logs and metrics: the outcome, or for a failure the kind of error."""
        if self.outcome is Outcome.FAILED:
            return self.error_kind or "error"
        return self.outcome.value
