"""bench/listing.py runs end to end at a small scale: the command documented in bench/listing.md works."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT


def test_the_listing_bench_measures_every_endpoint_of_the_real_service() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.listing", "--sources", "30", "--entries", "3", "--runs", "1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert (results["sources"], results["entries"]) == (30, 90)
    for endpoint in ("/", "/api/sources", "/metrics"):
        assert results[endpoint]["ms"] > 0 and results[endpoint]["bytes"] > 0
    assert results["/feeds/all.atom"]["bytes"] > 0 and results["/feeds/all.atom"]["cold_ms"] > 0
    assert results["rss_mb"] > 0
