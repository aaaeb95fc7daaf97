"""Prometheus metrics of one service instance, in its own registries (never the global one).

By default every label set is bounded, whatever the number of sources:

feedsvc_refresh_duration_seconds              histogram of refreshes that reached the site
feedsvc_refreshes_total{outcome}              ok, not-modified, deferred, busy, timeout, http, ...
feedsvc_feed_requests_total{status}           requests for a source's feeds (any format) by HTTP status
feedsvc_sources{state}                        configured sources: ok, failing, never (not attempted yet)
feedsvc_entries_stored                        entries in the database, every source together
feedsvc_full_text_articles_total{outcome}     article pages fetched for full text: ok, failed

With ``metrics_per_source = true`` the same families carry a ``source`` label instead (one series
per source, and per outcome or status: at 10,000 sources, tens of thousands of series), and two
per-source gauges join them: ``feedsvc_entries_stored{source}``, ``feedsvc_consecutive_failures{source}``.
``sum by (outcome) (feedsvc_refreshes_total)`` gives the same answer either way. Both sets count
from the start of the process; per-source counters only while the setting is on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from feedsvc.model import RefreshResult, SourceState

CONTENT_TYPE = CONTENT_TYPE_LATEST
STATES = ("ok", "failing", "never")
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Increments(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Both:
    """Two counters counted as one: the aggregate's and a source's."""

    def __init__(self, *counters: Increments) -> None:
        self._counters = counters

    def inc(self, amount: float = 1) -> None:
        for counter in self._counters:
            counter.inc(amount)


class _Families:
    """The metric families of one registry; ``labels`` go before the family's own (``source`` or none)."""

    def __init__(self, labels: list[str]) -> None:
        self.registry = CollectorRegistry()
        self.refresh_duration = Histogram(
            "feedsvc_refresh_duration_seconds",
            "Duration of refreshes that ran (fetch, extract, diff, store).",
            labels,
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.refreshes = Counter(
            "feedsvc_refreshes", "Refresh attempts by outcome.", [*labels, "outcome"], registry=self.registry
        )
        self.feed_requests = Counter(
            "feedsvc_feed_requests",
            "Feed requests (any format) by HTTP status.",
            [*labels, "status"],
            registry=self.registry,
        )
        self.sources = Gauge(
            "feedsvc_sources",
            "Configured sources by the state of their latest refresh.",
            ["state"],
            registry=self.registry,
        )
        self.full_text_articles = Counter(
            "feedsvc_full_text_articles",
            "Article pages fetched for their full text, by outcome (ok, failed).",
            [*labels, "outcome"],
            registry=self.registry,
        )
        what = "per source" if labels else "in the database, every source together"
        self.entries_stored = Gauge(
            "feedsvc_entries_stored", f"Entries stored {what}.", labels, registry=self.registry
        )


class Metrics:
    """Counters the runner and the web app feed, and the exposition ``/metrics`` answers."""

    def __init__(self, per_source: Callable[[], bool] = lambda: False) -> None:
        self.per_source = per_source  # read at every count and scrape: a reload applies at once
        self._total = _Families([])
        self._by_source = _Families(["source"])
        self.consecutive_failures = Gauge(
            "feedsvc_consecutive_failures",
            "Failed refreshes in a row per source.",
            ["source"],
            registry=self._by_source.registry,
        )

    def observe(self, result: RefreshResult, seconds: float | None = None) -> None:
        """Count one refresh outcome (and its full-text articles); ``seconds`` when it ran."""
        per_source = self.per_source()
        self._total.refreshes.labels(result.label).inc()
        if per_source:
            self._by_source.refreshes.labels(result.source, result.label).inc()
        if seconds is not None:
            self._total.refresh_duration.observe(seconds)
            if per_source:
                self._by_source.refresh_duration.labels(result.source).observe(seconds)
        if result.full_text is not None:
            for outcome, count in (("ok", result.full_text.ok), ("failed", result.full_text.failed)):
                if count:
                    self._total.full_text_articles.labels(outcome).inc(count)
                    if per_source:
                        self._by_source.full_text_articles.labels(result.source, outcome).inc(count)

    def feed_counters(self, name: str) -> tuple[Increments, Increments]:
        """What one answer (200, 304) to a request for feed ``name`` increments, under the setting in force."""
        total = self._total.feed_requests
        if not self.per_source():
            return total.labels("200"), total.labels("304")
        by_source = self._by_source.feed_requests
        return (
            _Both(total.labels("200"), by_source.labels(name, "200")),
            _Both(total.labels("304"), by_source.labels(name, "304")),
        )

    def feed_request(self, name: str, status: int) -> None:
        """Count one answer to a request for the feed of source ``name``."""
        self._total.feed_requests.labels(str(status)).inc()
        if self.per_source():
            self._by_source.feed_requests.labels(name, str(status)).inc()

    def exposition(
        self,
        counts: Mapping[str, int],
        entries_stored: int,
        states: Iterable[SourceState] = (),
    ) -> bytes:
        """The text exposition. ``counts``: configured sources by state (``STATES``); ``entries_stored``:
        every entry in the database; ``states``: every source's state, read only with ``per_source``."""
        if not self.per_source():
            families = self._total
            families.entries_stored.set(entries_stored)
        else:
            families = self._by_source
            families.entries_stored.clear()
            self.consecutive_failures.clear()
            for state in states:
                families.entries_stored.labels(state.name).set(state.entries_stored)
                self.consecutive_failures.labels(state.name).set(state.consecutive_failures)
        for state_name in STATES:
            families.sources.labels(state_name).set(counts.get(state_name, 0))
        return generate_latest(families.registry)


def census(names: Iterable[str], outcomes: Mapping[str, bool]) -> dict[str, int]:
    """Sources by state (``STATES``): ``outcomes`` is ``Store.outcomes()``, each attempted source's
    latest refresh failed or not; a name it lacks was never attempted."""
    wanted = set(names)
    attempted = wanted & outcomes.keys()
    failing = sum(1 for name in attempted if outcomes[name])
    return {"ok": len(attempted) - failing, "failing": failing, "never": len(wanted) - len(attempted)}


def state_of(failed: bool | None) -> str:
    """A source's state (``STATES``) from its entry in ``Store.outcomes()`` (None: never attempted)."""
    return "never" if failed is None else "failing" if failed else "ok"
