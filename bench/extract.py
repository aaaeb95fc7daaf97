"""Extraction time per fixture: median of many runs of ``extract.extract`` on each engine page.

    python3 bench/extract.py [--runs N]

Decoding is done once, outside the timing; each run parses the page afresh (a new ``Page``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tools import median_ms  # noqa: E402
from feedsvc import extract, fetch  # noqa: E402
from feedsvc.extract.selectors import Selectors  # noqa: E402
from feedsvc.model import Snapshot  # noqa: E402

ENGINES = ROOT / "fixtures" / "engines"


def timings(runs: int) -> list[tuple[str, int, str, float, float]]:
    """(fixture, bytes, detector, median ms auto, median ms selectors) per engine fixture."""
    rows = []
    for path in sorted(ENGINES.glob("*.html")):
        case = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        body = path.read_bytes()
        snapshot = Snapshot(
            case["url"], fetch.decode(body, None), "text/html", datetime.fromisoformat(case["fetched_at"])
        )
        zone = ZoneInfo(case["timezone"])
        selectors = Selectors(**case["selectors"])
        layout = extract.extract(snapshot, zone=zone).layout
        auto = median_ms(partial(extract.extract, snapshot, zone=zone), runs)
        chosen = median_ms(partial(extract.extract, snapshot, "selectors", selectors=selectors, zone=zone), runs)
        rows.append((path.stem, len(body), layout, auto, chosen))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per fixture and mode (default: 200)")
    args = parser.parse_args(argv)
    print(f"{'fixture':<12} {'bytes':>6}  {'auto detector':<13} {'auto ms':>8} {'selectors ms':>13}")
    for name, size, layout, auto, chosen in timings(args.runs):
        print(f"{name:<12} {size:>6}  {layout:<13} {auto:>8.3f} {chosen:>13.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
