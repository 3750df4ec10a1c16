"""The committed gas snapshot holds: no figure rose more than 1% above ``.gas-snapshot.json`` (the pool, the tokens,
and the fleet register and the oracle's lease tapes: ``benchmarks/bench_gas_fleet.py``).

Gas on a fresh embedded chain is deterministic (but for a few dozen gas of calldata where an attestation carries the
chain's wall-clock time, far inside the 1%), so this is a comparison of costs, not a timing. When a
change makes a contract cheaper, or a rise is intended, regenerate with ``python benchmarks/gas_snapshot.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from rwa.build.compile import Build

ROOT = Path(__file__).resolve().parents[2]


def _load_gas_snapshot() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_gas_snapshot", ROOT / "benchmarks" / "gas_snapshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_flags_a_rise_over_one_percent_and_missing_figures() -> None:
    gas = _load_gas_snapshot()
    assert gas.compare({"a": 1000, "b": 1000}, {"a": 1010, "b": 990}) == []
    problems = gas.compare({"a": 1000, "gone": 5}, {"a": 1011, "new": 7})
    assert len(problems) == 3 and problems[0].startswith("a: 1,000 -> 1,011")


def test_no_gas_figure_rose_above_the_committed_snapshot(build: Build) -> None:
    gas = _load_gas_snapshot()
    committed = gas.load_snapshot(ROOT / ".gas-snapshot.json")
    measured = gas.measure_snapshot()
    print(gas.render_diff(committed, measured))
    problems = gas.compare(committed, measured)
    assert not problems, "gas rose above the committed snapshot:\n" + "\n".join(problems)


def test_the_limits_a_batch_names_keep_room_over_the_committed_snapshot() -> None:
    """A deposit sent with its approval, and a distribution sent with its deposits, cannot be estimated by a node
    (:mod:`rwa.chain.pipeline`): their limits are the snapshot's dearest figures with half as much again at least
    (a real stablecoin's ``transferFrom`` costs more than the test one's)."""
    from rwa.onchain.pool import DEPOSIT_GAS, DISTRIBUTE_GAS

    committed = _load_gas_snapshot().load_snapshot(ROOT / ".gas-snapshot.json")
    deposit = max(committed["LeasePool.deposit"], committed["LeasePool.deposit (first)"])
    distribute = max(committed["LeasePool.distribute"], committed["LeasePool.distribute (first)"])
    room = {"deposit": DEPOSIT_GAS - 3 * deposit // 2, "distribute": DISTRIBUTE_GAS - 3 * distribute // 2}
    assert min(room.values()) >= 0, room


def test_the_fleet_limits_keep_room_over_the_committed_snapshot() -> None:
    """An attestation and a report are sent with a named limit on the embedded chain (``ATTEST_GAS``,
    ``submit_gas``): a tenth more at least than the snapshot's figures, with a three- and a 100-lease tape."""
    from rwa.onchain.oracle import submit_gas
    from rwa.onchain.register import ATTEST_GAS

    committed = _load_gas_snapshot().load_snapshot(ROOT / ".gas-snapshot.json")
    room = {
        "attest": ATTEST_GAS - 11 * committed["FleetRegister.attestDelivery (released)"] // 10,
        "tape 3": submit_gas(3) - 11 * committed["RevenueOracle.submit (3-lease tape)"] // 10,
        "tape 100": submit_gas(100) - 11 * committed["RevenueOracle.submit (100-lease tape)"] // 10,
    }
    assert min(room.values()) >= 0, room
