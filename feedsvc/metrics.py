"""Prometheus metrics of one service instance, in its own registry (never the global one).

feedsvc_refresh_duration_seconds{source}      histogram of refreshes that reached the site
feedsvc_refreshes_total{source,outcome}       ok, not-modified, deferred, busy, timeout, http, ...
feedsvc_entries_stored{source}                gauge, read from the store at scrape time
feedsvc_consecutive_failures{source}          gauge, read from the store at scrape time
feedsvc_feed_requests_total{source,status}    GET /feeds/<name>.atom answers by HTTP status
feedsvc_full_text_articles_total{source,outcome}  article pages fetched for full text: ok, failed
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from feedsvc.model import RefreshResult, SourceState

CONTENT_TYPE = CONTENT_TYPE_LATEST
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.refresh_duration = Histogram(
            "feedsvc_refresh_duration_seconds",
            "Duration of refreshes that ran (fetch, extract, diff, store).",
            ["source"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.refreshes = Counter(
            "feedsvc_refreshes", "Refresh attempts by outcome.", ["source", "outcome"], registry=self.registry
        )
        self.entries_stored = Gauge(
            "feedsvc_entries_stored", "Entries stored per source.", ["source"], registry=self.registry
        )
        self.consecutive_failures = Gauge(
            "feedsvc_consecutive_failures", "Failed refreshes in a row per source.", ["source"], registry=self.registry
        )
        self.feed_requests = Counter(
            "feedsvc_feed_requests",
            "Feed requests (any format) by HTTP status.",
            ["source", "status"],
            registry=self.registry,
        )

        self.full_text_articles = Counter(
            "feedsvc_full_text_articles",
            "Article pages fetched for their full text, by outcome (ok, failed).",
            ["source", "outcome"],
            registry=self.registry,
        )

    def observe(self, result: RefreshResult, seconds: float | None = None) -> None:
        """Count one refresh outcome (and its full-text articles); ``seconds`` when it ran."""
        self.refreshes.labels(result.source, result.label).inc()
        if seconds is not None:
            self.refresh_duration.labels(result.source).observe(seconds)
        if result.full_text is not None:
            for outcome, count in (("ok", result.full_text.ok), ("failed", result.full_text.failed)):
                if count:
                    self.full_text_articles.labels(result.source, outcome).inc(count)

    def feed_request(self, source: str, status: int) -> None:
        self.feed_requests.labels(source, str(status)).inc()

    def exposition(self, states: Iterable[SourceState]) -> bytes:
        """The text exposition, with the store-backed gauges set from ``states`` first."""
        self.entries_stored.clear()
        self.consecutive_failures.clear()
        for state in states:
            self.entries_stored.labels(state.name).set(state.entries_stored)
            self.consecutive_failures.labels(state.name).set(state.consecutive_failures)
        return generate_latest(self.registry)
