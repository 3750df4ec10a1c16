"""Stateful property test of one TrancheToken on the embedded chain.

Random sequences of mint, transfer, forced transfer, recovery, freezes (token and registry), pause, distribution and
claim; after every step: the stablecoin held equals what was distributed and not claimed; distributed points equal
every holder's points plus the carried remainder, exactly; the unallocated difference is below one unit per holder
ever plus one; no holder's claimable falls except by its own claim or a recovery out of its wallet; and every
transfer succeeded exactly when `detectTransferRestriction` predicted 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3.contract import Contract

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.model.units import POINTS_MAGNITUDE
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.tranche import Restriction, TrancheToken
from tests.support.deep import machine_settings

GAS = 3_000_000
WALLETS = 5  # four investors and one wallet the registry never allowed
wallet = st.integers(min_value=0, max_value=WALLETS - 1)
amount = st.integers(min_value=0, max_value=2_000_000)


@dataclass
class Env:
    chain: Chain
    usd: Contract
    registry: ComplianceRegistry
    token: TrancheToken
    admin: str
    pool: str
    wallets: list[str]


class TrancheMachine(RuleBasedStateMachine):
    env: ClassVar[Env]

    @initialize()
    def start(self) -> None:
        self.snapshot = self.env.chain.take_snapshot()
        self.last = [0] * WALLETS
        self.may_fall: set[int] = set()

    def teardown(self) -> None:
        if hasattr(self, "snapshot"):
            self.env.chain.revert_to(self.snapshot)

    # -- helpers --------------------------------------------------------------------------------------------

    @property
    def token(self) -> TrancheToken:
        return self.env.token

    def _attempt(self, action: Any) -> ContractRevertError | None:
        try:
            action()
        except ContractRevertError as exc:
            return exc
        return None

    # -- rules ----------------------------------------------------------------------------------------------

    @rule(to=wallet, value=st.integers(min_value=1, max_value=1_000_000))
    def mint(self, to: int, value: int) -> None:
        err = self._attempt(lambda: self.token.mint(self.env.wallets[to], value, sender=self.env.admin))
        if err is not None:
            assert err.error_name == "TransferRestricted", str(err)

    @rule(src=wallet, dst=wallet, value=amount)
    def transfer(self, src: int, dst: int, value: int) -> None:
        a, b = self.env.wallets[src], self.env.wallets[dst]
        predicted = self.token.detect_transfer_restriction(a, b, value)
        err = self._attempt(lambda: self.token.transfer(b, value, sender=a))
        if predicted == Restriction.SUCCESS:
            assert err is None, f"predicted success, got {err}"
        else:
            assert err is not None, f"predicted {predicted!r}, transfer succeeded"
            assert (err.error_name, err.error_args["code"]) == ("TransferRestricted", predicted)

    @rule(src=wallet, dst=wallet, value=amount)
    def forced_transfer(self, src: int, dst: int, value: int) -> None:
        a, b = self.env.wallets[src], self.env.wallets[dst]
        err = self._attempt(lambda: self.token.forced_transfer(a, b, value, sender=self.env.admin))
        if err is not None:
            assert err.error_name == "TransferRestricted", str(err)

    @rule(lost=wallet, new=wallet)
    def recover(self, lost: int, new: int) -> None:
        a, b = self.env.wallets[lost], self.env.wallets[new]
        before = (self.token.claimable(a), self.token.claimable(b), self.token.balance_of(a), self.token.balance_of(b))
        was_frozen = self.token.is_wallet_frozen(a)
        self.token.set_wallet_frozen(a, True, sender=self.env.admin)  # a recovery needs the freeze first
        err = self._attempt(lambda: self.token.recover_wallet(a, b, sender=self.env.admin))
        if not was_frozen:  # the machine tests the accounting, not the freeze policy
            self.token.set_wallet_frozen(a, False, sender=self.env.admin)
        if err is not None:
            assert err.error_name in {"TransferRestricted", "SameWallet", "NothingToRecover"}, str(err)
            return
        assert self.token.claimable(a) == 0
        assert self.token.claimable(b) == before[1] + before[0]
        assert (self.token.balance_of(a), self.token.balance_of(b)) == (0, before[3] + before[2])
        self.may_fall.add(lost)

    @rule(who=wallet, frozen=st.booleans(), in_registry=st.booleans())
    def freeze(self, who: int, frozen: bool, in_registry: bool) -> None:
        target = self.env.wallets[who]
        if in_registry:
            self.env.registry.set_frozen(target, frozen, sender=self.env.admin)
        else:
            self.token.set_wallet_frozen(target, frozen, sender=self.env.admin)

    @rule(paused=st.booleans())
    def pause(self, paused: bool) -> None:
        if paused != self.token.paused():
            err = self._attempt(lambda: (self.token.pause if paused else self.token.unpause)(sender=self.env.admin))
            if err is not None:  # a new pause only MAX_PAUSE after the last one ended
                assert paused and err.error_name == "PauseCoolingDown", str(err)

    @rule(value=st.integers(min_value=1, max_value=10_000_000))
    def distribute(self, value: int) -> None:
        tx.send(self.env.usd.functions.mint(self.token.address, value), self.env.admin, GAS)
        self.token.distribute_funds(value, sender=self.env.pool)

    @rule(who=wallet)
    def claim(self, who: int) -> None:
        holder = self.env.wallets[who]
        owed = self.token.claimable(holder)
        code = self.token.detect_claim_restriction(holder)
        err = self._attempt(lambda: self.token.claim(sender=holder))
        if err is None:
            assert code == Restriction.SUCCESS and owed > 0
            assert self.token.claimable(holder) == 0
            self.may_fall.add(who)
        elif code != Restriction.SUCCESS:
            assert (err.error_name, err.error_args["code"]) == ("ClaimRestricted", code)
        else:
            assert owed == 0 and err.error_name == "NothingToClaim"

    # -- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        if not hasattr(self, "snapshot"):
            return
        token, wallets = self.token, self.env.wallets
        distributed, claimed = token.total_distributed(), token.total_claimed()
        owed = distributed - claimed
        assert int(tx.call(self.env.usd.functions.balanceOf(token.address))) == owed
        pps, remainder = token.points_per_share(), token.points_remainder()
        points = [pps * token.balance_of(w) + token.points_correction_of(w) for w in wallets]
        assert sum(points) + remainder == distributed * POINTS_MAGNITUDE
        claimable = [token.claimable(w) for w in wallets]
        expected = [p // POINTS_MAGNITUDE - token.withdrawn_of(w) for p, w in zip(points, wallets, strict=True)]
        assert claimable == expected
        assert 0 <= owed - sum(claimable) - remainder // POINTS_MAGNITUDE < WALLETS + 1
        for i, now in enumerate(claimable):
            assert now >= self.last[i] or i in self.may_fall, f"wallet {i}: claimable fell {self.last[i]} -> {now}"
        self.last = claimable
        self.may_fall = set()


def test_tranche_state_machine(chain: Chain) -> None:
    admin, pool = chain.accounts[0].address, chain.accounts[10].address
    wallets = [a.address for a in chain.accounts[1 : 1 + WALLETS]]
    usd = tx.deploy(chain, "TestStablecoin", "Test USD", "tUSD", admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Senior", "SNR", usd.address, registry, admin, gas=GAS)
    expiry = chain.now() + 10 * 365 * 86_400
    investors = wallets[:-1]
    registry.allow_investors(investors, [expiry] * len(investors), [156] * len(investors), sender=admin)
    token.grant_role("DISTRIBUTOR_ROLE", pool, sender=admin)
    TrancheMachine.env = Env(chain, usd, registry, token, admin, pool, wallets)
    run_state_machine_as_test(
        TrancheMachine,
        settings=machine_settings(runs=5, steps=20),
    )
