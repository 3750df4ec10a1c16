"""The whole deal as a state machine on the embedded chain: registry, senior and junior tranche tokens, stub oracle,
pool. Holders transfer, the agent forces transfers, recovers wallets and freezes them, KYC lapses, the servicer
deposits and distributes, holders claim, the issuer may declare default and finalize.

After every step, to the unit:
- every stablecoin unit deposited is exactly one of: fee paid, claimed, claimable (summed over holders), the tokens'
  carried remainder and per-holder rounding residue, reserve, or deposited and not yet distributed;
- the stablecoin held by the pool and by each token equals the sum of its unpaid parts;
- no holder's claimable falls except by their own claim (or, by design, when the agent recovers the wallet, which
  moves the entitlement whole to the new wallet);
- a plain transfer succeeds exactly when ``detectTransferRestriction`` predicted 0;
- every period the contract runs equals the reference model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3.contract import Contract

from rwa.chain.interface import Chain
from rwa.chain.tx import call, deploy
from rwa.errors import ContractRevertError
from rwa.model.units import POINTS_MAGNITUDE
from rwa.model.waterfall import PoolState, declare_default, run_maturity, run_period
from rwa.onchain.pool import DepositKind
from rwa.onchain.tranche import Restriction, TrancheToken
from tests.support.deep import machine_settings
from tests.support.pool_system import PoolSystem, deploy_pool_system

SENIOR, JUNIOR = 0, 1
HOLDER_SLOTS = range(3, 8)  # accounts 3..6 are allowed investors, 7 never is
NOT_ALLOWED = 7
ALLOWED = [i for i in HOLDER_SLOTS if i != NOT_ALLOWED]
COMPLIANCE = ["freeze_wallet", "unfreeze_wallet", "freeze_investor", "unfreeze_investor", "lapse_kyc", "renew_kyc"]


@pytest.fixture(scope="module")
def deployed(session_chain: Chain) -> Iterator[PoolSystem]:
    with session_chain.snapshot():
        accounts = [a.address for a in session_chain.accounts]
        system = deploy_pool_system(
            session_chain,
            senior_holders={accounts[3]: 100_000, accounts[4]: 200_000, accounts[5]: 300_000},
            junior_holders={accounts[4]: 1_000, accounts[5]: 2_000, accounts[6]: 4_000},
            reserve_periods=1,
            cash_trap_dscr_bps=15_000,
            refund_schedule=(40_000, 0, 25_000),  # a term read back; the covenant does not count refunds
        )
        DealMachine.lens = deploy(session_chain, "TrancheLens", gas=2_000_000)
        yield system


class DealMachine(RuleBasedStateMachine):
    system: ClassVar[PoolSystem]
    lens: ClassVar[Contract]

    def __init__(self) -> None:
        super().__init__()
        s = self.system
        self.snapshot = s.chain.take_snapshot()
        self.accounts = [a.address for a in s.chain.accounts]
        self.tokens = (s.senior, s.junior)
        self.state = PoolState.opening(s.terms)
        self.deposits: dict[int, int] = {}
        self.by_kind: dict[int, dict[DepositKind, int]] = {}
        self.claimed = [0, 0]
        self.previous: list[dict[str, int]] | None = None
        self.exempt: set[tuple[int, str]] = set()

    def teardown(self) -> None:
        self.system.chain.revert_to(self.snapshot)

    # -- helpers --------------------------------------------------------------------------------------------------

    def _holders(self) -> list[str]:
        return [self.accounts[i] for i in HOLDER_SLOTS]

    def _read(self, t: int) -> tuple[int, int, list[tuple[int, int, int]]]:
        """(pointsPerShare, pointsRemainder, [(balance, correction, claimable) per holder]) in one call."""
        fn = self.lens.functions.holdersOf(self.tokens[t].address, self._holders())
        pps, remainder, views = call(fn)
        return int(pps), int(remainder), [(int(b), int(c), int(x)) for b, c, x in views]

    def _next_period(self) -> int:
        return self.state.last_distributed_period + 1

    # -- token rules ----------------------------------------------------------------------------------------------

    @rule(t=st.sampled_from([SENIOR, JUNIOR]), a=st.sampled_from(HOLDER_SLOTS), b=st.sampled_from(HOLDER_SLOTS),
          share=st.sampled_from([0, 1, 3, 10, 11]), forced=st.booleans())  # fmt: skip
    def transfer(self, t: int, a: int, b: int, share: int, forced: bool) -> None:
        token: TrancheToken = self.tokens[t]
        sender, receiver = self.accounts[a], self.accounts[b]
        amount = token.balance_of(sender) * share // 10  # 11/10 of the balance: more than held
        if forced:  # the agent's forced transfer: only the receiver's compliance and the balance are checked
            try:
                token.forced_transfer(sender, receiver, amount, sender=self.system.admin)
            except ContractRevertError as exc:
                assert exc.error_name == "TransferRestricted", str(exc)
            return
        predicted = token.detect_transfer_restriction(sender, receiver, amount)
        try:
            token.transfer(receiver, amount, sender=sender)
            succeeded = True
        except ContractRevertError as exc:
            assert exc.error_name == "TransferRestricted", str(exc)
            assert exc.error_args["code"] == predicted
            succeeded = False
        assert succeeded == (predicted == Restriction.SUCCESS)

    @rule(t=st.sampled_from([SENIOR, JUNIOR]), lost=st.sampled_from(HOLDER_SLOTS), new=st.sampled_from(HOLDER_SLOTS))
    def recover(self, t: int, lost: int, new: int) -> None:
        token = self.tokens[t]
        lost_wallet, new_wallet = self.accounts[lost], self.accounts[new]
        moved = token.claimable(lost_wallet)
        before_new = token.claimable(new_wallet)
        token.set_wallet_frozen(lost_wallet, True, sender=self.system.admin)  # a recovery needs the freeze first
        try:
            token.recover_wallet(lost_wallet, new_wallet, sender=self.system.admin)
        except ContractRevertError as exc:
            assert exc.error_name in {"TransferRestricted", "SameWallet", "NothingToRecover"}, str(exc)
            return
        finally:  # the machine tests the accounting, not the freeze policy: the wallet is usable again
            token.set_wallet_frozen(lost_wallet, False, sender=self.system.admin)
        assert token.balance_of(lost_wallet) == 0 and token.claimable(lost_wallet) == 0
        assert token.claimable(new_wallet) == before_new + moved
        self.exempt.add((t, lost_wallet))

    @rule(t=st.sampled_from([SENIOR, JUNIOR]), who=st.sampled_from(ALLOWED), action=st.sampled_from(COMPLIANCE))
    def compliance(self, t: int, who: int, action: str) -> None:
        s = self.system
        wallet = self.accounts[who]
        if action.endswith("freeze_wallet"):
            self.tokens[t].set_wallet_frozen(wallet, action == "freeze_wallet", sender=s.admin)
        elif action.endswith("freeze_investor"):
            s.registry.set_frozen(wallet, action == "freeze_investor", sender=s.admin)
        else:
            # a lapsing KYC expires within the hour, so by the next period's distribution at the latest
            expiry = s.chain.now() + (3_600 if action == "lapse_kyc" else 10 * 365 * 86_400)
            s.registry.update_kyc(wallet, expiry, sender=s.admin)

    @rule(t=st.sampled_from([SENIOR, JUNIOR]), who=st.sampled_from(HOLDER_SLOTS))
    def claim(self, t: int, who: int) -> None:
        token = self.tokens[t]
        holder = self.accounts[who]
        due = token.claimable(holder)
        code = token.detect_claim_restriction(holder)
        try:
            paid = token.claim(sender=holder)
        except ContractRevertError as exc:
            if exc.error_name == "ClaimRestricted":
                assert exc.error_args["code"] == code != Restriction.SUCCESS
            else:
                assert exc.error_name == "NothingToClaim" and due == 0, str(exc)
            return
        assert code == Restriction.SUCCESS and paid == due > 0
        assert token.claimable(holder) == 0
        self.claimed[t] += paid
        self.exempt.add((t, holder))

    # -- pool rules -----------------------------------------------------------------------------------------------

    @initialize(cash=st.integers(0, 500_000), reported=st.integers(0, 600_000))
    def first_period(self, cash: int, reported: int) -> None:
        """Every run starts with period 1 distributed, so holders have something to claim from the first step."""
        self.report_and_distribute(cash, reported)

    @precondition(lambda self: not self.state.finalized)
    @rule(amount=st.integers(1, 400_000), kind=st.sampled_from(list(DepositKind)), maturity=st.booleans())
    def deposit(self, amount: int, kind: DepositKind, maturity: bool) -> None:
        s = self.system
        period = s.terms.maturity_period if maturity else self._next_period()
        s.deposit(period, amount, kind)
        self._count(period, amount, kind)
        assert s.pool.deposited(period) == self.deposits[period]

    def _count(self, period: int, amount: int, kind: DepositKind) -> None:
        self.deposits[period] = self.deposits.get(period, 0) + amount
        kinds = self.by_kind.setdefault(period, {})
        kinds[kind] = kinds.get(kind, 0) + amount

    @precondition(lambda self: self.state.last_distributed_period < self.system.terms.period_count)
    @rule(cash=st.integers(0, 500_000), reported=st.integers(0, 600_000))
    def report_and_distribute(self, cash: int, reported: int) -> None:
        s = self.system
        period = self._next_period()
        if cash:
            s.deposit(period, cash, DepositKind.RENT)
            self._count(period, cash, DepositKind.RENT)
        s.report(period, reported)
        receipt = s.distribute(period)
        kinds = self.by_kind.get(period, {})
        self.state, expected = run_period(s.terms, self.state, period, self.deposits.get(period, 0), reported,
                                          rent=kinds.get(DepositKind.RENT, 0),
                                          refund=kinds.get(DepositKind.TAX_REFUND, 0))
        assert s.legs(receipt) == expected.with_dust(*s.token_dust())

    @precondition(lambda self: not self.state.defaulted and not self.state.finalized)
    @rule()
    def default(self) -> None:
        self.system.pool.declare_default("lessee stopped paying", sender=self.system.admin)
        self.state = declare_default(self.state)

    @precondition(
        lambda self: self.state.last_distributed_period == self.system.terms.period_count and not self.state.finalized
    )
    @rule()
    def finalize(self) -> None:
        s = self.system
        receipt = s.finalize()
        self.state, expected = run_maturity(s.terms, self.state, self.deposits.get(s.terms.maturity_period, 0))
        assert s.legs(receipt) == expected.with_dust(*s.token_dust())

    # -- invariants -----------------------------------------------------------------------------------------------

    @invariant()
    def every_unit_is_accounted_for(self) -> None:
        s = self.system
        pool = s.pool
        pool_held, fees_held, *tokens_held = (
            int(x)
            for x in call(
                self.lens.functions.balancesOf(
                    s.usd.address, [pool.address, s.fee_recipient, s.senior.address, s.junior.address]
                )
            )
        )
        undistributed = sum(
            amount
            for period, amount in self.deposits.items()
            if period > self.state.last_distributed_period and not self.state.finalized
        )
        # the pool holds exactly the undistributed deposits and the reserve
        assert pool.undistributed_deposits() == undistributed
        assert pool.reserve_balance() == self.state.reserve
        assert pool_held == undistributed + self.state.reserve
        assert fees_held == self.state.total_fees

        in_tokens = 0
        claimables: list[dict[str, int]] = []
        for t, paid_in in ((SENIOR, self.state.total_senior_paid), (JUNIOR, self.state.total_junior_paid)):
            token = self.tokens[t]
            held = tokens_held[t]
            # each token holds exactly what it was paid and has not yet paid out
            assert token.total_distributed() == paid_in
            assert token.total_claimed() == self.claimed[t]
            assert held == paid_in - self.claimed[t]
            # what it holds is the holders' claimable plus rounding residue, to the point:
            # residue * 2**128 = carried points + the fractional points of every holder
            pps, remainder, views = self._read(t)
            claimable = sum(view[2] for view in views)
            fractions = sum((pps * balance + correction) % POINTS_MAGNITUDE for balance, correction, _ in views)
            residue = held - claimable
            assert residue * POINTS_MAGNITUDE == remainder + fractions
            assert 0 <= residue <= remainder // POINTS_MAGNITUDE + len(views)
            assert sum(view[0] for view in views) == token.total_supply()
            in_tokens += held
            claimables.append({h: view[2] for h, view in zip(self._holders(), views, strict=True)})

        deposited = sum(self.deposits.values())
        assert deposited == (self.state.total_fees + sum(self.claimed) + in_tokens + self.state.reserve + undistributed)

        # no holder's claimable fell, except by their own claim or the recovery of their wallet in this step
        if self.previous is not None:
            for t in (SENIOR, JUNIOR):
                for holder, before in self.previous[t].items():
                    if (t, holder) not in self.exempt:
                        assert claimables[t][holder] >= before, (t, holder, before, claimables[t][holder])
        self.previous = claimables
        self.exempt = set()


def test_the_deal_keeps_every_unit_accounted_for(deployed: PoolSystem, chain: Chain) -> None:
    DealMachine.system = deployed
    run_state_machine_as_test(
        DealMachine,
        settings=machine_settings(runs=6, steps=20),
    )
