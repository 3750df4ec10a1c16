"""Gas of the fleet register and the escrow, from receipts on a fresh embedded chain: a delivery attestation
(released at once, and deferred for want of equity), the deferred release sent by anyone, the long-stop
settlement, a report with a three-lease tape and with a 100-lease tape, and ``LeasePool.distribute`` through the
quorum-signing oracle and the register; then ``distribute`` against the committed gas snapshot (``.gas-snapshot.json``,
measured with the stub oracle the snapshot has always used): the limit is a rise of at most 5%. The snapshot holds
these figures too (``benchmarks/gas_snapshot.py`` measures them with :func:`measure`), so a later rise shows there.

Run: ``PYTHONPATH=. python benchmarks/bench_gas_fleet.py``.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from tests.support.register_system import RegisterSystem, deploy_register_system

LIMIT = 1.05
"""``distribute`` may cost at most this multiple of the snapshot's figure."""
CASH = (300_000, 250_000)
WIDE_FLEET = (("OEM-A", 60, 1_000), ("OEM-B", 40, 1_000), ("OEM-C", 20, 1_000))
WIDE_LEASES = tuple((f"Lessee {i:03d}", 1, 100) for i in range(1, 101))
"""100 leases of one server each on a fleet of 120: the 100-lease tape."""


def _fund_and_attest(s: RegisterSystem) -> dict[str, int]:
    escrow = s.register.escrow()
    # equity for the first delivery only: the second is recorded and released later
    price = 4 * s.register_terms.orders[0].unit_price
    equity = price - price * escrow.raise_amount // escrow.capex_total
    s.fund_equity(equity)
    gas = {"FleetRegister.attestDelivery (released)": int(s.attest(0, 4)["gasUsed"])}
    deferred = s.attest(1, 3)
    assert not s.released(deferred)
    gas["FleetRegister.attestDelivery (deferred)"] = int(deferred["gasUsed"])
    s.fund_equity(10 * equity)
    release = s.register.release(1, sender=s.outsider)
    assert s.released(release)
    gas["FleetRegister.release (deferred)"] = int(release["gasUsed"])
    return gas


def measure_fleet_gas(chain: Chain) -> dict[str, int]:
    """Every figure but the 100-lease tape's, on one deal: the offering sold out, deliveries, two periods."""
    s = deploy_register_system(chain)
    s.sell_out()
    gas = _fund_and_attest(s)
    for period, cash in enumerate(CASH, start=1):
        s.chain.time_travel(s.terms.period_end(period))
        report = s.report(period)
        if period == 1:
            gas["RevenueOracle.submit (3-lease tape)"] = int(report["gasUsed"])
        s.usd.mint(s.servicer, cash, sender=s.admin)
        s.pool.deposit(period, cash, sender=s.servicer)
        key = "LeasePool.distribute (real oracle, first)" if period == 1 else \
            "LeasePool.distribute (real oracle)"
        gas[key] = int(s.pool.distribute(period, sender=s.servicer)["gasUsed"])
    s.chain.time_travel(s.register.long_stop())
    gas["FleetRegister.settleLongStop"] = int(
        s.register.settle_long_stop(sender=s.outsider)["gasUsed"])
    return gas


def measure_wide_tape_gas(chain: Chain) -> int:
    """A report whose tape has 100 rows, each lease holding a server."""
    s = deploy_register_system(chain, offering=False, orders=WIDE_FLEET, leases=WIDE_LEASES)
    for order, (_, servers, _) in enumerate(WIDE_FLEET):
        s.attest(order, servers)
    s.chain.time_travel(s.terms.period_end(1))
    return int(s.report(1)["gasUsed"])


FLEET_FIGURES = (
    "FleetRegister.attestDelivery (released)",
    "FleetRegister.attestDelivery (deferred)",
    "FleetRegister.release (deferred)",
    "FleetRegister.settleLongStop",
    "RevenueOracle.submit (3-lease tape)",
    "RevenueOracle.submit (100-lease tape)",
    "LeasePool.distribute (real oracle, first)",
    "LeasePool.distribute (real oracle)",
)
"""What :func:`measure` gives, in the order it is printed; the committed snapshot holds them too."""


def measure() -> dict[str, int]:
    """Every figure of :data:`FLEET_FIGURES`, each deal on its own fresh embedded chain."""
    with connect(state=Path(tempfile.mkdtemp(prefix="bench-fleet-")) / "chain.sqlite") as chain:
        gas = measure_fleet_gas(chain)
    with connect(state=Path(tempfile.mkdtemp(prefix="bench-fleet-")) / "chain.sqlite") as chain:
        gas["RevenueOracle.submit (100-lease tape)"] = measure_wide_tape_gas(chain)
    return gas


def _snapshot_module() -> object:
    spec = importlib.util.spec_from_file_location("_gas_snapshot", Path(__file__).with_name("gas_snapshot.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    snapshot = _snapshot_module()
    committed = cast(Callable[[], dict[str, int]], snapshot.load_snapshot)()  # type: ignore[attr-defined]
    figures = cast(Callable[[], dict[str, int]], snapshot.measure_snapshot)()  # type: ignore[attr-defined]
    for key in FLEET_FIGURES:
        print(f"{key:48}{figures[key]:>12,}")
    worst = 0.0
    print(f"\n{'distribute against the committed snapshot':48}{'snapshot':>12}{'measured':>12}{'change':>9}")
    for key in ("LeasePool.distribute (first)", "LeasePool.distribute"):
        base, measured = committed[key], figures[key]
        worst = max(worst, measured / base)
        print(f"{key:48}{base:>12,}{measured:>12,}{measured / base - 1:>+9.2%}")
    verdict = "within" if worst <= LIMIT else "OVER"
    print(f"distribute: at most {worst - 1:+.2%} against the snapshot, {verdict} the +{LIMIT - 1:.0%} limit")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
