"""The benchmark harness cannot rot: its smoke run writes a report; its parsers read what the tools print."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bench.stats import Figure, ratios
from bench.tools import parse_wrk
from tests.support import ROOT

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40000/feeds/bench.atom
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.01ms  25.20ms   90.00%
    Req/Sec     3.90k   250.00     4.50k    70.00%
  Latency Distribution
     50%    1.95ms
     75%    2.40ms
     90%    3.00ms
     99%   812.00us
  38812 requests in 5.00s, 1.20GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   7762.40
Transfer/sec:    245.00MB
"""


def test_smoke_run_writes_a_report_with_every_section_and_the_plot(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Serving", "## Refresh pipeline", "## Store at scale", "## Scaling", "## Closing"):
        assert heading in text
    assert (tmp_path / "performance-scaling.png").read_bytes().startswith(b"\x89PNG")
    # every seed snapshot was measured, each figure a median with its spread
    for seed in sorted((ROOT / "fixtures" / "seeds").glob("*.txt")):
        assert re.search(rf"\| {seed.name} \| \d+ \| [\d.]+ ms \([\d.]+..[\d.]+, n=\d+\) \|", text), seed.name
    assert re.search(r"\| 20 \| [^|]+ \| [\d.]+ s \(", text), "the 20-source refresh cycle row is missing"
    assert re.search(r"\| 4,000 \| [\d.]+ s \| [\d.]+ ms", text), "the 4,000-entry store row is missing"


def test_wrk_output_is_read_with_units_and_errors() -> None:
    load = parse_wrk(WRK_OUTPUT)
    assert load.requests_per_second == 7762.40
    assert abs(load.p50 - 0.00195) < 1e-12
    assert abs(load.p99 - 0.000812) < 1e-12
    assert load.errors == 4 + 2 + 1


def test_a_figure_is_the_median_with_its_spread_and_ratios_pair_rounds() -> None:
    figure = Figure.of([3.0, 1.0, 2.0, 10.0])
    assert (figure.median, figure.low, figure.high, figure.runs) == (2.5, 1.0, 10.0, 4)
    assert figure.show(" ms", scale=1000) == "2,500 ms (1,000..10,000, n=4)"
    assert ratios([10.0, 30.0, 8.0], [5.0, 10.0, 8.0]).median == 2.0


def test_staleness_bench_sees_every_instance_serve_another_process_refresh() -> None:
    """Real ``feedsvc serve`` processes on one SQLite file; this test's process refreshes (not timed)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.staleness", "--backend", "sqlite", "--instances", "2", "--refreshes", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["missed"] == 0 and result["refreshes"] == 3 and result["p99_ms"] >= 0


INSTANCES_SMOKE = ("--backend", "sqlite", "--instances", "2", "--requests", "6", "--gap", "0.2")


def test_instances_bench_counts_no_request_closer_than_the_host_gap() -> None:
    """Real ``feedsvc worker`` processes on one SQLite file asking one local host (not timed)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.instances", *INSTANCES_SMOKE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["requests"], result["gaps"], result["closer_than_host_gap"]) == (6, 5, 0)
    assert result["min_gap_ms"] >= 200
