"""How many HTTP requests does a site that is down for 24 hours get, at a 10-minute interval?

    python bench/down_site.py            (from the repository root)

Drives the real refresher (real urllib3 retries, real SQLite store, a real local server that
answers 500 and counts requests) on a simulated clock ticking every 10 minutes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.test_down_site import simulate


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        day = simulate(Path(tmp))
    print(f"scheduler ticks in 24 h at 10 min: {day.ticks}")
    print(f"refresh attempts that reached the site: {day.attempts}")
    print(f"HTTP requests the site received: {day.requests}")
    print(f"first successful refresh after the site came back: {day.recovered_after}")


if __name__ == "__main__":
    main()
