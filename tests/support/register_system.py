"""A whole deal with its fleet register on a development chain, for the register's contract tests, the escrow's
property test and the fleet's gas benchmark: stablecoin, the quorum-signing oracle (five development reporters,
three to sign), the fleet register with three supplier orders and three leases, the tranche tokens, a pool whose
``register`` is the register, and (unless ``offering`` is false) the offering whose close escrows the raise.

Everything is the product's own contracts; only the clock is a test's: equal periods of :data:`PERIOD` seconds from
the chain's time at deployment, the long-stop at the end of period :data:`LONG_STOP_PERIOD`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from rwa.chain.interface import Chain
from rwa.chain.tx import event_args
from rwa.model.fleet import LeaseRow, LeaseTerms, OrderTerms, RegisterTerms, allocate, contracted_rent
from rwa.model.offering_book import Cost, OfferingConfig
from rwa.model.terms import DefaultRules
from rwa.model.units import FX_RATE_SCALE
from rwa.model.waterfall import PoolTerms
from rwa.onchain.base import Role
from rwa.onchain.offering import DealOffering
from rwa.onchain.oracle import Report, RevenueOracle
from rwa.onchain.pool import DepositKind, LeasePool
from rwa.onchain.register import Delivery, FleetRegister
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.stablecoin import Stablecoin
from rwa.onchain.tranche import TrancheToken
from rwa.oracle.attest import sign_delivery
from rwa.oracle.keys import dev_reporters
from rwa.oracle.report import sign_report
from tests.support.pool_system import DAY, JURISDICTION, PERIOD, TOKEN_GAS, YEAR, demo_terms

THRESHOLD = 3
GRACE = 5 * DAY
MULTIPLE_BPS = 20_000
LONG_STOP_PERIOD = 2
JUNIOR_SIZE = 100_000
RESERVE = 50_000
COSTS = (10_000, 5_000)
WINDOW = 7 * DAY
ORDERS = (("OEM-A", 10, 40_000), ("OEM-B", 8, 50_000), ("OEM-C", 5, 20_000))
"""(supplier, servers, unit price): a fleet of 900,000 units, more than the test raise's proceeds."""
LEASES = (("Lessee A", 12, 700), ("Lessee B", 6, 800), ("Lessee C", 5, 600))
"""(lessee, servers, rent per server and period), each for the whole term."""


@dataclass
class RegisterSystem:
    chain: Chain
    terms: PoolTerms
    register_terms: RegisterTerms
    usd: Stablecoin
    oracle: RevenueOracle
    register: FleetRegister
    pool: LeasePool
    senior: TrancheToken
    junior: TrancheToken
    offering: DealOffering | None
    reporters: list[LocalAccount]
    admin: str
    servicer: str
    treasury: str
    investors: list[str]
    cost_recipients: list[str]
    suppliers: list[str]
    outsider: str
    sent: list[Delivery] = field(default_factory=list)

    # -- the offering ----------------------------------------------------------------------------------------

    def subscribe(self, investor: str, tranche: int, assets: int) -> TxReceipt:
        assert self.offering is not None
        self.usd.mint(investor, assets, sender=self.admin)
        self.usd.approve(self.offering.address, assets, sender=investor)
        return self.offering.subscribe(tranche, assets, investor, sender=investor)

    def close(self) -> TxReceipt:
        assert self.offering is not None
        self.chain.time_travel(self.offering.config().close_time)
        return self.offering.close(sender=self.outsider)

    def sell_out(self) -> TxReceipt:
        """Both tranches subscribed in full by two investors each, then closed."""
        for tranche, size in ((0, self.terms.face), (1, JUNIOR_SIZE)):
            half = size // 2
            self.subscribe(self.investors[2 * tranche], tranche, half)
            self.subscribe(self.investors[2 * tranche + 1], tranche, size - half)
        return self.close()

    # -- the fleet -------------------------------------------------------------------------------------------

    def delivery(self, order: int, servers: int, accepted_at: int | None = None, sequence: int | None = None,
                 site: str = "hall A") -> Delivery:
        seq = self.register.sequence() if sequence is None else sequence
        at = self.chain.head()[1] if accepted_at is None else accepted_at  # the dry run sees the head
        return Delivery(order, servers, (seq + 1).to_bytes(32, "big"), at, site, seq)

    def signatures(self, delivery: Delivery, signers: Sequence[LocalAccount] | None = None) -> list[bytes]:
        keys = sorted(self.reporters, key=lambda k: k.address.lower())[:THRESHOLD] if signers is None else signers
        return sign_delivery(delivery, keys, self.chain.chain_id, self.oracle.address)

    def attest(self, order: int, servers: int, accepted_at: int | None = None,
               signers: Sequence[LocalAccount] | None = None) -> TxReceipt:
        """Attest ``servers`` of order ``order`` accepted at ``accepted_at`` (default the head's time), signed by a
        quorum."""
        d = self.delivery(order, servers, accepted_at)
        receipt = self.register.attest_delivery(d, self.signatures(d, signers), sender=self.outsider)
        self.sent.append(d)
        return receipt

    def fund_equity(self, amount: int, funder: str | None = None) -> TxReceipt:
        who = self.treasury if funder is None else funder
        self.usd.mint(who, amount, sender=self.admin)
        self.usd.approve(self.register.address, amount, sender=who)
        return self.register.fund_equity(amount, sender=who)

    def released(self, receipt: TxReceipt) -> list[dict[str, Any]]:
        return event_args(self.register.contract, "Released", receipt)

    # -- the pool ----------------------------------------------------------------------------------------------

    def report(self, period: int) -> TxReceipt:
        """Report ``period`` with the tape the register allows: each lease billed its servers' rent in full."""
        leases = self.register.leases()
        fleet = self.register.fleet_at(self.terms.period_end(period))
        servers = allocate(leases, fleet, period)
        rows = [LeaseRow(i + 1, n, n * lease.rent_per_server, n * lease.rent_per_server)
                for i, (n, lease) in enumerate(zip(servers, leases, strict=True))]
        billed = sum(r.billed for r in rows)
        report = Report(period, billed, 10_000 if fleet else 0, sum(servers), contracted_rent(leases, fleet, period),
                        period.to_bytes(32, "big"), source_revenue=billed, fx_rate=FX_RATE_SCALE, tape=tuple(rows))
        keys = sorted(self.reporters, key=lambda k: k.address.lower())[:THRESHOLD]
        return self.oracle.submit(report, sign_report(report, keys, self.chain.chain_id, self.oracle.address),
                                  sender=self.servicer)

    def distribute(self, period: int, cash: int) -> TxReceipt:
        """End ``period``, report it, deposit ``cash`` as rent and distribute."""
        self.chain.time_travel(max(self.terms.period_end(period), self.chain.now() + 1))
        self.report(period)
        if cash:
            self.usd.mint(self.servicer, cash, sender=self.admin)
            self.pool.deposit(period, cash, DepositKind.RENT, sender=self.servicer)
        return self.pool.distribute(period, sender=self.servicer)


def register_terms_for(treasury: str, suppliers: Sequence[str], terms: PoolTerms,
                       long_stop_period: int = LONG_STOP_PERIOD,
                       orders_: Sequence[tuple[str, int, int]] = ORDERS,
                       leases_: Sequence[tuple[str, int, int]] = LEASES) -> RegisterTerms:
    orders = tuple(OrderTerms(name, recipient, n, price)
                   for (name, n, price), recipient in zip(orders_, suppliers, strict=True))
    leases = tuple(LeaseTerms(name, n, rent, 1, terms.period_count) for name, n, rent in leases_)
    return RegisterTerms(orders, leases, terms.period_end(long_stop_period), long_stop_period, terms.period_count,
                         treasury)


def deploy_register_system(chain: Chain, *, offering: bool = True, long_stop_period: int = LONG_STOP_PERIOD,
                           orders: Sequence[tuple[str, int, int]] = ORDERS, take_up: tuple[int, int] = (0, 0),
                           leases: Sequence[tuple[str, int, int]] = LEASES,
                           **term_overrides: int | tuple[int, ...]) -> RegisterSystem:
    """Accounts 0 admin (oracle admin, deployer of the register), 1 servicer, 2 fee recipient, 3..6 investors,
    7 treasury, 8..9 cost recipients, 15..17 the orders' recipients (suppliers), 18 an outsider; the reporters are
    the development reporter slots. The pool's terms are :func:`demo_terms` with ``term_overrides``; ``orders``
    (supplier, servers, unit price) and ``leases`` (lessee, servers, rent) the register's, ``take_up`` the
    treasury's take-up per tranche."""
    accounts = [a.address for a in chain.accounts]
    admin, servicer, fee_recipient = accounts[0], accounts[1], accounts[2]
    investors, treasury, recipients = accounts[3:7], accounts[7], accounts[8:10]
    suppliers, outsider = accounts[15:18], accounts[18]
    reporters = dev_reporters(chain)
    usd = Stablecoin.deploy_test(chain, admin)
    start = chain.now()
    terms = demo_terms(start, **term_overrides)
    oracle = RevenueOracle.deploy(chain, admin, [r.address for r in reporters], THRESHOLD, start, PERIOD, GRACE,
                                  MULTIPLE_BPS, terms.period_count)
    reg_terms = register_terms_for(treasury, suppliers, terms, long_stop_period, orders, leases)
    register = FleetRegister.deploy(chain, reg_terms, stablecoin=usd.address, oracle=oracle.address, sender=admin)
    oracle.bind_register(register.address, sender=admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=100_000)
    expiry = chain.now() + 10 * YEAR
    allowed = [*investors, treasury]
    registry.allow_investors(allowed, [expiry] * len(allowed), [JURISDICTION] * len(allowed), sender=admin)
    senior = TrancheToken.deploy(chain, "Senior", "SNR", usd, registry, admin, gas=TOKEN_GAS)
    junior = TrancheToken.deploy(chain, "Junior", "JNR", usd, registry, admin, gas=TOKEN_GAS)
    pool = LeasePool.deploy(
        chain, terms,
        DefaultRules(arrears_periods=3, report_overdue_seconds=0, shortfall_bps=0, shortfall_window=0,
                     distribution_grace=0),
        stablecoin=usd.address, oracle=oracle.address, senior=senior.address, junior=junior.address, admin=admin,
        servicer=servicer, trustee=admin, fee_recipient=fee_recipient, junior_face=JUNIOR_SIZE,
        register=register.address,
    )
    oracle.bind_pool(pool.address, sender=admin)
    for token in (senior, junior):
        token.grant_role(Role.DISTRIBUTOR_ROLE, pool, sender=admin)
    usd.approve(pool.address, 2**256 - 1, sender=servicer)
    deal_offering: DealOffering | None = None
    if offering:
        now = chain.now()
        config = OfferingConfig(now, now + WINDOW, 14 * DAY, 0, 10**12, RESERVE, treasury, *take_up,
                                escrow=register.address)
        deal_offering = DealOffering.deploy(chain, config, [Cost(r, a) for r, a in zip(recipients, COSTS,
                                                                                       strict=True)],
                                            pool, terms.face, JUNIOR_SIZE, sender=admin)
        for token in (senior, junior):
            token.grant_role(Role.ISSUER_ROLE, deal_offering, sender=admin)
            token.renounce_role(Role.ISSUER_ROLE, sender=admin)
    register.bind_deal(pool.address, deal_offering.address if deal_offering else "0x" + "00" * 20, sender=admin)
    return RegisterSystem(chain, terms, reg_terms, usd, oracle, register, pool, senior, junior, deal_offering,
                          reporters, admin, servicer, treasury, investors, list(recipients), list(suppliers),
                          outsider)
