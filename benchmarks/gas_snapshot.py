"""The committed gas snapshot: gas of a tranche transfer and claim, of the pool's deposit and distribute, and of the
fleet register's attestations, release and long-stop and the oracle's reports with their lease tapes.

``python benchmarks/gas_snapshot.py`` re-measures on a fresh embedded chain and writes ``.gas-snapshot.json``;
``--check`` compares instead and exits 1 when any figure rose more than 1% above the committed one, printing the
difference (``tests/integration/test_gas_snapshot.py`` runs the same comparison in the test suite). Gas on the
embedded chain is deterministic, so a difference is a change in the contracts or in how they are driven.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

from rwa.chain.connect import connect
from rwa.chain.interface import Chain

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / ".gas-snapshot.json"
TOLERANCE = 0.01
SNAPSHOT_HOLDERS = 10


def _sibling(name: str) -> object:
    """Load a sibling benchmark module by path (``benchmarks`` is a folder of scripts, not an installed package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure_snapshot() -> dict[str, int]:
    """Every figure of the snapshot, each measured on its own fresh embedded chain."""
    transfer = cast(Callable[[Chain], dict[str, int]], _sibling("bench_transfer_gas").measure_transfer_gas)  # type: ignore[attr-defined]
    pool = cast(Callable[[Chain, int], dict[str, int]], _sibling("bench_pool_gas").measure_pool_gas)  # type: ignore[attr-defined]
    fleet = cast(Callable[[], dict[str, int]], _sibling("bench_gas_fleet").measure)  # type: ignore[attr-defined]
    with connect(state=Path(tempfile.mkdtemp(prefix="gas-snapshot-")) / "chain.sqlite") as chain:
        token_gas = transfer(chain)
    with connect(state=Path(tempfile.mkdtemp(prefix="gas-snapshot-")) / "chain.sqlite") as chain:
        pool_gas = pool(chain, SNAPSHOT_HOLDERS)
    return {
        "TrancheToken.transfer": token_gas["compliant_transfer"],
        "TrancheToken.transfer (before any distribution)": token_gas["compliant_transfer_before_distribution"],
        "TrancheToken.claim": token_gas["claim"],
        "TrancheToken.distributeFunds": token_gas["distribute_funds"],
        "PlainERC20.transfer (baseline)": token_gas["plain_transfer"],
        "LeasePool.deposit": pool_gas["deposit_2"],
        "LeasePool.deposit (first)": pool_gas["deposit_1"],
        "LeasePool.distribute": pool_gas["distribute_2"],
        "LeasePool.distribute (first)": pool_gas["distribute_1"],
        **fleet(),
    }


def load_snapshot(path: Path = SNAPSHOT) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def write_snapshot(figures: Mapping[str, int], path: Path = SNAPSHOT) -> None:
    path.write_text(json.dumps(dict(sorted(figures.items())), indent=2) + "\n", encoding="utf-8")


def compare(committed: Mapping[str, int], measured: Mapping[str, int], tolerance: float = TOLERANCE) -> list[str]:
    """One line per problem: a figure that rose more than ``tolerance`` above the committed one, or a figure
    missing on either side. An empty list means the snapshot holds."""
    problems = []
    for key in sorted(set(committed) | set(measured)):
        if key not in measured:
            problems.append(f"{key}: in the snapshot but no longer measured")
        elif key not in committed:
            problems.append(f"{key}: measured ({measured[key]:,}) but not in the snapshot; regenerate it")
        elif measured[key] > committed[key] * (1 + tolerance):
            rise = measured[key] / committed[key] - 1
            problems.append(f"{key}: {committed[key]:,} -> {measured[key]:,} gas (+{rise:.2%})")
    return problems


def render_diff(committed: Mapping[str, int], measured: Mapping[str, int]) -> str:
    lines = [f"{'figure':48}{'snapshot':>12}{'measured':>12}{'change':>9}"]
    for key in sorted(set(committed) | set(measured)):
        old, new = committed.get(key), measured.get(key)
        change = f"{new / old - 1:+.2%}" if old and new else "n/a"
        lines.append(f"{key:48}{old or 0:>12,}{new or 0:>12,}{change:>9}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    measured = measure_snapshot()
    if "--check" in argv:
        committed = load_snapshot()
        print(render_diff(committed, measured))
        problems = compare(committed, measured)
        for line in problems:
            print(f"GAS ROSE: {line}")
        return 1 if problems else 0
    write_snapshot(measured)
    print(render_diff(measured, measured))
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
