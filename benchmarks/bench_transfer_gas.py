"""Gas of a compliant TrancheToken transfer against a plain OpenZeppelin ERC-20 transfer, and of a claim.

Both transfers are measured under the same storage warmth: sender and receiver already hold balances, so every
balance write changes a non-zero slot. The tranche transfer is measured in its steady state, after distributions,
when both holders' distribution corrections are already non-zero; the figure before the first distribution (when
corrections are not touched) is reported too. The tranche transfer reads compliance from the token's own storage
(the registry pushes each investor's record to its bound tokens), so the price of that design is paid once per
investor at allowance, reported as ``allowInvestors`` per investor with two bound tokens (senior and junior).
Run: ``PYTHONPATH=. python benchmarks/bench_transfer_gas.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rwa.chain import tx
from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.tranche import TrancheToken

TARGET_RATIO = 1.6
_GAS = 1_000_000


def _gas(receipt: object) -> int:
    return int(receipt["gasUsed"])  # type: ignore[index]


def measure_transfer_gas(chain: Chain) -> dict[str, int]:
    """Deploy the contracts on ``chain`` and return gas used by: ``plain_transfer``, ``compliant_transfer``
    (steady state, after distributions), ``compliant_transfer_before_distribution``, ``claim``,
    ``distribute_funds`` and ``allow_investors_per_investor`` (a batch of 50 with two bound tokens). Leaves the
    deployed contracts on the chain."""
    admin, alice, bob = (a.address for a in chain.accounts[:3])

    plain = tx.deploy(chain, "PlainERC20", 10**12, sender=alice)
    tx.send(plain.functions.transfer(bob, 1_000_000), alice, _GAS)  # bob's balance slot becomes non-zero
    plain_gas = _gas(tx.send(plain.functions.transfer(bob, 1_000), alice, _GAS))

    usd = tx.deploy(chain, "TestStablecoin", "Test USD", "tUSD", admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=_GAS)
    token = TrancheToken.deploy(chain, "Senior", "SNR", usd.address, registry, admin, gas=_GAS)
    TrancheToken.deploy(chain, "Junior", "JNR", usd.address, registry, admin, gas=_GAS)  # a deal's second tranche
    expiry = chain.now() + 365 * 86_400
    registry.allow_investors([alice, bob], [expiry, expiry], [156, 156], sender=admin)
    token.mint_batch([alice, bob], [10**12, 1_000_000], sender=admin)
    before_gas = _gas(token.transfer(bob, 1_000, sender=alice))

    token.grant_role("DISTRIBUTOR_ROLE", admin, sender=admin)
    tx.send(usd.functions.mint(token.address, 3_000_000), admin, _GAS)
    distribute_gas = _gas(token.distribute_funds(1_000_000, sender=admin))
    token.transfer(bob, 1_000, sender=alice)  # both corrections become non-zero
    compliant_gas = _gas(token.transfer(bob, 1_000, sender=alice))

    token.distribute_funds(1_000_000, sender=admin)
    token.claim(sender=bob)  # bob's withdrawn slot becomes non-zero, as for any holder's later claims
    token.distribute_funds(1_000_000, sender=admin)
    claim_gas = _gas(tx.send(token.contract.functions.claim(), bob, _GAS))

    batch = [f"0x{i:040x}" for i in range(1, 51)]
    (allow_receipt,) = registry.allow_investors(batch, [expiry] * len(batch), [156] * len(batch), sender=admin)
    return {
        "plain_transfer": plain_gas,
        "compliant_transfer": compliant_gas,
        "compliant_transfer_before_distribution": before_gas,
        "claim": claim_gas,
        "distribute_funds": distribute_gas,
        "allow_investors_per_investor": _gas(allow_receipt) // len(batch),
    }


def main() -> None:
    with connect(state=Path(tempfile.mkdtemp(prefix="bench-gas-")) / "chain.sqlite") as chain:
        gas = measure_transfer_gas(chain)
    ratio = gas["compliant_transfer"] / gas["plain_transfer"]
    ratio_before = gas["compliant_transfer_before_distribution"] / gas["plain_transfer"]
    print(f"plain OpenZeppelin ERC-20 transfer        {gas['plain_transfer']:>8,} gas")
    print(f"compliant transfer, after distributions   {gas['compliant_transfer']:>8,} gas  ratio {ratio:.3f}")
    print(
        f"compliant transfer, before any distribution {gas['compliant_transfer_before_distribution']:>6,} gas  "
        f"ratio {ratio_before:.3f}"
    )
    print(f"claim                                     {gas['claim']:>8,} gas")
    print(f"distributeFunds (first)                   {gas['distribute_funds']:>8,} gas")
    print(f"allowInvestors, per investor, 2 tokens    {gas['allow_investors_per_investor']:>8,} gas")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"steady-state ratio {ratio:.3f} is {verdict} the {TARGET_RATIO}x target")


if __name__ == "__main__":
    main()
