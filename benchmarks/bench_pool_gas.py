"""Gas of ``LeasePool.distribute`` with 10 and with 1,000 holders per tranche, and of ``deposit``.

The tranche tokens credit holders through a per-share accumulator, so a distribution's cost must not depend on how
many hold the tokens: the target is at most 1.02 times the 10-holder figure at 1,000 holders. Both deals are
identical but for the holder count (same face, same junior supply, same cash), each on a fresh embedded chain, and
the same periods are measured: period 1 (first writes of the pool's and tokens' storage) and period 2 (steady
state). Run: ``PYTHONPATH=. python benchmarks/bench_pool_gas.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eth_utils.crypto import keccak
from web3 import Web3

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from tests.support.pool_system import PoolSystem, deploy_pool_system

TARGET_RATIO = 1.02
SENIOR_FACE_PER_HOLDER_AT_10 = 60_000
JUNIOR_SUPPLY = 1_000_000
CASH = (500_000, 420_000)


def holder_addresses(count: int) -> list[str]:
    """``count`` distinct deterministic addresses (they only receive tokens; nobody signs for them)."""
    return [Web3.to_checksum_address(keccak(b"rwa-bench-holder" + i.to_bytes(4, "big"))[:20]) for i in range(count)]


def _split(total: int, count: int) -> list[int]:
    share, extra = divmod(total, count)
    return [share + (1 if i < extra else 0) for i in range(count)]


def deploy_with_holders(chain: Chain, count: int) -> PoolSystem:
    """The demo deal with ``count`` senior and ``count`` junior holders (the same addresses), on calendar-month
    periods from the 1st of a month, as a deal's pool counts them."""
    holders = holder_addresses(count)
    face = SENIOR_FACE_PER_HOLDER_AT_10 * 10
    schedule = (face // 6, face // 3, face - face // 6 - face // 3)
    return deploy_pool_system(
        chain,
        senior_holders=dict(zip(holders, _split(face, count), strict=True)),
        junior_holders=dict(zip(holders, _split(JUNIOR_SUPPLY, count), strict=True)),
        principal_schedule=schedule,
        monthly=True,
    )


def measure_pool_gas(chain: Chain, holders: int) -> dict[str, int]:
    """Gas used by ``deposit`` and by ``distribute`` of periods 1 and 2 in a deal with ``holders`` per tranche."""
    s = deploy_with_holders(chain, holders)
    gas: dict[str, int] = {}
    for period, cash in enumerate(CASH, start=1):
        s.usd.mint(s.servicer, cash, sender=s.admin)
        gas[f"deposit_{period}"] = int(s.pool.deposit(period, cash, sender=s.servicer)["gasUsed"])
        s.report(period, cash)
        gas[f"distribute_{period}"] = int(s.distribute(period)["gasUsed"])
    return gas


def measure_on_fresh_chain(holders: int) -> dict[str, int]:
    with connect(state=Path(tempfile.mkdtemp(prefix="bench-pool-")) / "chain.sqlite") as chain:
        return measure_pool_gas(chain, holders)


def main() -> None:
    small = measure_on_fresh_chain(10)
    large = measure_on_fresh_chain(1_000)
    print(f"{'':28}{'10 holders':>12}{'1,000 holders':>15}{'ratio':>8}")
    worst = 0.0
    for key in ("deposit_1", "deposit_2", "distribute_1", "distribute_2"):
        ratio = large[key] / small[key]
        if key.startswith("distribute"):
            worst = max(worst, ratio)
        print(f"{key:28}{small[key]:>12,}{large[key]:>15,}{ratio:>8.4f}")
    verdict = "within" if worst <= TARGET_RATIO else "OVER"
    print(f"distribute ratio (1,000 / 10 holders) {worst:.4f} is {verdict} the {TARGET_RATIO}x target")


if __name__ == "__main__":
    main()
