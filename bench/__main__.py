"""``python -m bench``: run every benchmark and write docs/performance.md (+ the scaling plot).

python -m bench                  everything (needs nginx and wrk: apt-get install nginx-light wrk)
python -m bench --smoke          seconds-long subset without nginx or wrk, so the harness cannot rot
python -m bench --only serving   the serving loads alone -> docs/performance-serving.md (a few minutes)
python -m bench --out FILE       write the report elsewhere
python -m bench --raw FILE       also keep the measurements (pickle) ...
python -m bench --render FILE    ... to write the report again from them, measuring nothing
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import pipeline, report, serving, tools

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "performance.md"


@dataclass(frozen=True, slots=True)
class Plan:
    repeats: int
    page_posts: int
    cycles: tuple[int, ...]
    cycle_repeats: int
    store_sources: int
    store_levels: tuple[int, ...]
    serving: bool
    rounds: int
    seconds: float
    step_sources: int


FULL = Plan(7, 1000, (100, 1000, 10_000), 3, 1000, (10_000, 100_000, 1_000_000), True, 3, 5.0, 1000)
SMOKE = Plan(2, 100, (10, 20), 1, 20, (2000, 4000), False, 1, 1.0, 20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a seconds-long subset, no nginx/wrk needed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report file")
    parser.add_argument("--rounds", type=int, help="serving: wrk rounds per target (default 3)")
    parser.add_argument("--seconds", type=float, help="serving: seconds per wrk load (default 5)")
    parser.add_argument("--no-granian", action="store_true", help="serving: skip the granian targets")
    parser.add_argument(
        "--connections", help="serving: wrk connection counts, comma-separated (default 16,256)", default="16,256"
    )
    parser.add_argument("--only", choices=("serving",), help="measure one part only, into its own report")
    parser.add_argument("--raw", type=Path, help="also save the measurements (pickle) to this file")
    parser.add_argument("--render", type=Path, help="write the report from saved measurements; measure nothing")
    args = parser.parse_args(argv)
    if args.render:
        report.write(pickle.loads(args.render.read_bytes()), args.out)
        _say(f"wrote {args.out} from {args.render}")
        return 0
    plan = SMOKE if args.smoke else FULL
    if not args.smoke:
        absent = tools.missing("nginx", "wrk")
        if absent:
            print(f"bench: {' and '.join(absent)} not installed; install with: {tools.INSTALL_HINT}", file=sys.stderr)
            return 2
    rounds = args.rounds or plan.rounds
    seconds = args.seconds or plan.seconds
    connections = tuple(int(n) for n in args.connections.split(","))
    started = time.monotonic()
    machine = [_machine_start()]
    if args.only == "serving":
        return _serving_only(args, rounds, seconds, connections, machine, started)
    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as tmp:
        work = Path(tmp)
        _say("pipeline: seed snapshots")
        seeds = pipeline.seed_costs(work, plan.repeats)
        _say(f"pipeline: {plan.page_posts}-post HTML page")
        page = pipeline.big_page_cost(plan.page_posts, plan.repeats)
        cycles = []
        for count in plan.cycles:
            _say(f"pipeline: refresh cycles of {count} sources")
            cycles.append(pipeline.cycle_cost(work, count, plan.cycle_repeats))
        _say(f"pipeline: CPU per step of a refresh, {plan.step_sources} sources")
        steps = pipeline.step_costs(work, plan.step_sources)
        _say(f"store: {', '.join(f'{n:,}' for n in plan.store_levels)} entries")
        store = _store(work, plan)
        results = report.Results(machine, seeds, page, cycles, store, plan.store_sources, steps=steps)
        if plan.serving:
            _say(f"serving: {rounds} round(s) of {seconds:g} s loads")
            results.serving = serving.run(
                work / "serving", rounds, seconds, granian=not args.no_granian, connections=connections
            )
        else:
            results.serving_skipped = "smoke run (`--smoke`): no nginx or wrk"
    _finish(args, machine, started, results, noisy=not args.smoke)
    report.write(results, args.out)
    _say(f"wrote {args.out}")
    return 0


def _finish(args: argparse.Namespace, machine: list[str], started: float, results: object, noisy: bool) -> None:
    """The machine notes a run ends with, and its raw results pickled when ``--raw`` asks for them."""
    machine.append(f"load average at the end: {_load()}; the whole run took {time.monotonic() - started:.0f} s")
    if noisy:
        machine.append(
            "the machine is a shared 2-core box whose load the run does not control: "
            "figures are noisy, ratios (same round) are the numbers to trust"
        )
    if args.raw:
        args.raw.parent.mkdir(parents=True, exist_ok=True)
        args.raw.write_bytes(pickle.dumps(results))


def _serving_only(
    args: argparse.Namespace,
    rounds: int,
    seconds: float,
    connections: tuple[int, ...],
    machine: list[str],
    started: float,
) -> int:
    out = args.out if args.out != DEFAULT_OUT else DEFAULT_OUT.with_name("performance-serving.md")
    _say(f"serving: {rounds} round(s) of {seconds:g} s loads at {connections} connections")
    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as tmp:
        work = Path(tmp) / "serving"
        result = serving.run(work, rounds, seconds, granian=not args.no_granian, connections=connections)
    _finish(args, machine, started, result, noisy=True)
    out.write_text(report.serving_markdown(result, machine), encoding="utf-8")
    _say(f"wrote {out}")
    return 0


def _store(work: Path, plan: Plan) -> list[dict[str, float]]:
    levels = ",".join(str(n) for n in plan.store_levels)
    measured: list[dict[str, float]] = tools.child("store", str(work / "store.db"), str(plan.store_sources), levels)
    return measured


def _machine_start() -> str:
    versions = [f"Python {platform.python_version()}"]
    for tool, flag in (("nginx", "-v"), ("wrk", "-v")):
        path = tools.which(tool)
        if path:
            out = subprocess.run([path, flag], capture_output=True, text=True, check=False)
            text = (out.stderr or out.stdout).strip().splitlines()
            versions.append(text[0] if text else tool)
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"{', '.join(versions)}; load average at the start: {_load()}"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
