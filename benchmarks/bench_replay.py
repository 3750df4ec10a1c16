"""The auditor's replay against merely fetching its logs, and a second run with no new blocks.

On a demo history (the embedded chain under --demo, default out/demo from `make demo`; made if missing): time
(1) fetching every log of the deployment's contracts in the replay's bounded ranges and nothing else, (2) the whole
replay from an empty ledger (ingest, rebuild, recompute, reconcile, report), (3) the same replay again with no new
blocks. Prints both ratios (targets: whole replay <= 2x fetching; second run <= the first's ingest: it reads the
ledger's blocks again to compare them with the chain, and recomputes nothing when they are the same).

    python benchmarks/bench_replay.py [--demo out/demo]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from rwa.chain.connect import connect
from rwa.onchain.deployment import load_manifest
from rwa.replay.ingest import DEFAULT_RANGE, range_queries
from rwa.replay.run import _sources, run_replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("out/demo"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are reported")
    args = parser.parse_args()
    manifest_path = args.demo / "deployment.json"
    if not manifest_path.is_file():
        from rwa.cli.demo import run_demo

        run_demo(Console(), out=args.demo)
    manifest = load_manifest(manifest_path)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp, connect(state=args.demo / "chain.sqlite") as chain:
        head = int(chain.w3.eth.block_number)
        sources = _sources(manifest)
        fetches, wholes, agains = [], [], []
        for attempt in range(args.repeat):  # alternate the two so that both see the same machine
            t = time.perf_counter()
            logs = 0
            for frm in range(manifest.deployment_block, head + 1, DEFAULT_RANGE):
                to = min(head, frm + DEFAULT_RANGE - 1)
                for query in range_queries(sources, frm, to):  # the very queries the replay makes
                    logs += len(chain.w3.eth.get_logs(query))
            fetches.append(time.perf_counter() - t)
            out, db = Path(tmp) / f"audit{attempt}", Path(tmp) / f"ledger{attempt}.sqlite"
            t = time.perf_counter()
            first = run_replay(chain, manifest_path, out, db=db)
            wholes.append(time.perf_counter() - t)
            t = time.perf_counter()
            second = run_replay(chain, manifest_path, out, db=db)
            agains.append(time.perf_counter() - t)
        fetch, whole, again = statistics.median(fetches), statistics.median(wholes), statistics.median(agains)
        shutil.rmtree(out, ignore_errors=True)
    print(f"history: {head - manifest.deployment_block} blocks, {logs} logs; verdict "
          f"{'reconciled' if first.exit_code == 0 else f'{len(first.findings)} findings'}")
    print(f"medians of {args.repeat} alternating runs; fetch {[round(x, 2) for x in fetches]}, "
          f"replay {[round(x, 2) for x in wholes]}")
    print(f"fetching the logs only: {fetch:.2f} s")
    ingest, reconcile = first.timings["ingest"], first.timings["reconcile"]
    print(f"whole replay:           {whole:.2f} s  (ingest {ingest:.2f} s, reconcile {reconcile:.2f} s, "
          f"report {whole - ingest - reconcile:.2f} s)  -> {whole / fetch:.2f}x fetching (target <= 2)")
    print(f"second run, no new blocks: {again:.3f} s -> {again / ingest:.2f}x the first's ingest (target <= 1)"
          f"{' (reused the report)' if second.reused else ''}")


if __name__ == "__main__":
    main()
