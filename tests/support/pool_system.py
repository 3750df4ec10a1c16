"""A whole deal on a development chain for tests and benchmarks: stablecoin, compliance registry, stub oracle,
senior and junior tranche tokens, pool.

The oracle is ``StubRevenueOracle`` (a test double whose reports anyone sets), so that the pool's tests do not depend
on the quorum-signing oracle; everything else is the product's own contracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from web3.contract import Contract
from web3.types import TxReceipt

from rwa.build.compile import load_build
from rwa.chain.interface import Chain
from rwa.chain.tx import deploy, send
from rwa.model.calendar import equal_ends, month_ends, next_month_start
from rwa.model.terms import DefaultRules
from rwa.model.waterfall import PeriodLegs, PoolTerms
from rwa.onchain.base import Role
from rwa.onchain.pool import DepositKind, LeasePool
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.stablecoin import Stablecoin
from rwa.onchain.tranche import TrancheToken

DAY = 86_400
YEAR = 365 * DAY
PERIOD = 30 * DAY
"""A test pool's period unless it counts calendar months."""
GAS = 1_000_000
TOKEN_GAS = 200_000
"""Per transaction, and per investor in a batch (the wrappers multiply it); a batch stays under the block limit."""
REGISTRY_GAS = 100_000
MINT_BATCH = 100
JURISDICTION = 344  # ISO 3166-1 numeric, Hong Kong


def demo_terms(start: int, *, monthly: bool = False, **overrides: int | tuple[int, ...]) -> PoolTerms:
    """A small deal: three 30-day periods (calendar months from ``start`` when ``monthly``, as a deal's), 12% senior
    coupon, 1 period of reserve, 1.2x covenant. ``period_ends`` follow ``period_count`` unless given."""
    base: dict[str, int | tuple[int, ...]] = {
        "first_period_start": start,
        "period_count": 3,
        "senior_coupon_bps": 1_200,
        "servicing_fee_per_period": 1_000,
        "reserve_periods": 1,
        "cash_trap_dscr_bps": 12_000,
        "principal_schedule": (100_000, 200_000, 300_000),
    }
    base.update(overrides)
    if "period_ends" not in base:
        count = base["period_count"]
        assert isinstance(count, int)
        base["period_ends"] = month_ends(start, count + 1) if monthly else equal_ends(start, PERIOD, count + 1)
    return PoolTerms(**base)  # type: ignore[arg-type]


@dataclass
class PoolSystem:
    """The deployed contracts and the accounts playing each role."""

    chain: Chain
    terms: PoolTerms
    usd: Stablecoin
    registry: ComplianceRegistry
    oracle: Contract
    senior: TrancheToken
    junior: TrancheToken
    pool: LeasePool
    admin: str
    servicer: str
    fee_recipient: str
    senior_holders: dict[str, int] = field(default_factory=dict)
    junior_holders: dict[str, int] = field(default_factory=dict)

    def report(self, period: int, revenue: int) -> None:
        send(self.oracle.functions.setReport(period, revenue), self.admin, GAS)

    def fund_servicer(self, amount: int) -> None:
        self.usd.mint(self.servicer, amount, sender=self.admin)
        self.usd.approve(self.pool.address, 2**256 - 1, sender=self.servicer)

    def deposit(self, period: int, amount: int, kind: DepositKind = DepositKind.RENT) -> TxReceipt:
        """Mint ``amount`` to the servicer and deposit it (kind ``kind``) for ``period``."""
        self.usd.mint(self.servicer, amount, sender=self.admin)
        return self.pool.deposit(period, amount, kind, sender=self.servicer)

    def end_period(self, period: int) -> None:
        self.chain.time_travel(self.terms.period_end(period))

    def distribute(self, period: int) -> TxReceipt:
        self.end_period(period)
        return self.pool.distribute(period, sender=self.servicer)

    def finalize(self) -> TxReceipt:
        """Settle maturity once period N+1 has ended (anyone may; the admin sends it here)."""
        self.end_period(self.terms.period_count + 1)
        return self.pool.finalize(sender=self.admin)

    def token_dust(self) -> tuple[int, int]:
        """Both tokens' carried remainders in whole units, as ``PeriodDistributed`` reports them."""
        return self.senior.carried_dust_down(), self.junior.carried_dust_down()

    def legs(self, receipt: TxReceipt) -> PeriodLegs:
        return self.pool.legs_in(receipt)

    def allow(self, investors: list[str]) -> None:
        """Allow ``investors`` in the registry with KYC valid for ten years."""
        expiry = self.chain.now() + 10 * YEAR
        self.registry.allow_investors(
            investors, [expiry] * len(investors), [JURISDICTION] * len(investors), sender=self.admin
        )


def deploy_pool_system(
    chain: Chain,
    *,
    senior_holders: Mapping[str, int] | None = None,
    junior_holders: Mapping[str, int] | None = None,
    rules: DefaultRules | None = None,
    stablecoin: str = "TestStablecoin",
    close_issuance: bool = True,
    junior_face: int | None = None,
    monthly: bool = False,
    first_start: int | None = None,
    **term_overrides: int | tuple[int, ...],
) -> PoolSystem:
    """Deploy a deal on ``chain``: accounts 0 admin/trustee (and the fleet register, the one account that may
    prepay), 1 servicer, 2 fee recipient, 3.. holders; the
    default ``rules`` trigger on three periods of interest arrears only, and anyone may distribute at a period's end.

    The terms are :func:`demo_terms` with ``term_overrides``, period 1 starting at the chain's clock once the
    stablecoin is deployed (the embedded chain's first block jumps from genesis to the wall clock); with ``monthly``
    the periods are calendar months from the 1st of the next month at 00:00 UTC, a deal's calendar; ``first_start``
    sets period 1's start instead.
    Senior holders default to accounts 3 and 4 splitting the face 1:2; junior to accounts 5 and 6 with 700 and 300.
    Both tokens' issuance is then closed (the pool distributes nothing before), unless ``close_issuance`` is false.
    The pool's junior face is ``junior_face``, by default what the junior holders are minted.
    """
    accounts = [a.address for a in chain.accounts]
    admin, servicer, fee_recipient = accounts[0], accounts[1], accounts[2]
    if stablecoin == "TestStablecoin":
        usd = Stablecoin.deploy_test(chain, admin)
    else:  # a test double with the same mint(to, amount) and ERC-20 calls, owned by the admin when it has an owner
        owned = any(e.get("type") == "constructor" and e.get("inputs") for e in load_build()[stablecoin].abi)
        double = deploy(chain, stablecoin, *((admin,) if owned else ()), sender=admin, gas=2_000_000)
        usd = Stablecoin.at(chain, double.address)
    if first_start is None:
        now = chain.now()
        first_start = int(next_month_start(datetime.fromtimestamp(now, UTC)).timestamp()) if monthly else now
    terms = demo_terms(first_start, monthly=monthly, **term_overrides)
    if senior_holders is None:
        third = terms.face // 3
        senior_holders = {accounts[3]: third, accounts[4]: terms.face - third}
    if junior_holders is None:
        junior_holders = {accounts[5]: 700, accounts[6]: 300}
    oracle = deploy(chain, "StubRevenueOracle", sender=admin, gas=2_000_000)
    registry = ComplianceRegistry.deploy(chain, admin, gas=REGISTRY_GAS)
    investors = sorted({*senior_holders, *junior_holders})
    if investors:
        expiry = chain.now() + 10 * YEAR
        registry.allow_investors(investors, [expiry] * len(investors), [JURISDICTION] * len(investors), sender=admin)
    senior = TrancheToken.deploy(chain, "Senior", "SNR", usd, registry, admin, gas=TOKEN_GAS)
    junior = TrancheToken.deploy(chain, "Junior", "JNR", usd, registry, admin, gas=TOKEN_GAS)
    for token, holders in ((senior, senior_holders), (junior, junior_holders)):
        if holders:
            token.mint_batch(list(holders), list(holders.values()), sender=admin, batch_size=MINT_BATCH)
        if close_issuance:
            token.close_issuance(sender=admin)
    pool = LeasePool.deploy(
        chain,
        terms,
        rules or DefaultRules(arrears_periods=3, report_overdue_seconds=0, shortfall_bps=0, shortfall_window=0,
                              distribution_grace=0),
        stablecoin=usd.address,
        oracle=oracle.address,
        senior=senior.address,
        junior=junior.address,
        admin=admin,
        servicer=servicer,
        trustee=admin,
        fee_recipient=fee_recipient,
        junior_face=sum(junior_holders.values()) if junior_face is None else junior_face,
        register=admin,
    )
    senior.grant_role(Role.DISTRIBUTOR_ROLE, pool, sender=admin)
    junior.grant_role(Role.DISTRIBUTOR_ROLE, pool, sender=admin)
    usd.approve(pool.address, 2**256 - 1, sender=servicer)
    return PoolSystem(
        chain=chain,
        terms=terms,
        usd=usd,
        registry=registry,
        oracle=oracle,
        senior=senior,
        junior=junior,
        pool=pool,
        admin=admin,
        servicer=servicer,
        fee_recipient=fee_recipient,
        senior_holders=dict(senior_holders),
        junior_holders=dict(junior_holders),
    )
