"""``LeasePool``: deposits, the per-period waterfall, default, maturity; events decoded into the model's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from rwa.chain.interface import Chain
from rwa.chain.tx import event_args
from rwa.errors import InputError
from rwa.model.calendar import clock_length, late_periods
from rwa.model.terms import DefaultRules
from rwa.model.waterfall import PeriodLegs, PoolState, PoolTerms, Prepayment
from rwa.onchain.base import ContractWrapper, Role, create

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

# Explicit limits on the embedded chain (estimation doubles the time); a real node estimates. Deployment always
# estimates, which decodes a constructor's revert.
DEPOSIT_GAS = 200_000
"""A deposit's gas limit when it cannot be estimated (it needs the approval sent with it): the committed snapshot's
first deposit of a period (``LeasePool.deposit (first)``, about 108k with the test stablecoin) with room for a real
stablecoin's dearer ``transferFrom``."""
DISTRIBUTE_GAS = 1_000_000
"""A distribution's gas limit when it cannot be estimated (it follows its deposits in one batch): the snapshot's
first distribution (``LeasePool.distribute (first)``, about 450k) with room; a distribution's cost does not grow
with the holders."""
_ADMIN_GAS = 200_000


class DefaultTrigger(IntEnum):
    """``LeasePool``'s objective events of default (``TRIGGER_*``)."""

    NONE = 0
    INTEREST_ARREARS = 1
    REPORT_OVERDUE = 2
    COLLECTION_SHORTFALL = 3
    LESSEE_PAST_DUE = 4


class DepositKind(IntEnum):
    """``deposit``'s ``kind`` argument."""

    RENT = 0
    TAX_REFUND = 1
    RESIDUAL_VALUE = 2
    OTHER = 3


@dataclass(frozen=True)
class PeriodEvent:
    """One decoded ``PeriodDistributed`` event and where it was emitted."""

    legs: PeriodLegs
    block_number: int
    tx_hash: str
    log_index: int


def _cs(address: str) -> str:
    return Web3.to_checksum_address(address)


def legs_from_event(period: int, raw: Mapping[str, Any]) -> PeriodLegs:
    """The model's ``PeriodLegs`` from a decoded ``PeriodDistributed`` ``legs`` tuple."""
    return PeriodLegs(
        period=period,
        collected=int(raw["collected"]),
        reported=int(raw["reported"]),
        collected_minus_reported=int(raw["collectedMinusReported"]),
        fee=int(raw["fee"]),
        senior_interest=int(raw["seniorInterest"]),
        senior_principal=int(raw["seniorPrincipal"]),
        reserve_in=int(raw["reserveIn"]),
        reserve_out=int(raw["reserveOut"]),
        trapped=int(raw["trapped"]),
        junior=int(raw["junior"]),
        senior_dust=int(raw["seniorDust"]),
        junior_dust=int(raw["juniorDust"]),
        balance_after=int(raw["balanceAfter"]),
        interest_arrears=int(raw["interestArrears"]),
        principal_arrears=int(raw["principalArrears"]),
        reserve_after=int(raw["reserveAfter"]),
        dscr_bps=int(raw["dscrBps"]),
    )


class LeasePool(ContractWrapper):
    """A deployed ``LeasePool``; amounts are integers in the stablecoin's smallest unit."""

    CONTRACT = "LeasePool"
    ROLES = (Role.DEFAULT_ADMIN_ROLE, Role.TRUSTEE_ROLE, Role.SERVICER_ROLE)

    def __init__(self, chain: Chain, contract: Contract, gas: int | None = None) -> None:
        super().__init__(chain, contract, gas)
        self._terms: PoolTerms | None = None

    # -- deployment ---------------------------------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        terms: PoolTerms,
        rules: DefaultRules,
        *,
        stablecoin: str,
        oracle: str,
        senior: str,
        junior: str,
        admin: str,
        servicer: str,
        trustee: str,
        fee_recipient: str,
        junior_face: int,
        register: str,
        sender: str | None = None,
        batch: Batch | None = None,
    ) -> LeasePool:
        """Deploy a pool for ``terms`` (its principal and refund schedules included) and the events of default
        ``rules``; ``admin`` gets DEFAULT_ADMIN_ROLE (the deal's timelock), ``trustee`` TRUSTEE_ROLE, ``servicer``
        SERVICER_ROLE; ``junior_face`` is the junior units the deal issues; ``register`` the fleet register, the one
        account that may prepay. The pool counts its periods itself
        (``PeriodClockLib``): calendar months from the first start or equal periods, so ``terms.period_ends`` must
        be one of the two."""
        try:
            length = clock_length(terms.first_period_start, terms.period_ends)
        except ValueError as exc:
            raise InputError(f"cannot deploy the pool: {exc}") from None
        terms_tuple = (
            terms.first_period_start,
            length,
            terms.period_count,
            terms.senior_coupon_bps,
            terms.servicing_fee_per_period,
            terms.reserve_periods,
            terms.cash_trap_dscr_bps,
        )
        parties = tuple(_cs(a) for a in (stablecoin, oracle, senior, junior, admin, servicer, trustee, fee_recipient,
                                         register))
        contract = create(
            chain,
            "LeasePool",
            terms_tuple,
            list(terms.principal_schedule),
            list(terms.refund_schedule),
            rules.as_tuple(),
            parties,
            junior_face,
            sender=sender or admin,
            batch=batch,
        )
        return cls(chain, contract)

    # -- transactions -------------------------------------------------------------------------------------------

    def deposit(
        self,
        period: int,
        amount: int,
        kind: DepositKind | int = DepositKind.RENT,
        *,
        sender: str,
        gas: int | None = None,
    ) -> TxReceipt:
        """Deposit ``amount`` for ``period`` (the servicer must have approved the pool for it)."""
        fn = self.contract.functions.deposit(period, amount, int(kind))
        return self._send(fn, sender, gas, DEPOSIT_GAS)

    def distribute(self, period: int, *, sender: str, gas: int | None = None) -> TxReceipt:
        return self._send(self.contract.functions.distribute(period), sender, gas, DISTRIBUTE_GAS)

    def finalize(self, *, sender: str, gas: int | None = None) -> TxReceipt:
        return self._send(self.contract.functions.finalize(), sender, gas, DISTRIBUTE_GAS)

    def declare_default(self, reason: str, *, sender: str, gas: int | None = None) -> TxReceipt:
        return self._send(self.contract.functions.declareDefault(reason), sender, gas, _ADMIN_GAS)

    def trigger_default(self, trigger: DefaultTrigger | int, *, sender: str) -> TxReceipt:
        """Put the pool in default on objective condition ``trigger`` (anyone, while it holds)."""
        return self._send(self.contract.functions.triggerDefault(int(trigger)), sender, embedded_default=_ADMIN_GAS)

    def cure_default(self, reason: str, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.cureDefault(reason), sender, embedded_default=_ADMIN_GAS)

    def waive_default(self, reason: str, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.waiveDefault(reason), sender, embedded_default=_ADMIN_GAS)

    def distribute_recovery(self, *, sender: str, gas: int | None = None) -> TxReceipt:
        """After maturity, pay the next recovery round's deposits through the rest of the waterfall (anyone)."""
        return self._send(self.contract.functions.distributeRecovery(), sender, gas, DISTRIBUTE_GAS)

    def recoveries(self) -> int:
        return int(self._call(self.contract.functions.recoveries()))

    def pay_fees(self, *, sender: str) -> TxReceipt:
        """Pay the fee recipient the fees the stablecoin refused before (anyone may)."""
        return self._send(self.contract.functions.payFees(), sender, embedded_default=_ADMIN_GAS)

    def fund_reserve(self, amount: int, *, sender: str) -> TxReceipt:
        """Add ``amount`` from ``sender`` (which approved the pool) to the reserve; anyone may, before maturity."""
        return self._send(self.contract.functions.fundReserve(amount), sender)

    def prepay(self, amount: int, *, sender: str) -> TxReceipt:
        """``amount`` of ``sender``'s stablecoin (approved to the pool) to the senior as principal, the rest to the
        junior: the fleet register's long-stop settlement (only the register may)."""
        return self._send(self.contract.functions.prepay(amount), sender, embedded_default=400_000)

    def prepayments(self, from_block: int = 0, to_block: int | str = "latest") -> list[Prepayment]:
        """Every ``Prepaid`` event, in chain order."""
        out = []
        for log in self.contract.events.Prepaid.get_logs(from_block=from_block, to_block=to_block):
            a = log["args"]
            out.append(Prepayment(int(a["amount"]), int(a["seniorPaid"]), int(a["juniorPaid"]),
                                  int(a["balanceAfter"]), int(a["principalArrearsAfter"])))
        return out

    def fees_owed(self) -> int:
        return int(self._call(self.contract.functions.feesOwed()))

    def trigger_holds(self, trigger: DefaultTrigger | int) -> bool:
        return bool(self._call(self.contract.functions.triggerHolds(int(trigger))))

    def arrears_streak(self) -> int:
        return int(self._call(self.contract.functions.arrearsStreak()))

    def default_trigger(self) -> DefaultTrigger:
        return DefaultTrigger(int(self._call(self.contract.functions.defaultTrigger())))

    def default_rules(self, block: BlockIdentifier = "latest") -> DefaultRules:
        raw = self._call(self.contract.functions.defaultRules(), block)
        return DefaultRules(*(int(x) for x in raw))

    def late_periods(self, now: int, last_distributed: int | None = None) -> tuple[int, ...]:
        """The periods late at ``now`` by this pool's calendar and distribution grace
        (:func:`rwa.model.calendar.late_periods`); ``last_distributed`` when the caller has read the pool's state."""
        terms = self.terms()
        last = self.last_distributed_period() if last_distributed is None else last_distributed
        return late_periods(terms.period_ends[:terms.period_count], self.default_rules().distribution_grace, last, now)

    def pause(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.pause(), sender, embedded_default=_ADMIN_GAS)

    def unpause(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.unpause(), sender, embedded_default=_ADMIN_GAS)

    # -- views --------------------------------------------------------------------------------------------------

    def terms(self, block: BlockIdentifier = "latest") -> PoolTerms:
        """The deployed terms with the principal schedule (read once: immutable once deployed)."""
        if self._terms is None:
            self._terms = self._read_terms(block)
        return self._terms

    def _read_terms(self, block: BlockIdentifier) -> PoolTerms:
        raw = self._call(self.contract.functions.terms(), block)
        count = int(raw[2])
        schedule = tuple(int(a) for a in self._call(self.contract.functions.principalSchedule(), block))
        refunds = tuple(int(a) for a in self._call(self.contract.functions.refundSchedule(), block))
        ends = tuple(int(t) for t in self._call(self.contract.functions.periodEnds(), block))
        return PoolTerms(
            first_period_start=int(raw[0]),
            period_ends=ends,
            period_count=count,
            senior_coupon_bps=int(raw[3]),
            servicing_fee_per_period=int(raw[4]),
            reserve_periods=int(raw[5]),
            cash_trap_dscr_bps=int(raw[6]),
            principal_schedule=schedule,
            refund_schedule=refunds,
        )

    def state(self, block: BlockIdentifier = "latest") -> PoolState:
        """What the pool carries into its next period, read at one block: the reference model's :class:`PoolState`
        (the running totals are the pool's own, not the model's)."""
        values, scale = self._call_many([self.state_read(), self.scale_read()], block)
        return self.state_of(values, scale)

    def state_read(self) -> ContractFunction:
        """The view behind :meth:`state` (``poolState``), to read alone or in a batch (:meth:`state_of`)."""
        return self.contract.functions.poolState()

    def scale_read(self) -> ContractFunction:
        """The principal schedule's scale after a prepayment (``principalScale``), for :meth:`state_of`."""
        return self.contract.functions.principalScale()

    @staticmethod
    def state_of(values: Sequence[Any], scale: Sequence[Any] = (0, 0)) -> PoolState:
        (balance, reserve, interest_arrears, principal_arrears, last, defaulted, finalized, fees, senior_paid,
         junior_paid, trapped) = values
        return PoolState(
            schedule_num=int(scale[0]),
            schedule_den=int(scale[1]),
            balance=int(balance),
            reserve=int(reserve),
            interest_arrears=int(interest_arrears),
            principal_arrears=int(principal_arrears),
            last_distributed_period=int(last),
            defaulted=bool(defaulted),
            finalized=bool(finalized),
            total_fees=int(fees),
            total_senior_paid=int(senior_paid),
            total_junior_paid=int(junior_paid),
            total_trapped=int(trapped),
        )

    def principal_schedule_at(self, period: int) -> int:
        return int(self._call(self.contract.functions.principalScheduleAt(period)))

    def _uint(self, name: str, *args: Any) -> int:
        return int(self._call(getattr(self.contract.functions, name)(*args)))

    def last_distributed_period(self) -> int:
        return self._uint("lastDistributedPeriod")

    def senior_outstanding(self) -> int:
        return self._uint("seniorOutstanding")

    def senior_face(self) -> int:
        return self._uint("seniorFace")

    def junior_face(self) -> int:
        return self._uint("juniorFace")

    def reserve_balance(self) -> int:
        return self._uint("reserveBalance")

    def interest_arrears(self) -> int:
        return self._uint("interestArrears")

    def principal_arrears(self) -> int:
        return self._uint("principalArrears")

    def deposited(self, period: int) -> int:
        return self._uint("deposited", period)

    def undistributed_deposits(self) -> int:
        return self._uint("undistributedDeposits")

    def total_trapped(self) -> int:
        return self._uint("totalTrapped")

    def total_fees_paid(self) -> int:
        return self._uint("totalFeesPaid")

    def total_senior_paid(self) -> int:
        return self._uint("totalSeniorPaid")

    def total_junior_paid(self) -> int:
        return self._uint("totalJuniorPaid")

    def period_start(self, period: int) -> int:
        return self._uint("periodStart", period)

    def period_end(self, period: int) -> int:
        return self._uint("periodEnd", period)

    def defaulted(self) -> bool:
        return bool(self._call(self.contract.functions.defaulted()))

    def finalized(self) -> bool:
        return bool(self._call(self.contract.functions.finalized()))

    def paused(self) -> bool:
        return bool(self._call(self.contract.functions.paused()))

    def addresses(self, block: BlockIdentifier = "latest") -> dict[str, str]:
        """The contracts and accounts the pool was deployed with (immutable; read at ``block``)."""
        f = self.contract.functions
        return {
            "stablecoin": str(self._call(f.stablecoin(), block)),
            "oracle": str(self._call(f.oracle(), block)),
            "senior": str(self._call(f.seniorToken(), block)),
            "junior": str(self._call(f.juniorToken(), block)),
            "fee_recipient": str(self._call(f.feeRecipient(), block)),
            "register": str(self._call(f.register(), block)),
        }

    # -- events -------------------------------------------------------------------------------------------------

    def period_events(self, from_block: int = 0, to_block: int | str = "latest") -> list[PeriodEvent]:
        """Every ``PeriodDistributed`` in the block range, in chain order, as the model's ``PeriodLegs``."""
        logs = self.contract.events.PeriodDistributed.get_logs(from_block=from_block, to_block=to_block)
        out = [
            PeriodEvent(
                legs=legs_from_event(int(log["args"]["period"]), log["args"]["legs"]),
                block_number=int(log["blockNumber"]),
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
                log_index=int(log["logIndex"]),
            )
            for log in logs
        ]
        return sorted(out, key=lambda e: (e.block_number, e.log_index))

    def legs_in(self, receipt: TxReceipt) -> PeriodLegs:
        """The ``PeriodDistributed`` legs a ``distribute``/``finalize`` receipt carries."""
        events = event_args(self.contract, "PeriodDistributed", receipt)
        if len(events) != 1:
            raise ValueError(f"expected one PeriodDistributed event in the receipt, found {len(events)}")
        return legs_from_event(int(events[0]["period"]), events[0]["legs"])
