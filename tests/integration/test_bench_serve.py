"""bench/serve.py runs end to end (briefly): the benchmark command documented in bench/serve.md works."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from tests.support import ROOT


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_serve", ROOT / "bench" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_bench_measures_every_scenario_without_errors(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    code = bench.main(
        ["--duration", "0.1", "--connections", "2", "--server-threads", "2", "--client", "python", "--json"]
    )
    results = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["scenario"], r["status"]) for r in results] == [("get", 200), ("get-gzip", 200), ("304", 304)]
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in results)
    get, packed, not_modified = (r["body_bytes"] for r in results)
    assert 0 < packed < get and not_modified == 0


def test_wrk_output_is_read() -> None:
    bench = load_bench()
    out = """  Latency Distribution
     50%  812.00us
     99%    1.20s
  2428 requests in 5.06s, 28.43MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    479.94
"""
    assert bench._wrk_latency(out, "50%") == 0.812
    assert bench._wrk_latency(out, "99%") == 1200.0
