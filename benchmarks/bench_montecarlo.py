"""Monte Carlo benchmark: 100,000 paths of 60 months, vectorized against a per-path Python loop.

Run: ``PYTHONPATH=. python benchmarks/bench_montecarlo.py [--paths N] [--repeats R]``

It prints three figures, all on the demo deal (examples/deal-h800.toml) and in one process:

1. end to end: ``simulate()`` (draw every path, cash flows, waterfall, statistics) for N paths; the median of R
   runs. The target is at most 2 s for 100,000 x 60 on a 2-core machine.
2. engine: cash flows and waterfall for the same N pre-drawn paths, vectorized (``run_draws``); median of R.
3. loop: cash flows and waterfall for the SAME N pre-drawn paths, one path at a time in plain Python
   (``simulate_loop``), run once over all N paths (no subset, no scaling).

The speed-up is loop / engine: both start from the same draws and compute the same outputs, which the script
checks bit for bit (min DSCR, cash trap and senior loss per path). Drawing the paths is not part of either side of the
ratio; it is in figure 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rwa.leverage.montecarlo import draw, run_draws, simulate  # noqa: E402
from rwa.leverage.sizing import size_deal  # noqa: E402
from rwa.model.deal_file import load_deal  # noqa: E402
from tests.support.reference_loops import simulate_loop  # noqa: E402

PERIODS = 60
SEED = 20250701


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, list[float], float]:
    """Median wall time, every wall time, and the median CPU time of this process."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), times, statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--deal", type=Path, default=ROOT / "examples" / "deal-h800.toml")
    args = parser.parse_args()

    deal = load_deal(args.deal)
    if deal.periods.count != PERIODS:
        print(f"note: the deal has {deal.periods.count} periods, not {PERIODS}")
    sizing = size_deal(deal)
    simulate(deal, sizing, paths=2_000, seed=SEED)  # warm-up: imports, allocator, caches

    end_to_end, e2e_runs, _ = _timed(lambda: simulate(deal, sizing, paths=args.paths, seed=SEED), args.repeats)
    draws = draw(deal, args.paths, SEED)
    engine, engine_runs, engine_cpu = _timed(lambda: run_draws(deal, sizing, draws), args.repeats)
    vectorized = run_draws(deal, sizing, draws)

    start, start_cpu = time.perf_counter(), time.process_time()
    low, trapped, loss = simulate_loop(deal, sizing, draws)
    loop, loop_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    same = (
        np.array_equal(vectorized.min_dscr, low)
        and np.array_equal(vectorized.loss, loss)
        and vectorized.trapped.tolist() == trapped
    )
    cpu = os.cpu_count()
    print(f"machine: {platform.processor() or platform.machine()}, {cpu} cores, load {os.getloadavg()[0]:.2f}, "
          f"python {platform.python_version()}, numpy {np.__version__}")
    print(f"paths x periods: {args.paths:,} x {deal.periods.count}")
    print(f"end to end (draw + cash flows + waterfall + statistics), median of {args.repeats}: {end_to_end:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in e2e_runs)})")
    print(f"engine, vectorized, same pre-drawn paths, median of {args.repeats}: {engine:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in engine_runs)})")
    print(f"loop, per-path Python over all {args.paths:,} same paths, once: {loop:.2f} s")
    print(f"speed-up (loop / engine), wall clock: {loop / engine:.0f}x")
    print(f"speed-up on this process's CPU time (other load on the machine left out): {loop_cpu / engine_cpu:.0f}x "
          f"(engine {engine_cpu:.3f} s, loop {loop_cpu:.2f} s)")
    print(f"for reference, loop / end to end: {loop / end_to_end:.0f}x")
    print(f"results identical per path (min DSCR, cash trap, senior loss; bit for bit): {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
