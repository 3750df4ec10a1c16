"""TrancheToken distributions: pro-rata credit, carried remainder, claims, recovery of entitlement, reentrancy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.model.units import POINTS_MAGNITUDE
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.tranche import Restriction, TrancheToken

GAS = 3_000_000
YEAR = 365 * 86_400
CHINA = 156


@dataclass
class TokenSetup:
    chain: Chain
    usd: Contract
    registry: ComplianceRegistry
    token: TrancheToken
    admin: str
    pool: str
    holders: list[str]


def _deploy(chain: Chain, stablecoin: str = "TestStablecoin") -> TokenSetup:
    admin, pool = chain.accounts[0].address, chain.accounts[10].address
    holders = [a.address for a in chain.accounts[1:5]]
    if stablecoin == "TestStablecoin":
        usd = tx.deploy(chain, stablecoin, "Test USD", "tUSD", admin)
    else:
        usd = tx.deploy(chain, stablecoin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Junior", "JNR", usd.address, registry, admin, gas=GAS)
    expiry = chain.now() + YEAR
    registry.allow_investors(holders, [expiry] * len(holders), [CHINA] * len(holders), sender=admin)
    token.grant_role("DISTRIBUTOR_ROLE", pool, sender=admin)
    return TokenSetup(chain, usd, registry, token, admin, pool, holders)


@pytest.fixture
def deal(chain: Chain) -> TokenSetup:
    return _deploy(chain)


def _fund(deal: TokenSetup, amount: int) -> None:
    """What the pool does: send stablecoin to the token, then distribute it."""
    tx.send(deal.usd.functions.mint(deal.token.address, amount), deal.admin, GAS)
    deal.token.distribute_funds(amount, sender=deal.pool)


def _stablecoin_of(deal: TokenSetup, who: str) -> int:
    return int(tx.call(deal.usd.functions.balanceOf(who)))


def _assert_books(deal: TokenSetup) -> None:
    """Exact identity: distributed points = every holder's points + carried points; and the cash backs it."""
    token = deal.token
    owed = token.total_distributed() - token.total_claimed()
    assert _stablecoin_of(deal, token.address) == owed
    pps = token.points_per_share()
    points = [pps * token.balance_of(h) + token.points_correction_of(h) for h in deal.holders]
    assert sum(points) + token.points_remainder() == token.total_distributed() * POINTS_MAGNITUDE
    claimable = [token.claimable(h) for h in deal.holders]
    expected = [p // POINTS_MAGNITUDE - token.withdrawn_of(h) for p, h in zip(points, deal.holders, strict=True)]
    assert claimable == expected
    assert 0 <= owed - sum(claimable) - token.carried_dust_down() < len(deal.holders) + 1


def test_distribution_is_pro_rata_and_rounds_down(deal: TokenSetup) -> None:
    a, b, c, _ = deal.holders
    deal.token.mint_batch([a, b, c], [1, 1, 1], sender=deal.admin)
    _fund(deal, 100)
    assert [deal.token.claimable(h) for h in (a, b, c)] == [33, 33, 33]
    assert deal.token.points_remainder() == (100 * POINTS_MAGNITUDE) % 3
    _assert_books(deal)
    _fund(deal, 2)  # 1/3 unit of residue each, carried in points, now adds up
    assert [deal.token.claimable(h) for h in (a, b, c)] == [34, 34, 34]
    _assert_books(deal)


def test_distributed_event_carries_replay_data(deal: TokenSetup) -> None:
    a, b, _, _ = deal.holders
    deal.token.mint_batch([a, b], [2, 5], sender=deal.admin)
    tx.send(deal.usd.functions.mint(deal.token.address, 10), deal.admin, GAS)
    receipt = deal.token.distribute_funds(10, sender=deal.pool)
    (event,) = deal.token.contract.events.FundsDistributed().process_receipt(receipt, errors=DISCARD)
    args = event["args"]
    points = 10 * POINTS_MAGNITUDE
    assert args["distributor"] == deal.pool
    assert (args["amount"], args["totalSupply"]) == (10, 7)
    assert args["pointsPerShare"] == points // 7 == deal.token.points_per_share()
    assert args["carriedPoints"] == points % 7 == deal.token.points_remainder()


def test_distribution_with_zero_supply_is_carried_whole(deal: TokenSetup) -> None:
    _fund(deal, 1_234)
    assert deal.token.carried_dust_down() == 1_234
    assert deal.token.points_per_share() == 0
    a, b, _, _ = deal.holders
    deal.token.mint_batch([a, b], [1, 3], sender=deal.admin)
    _fund(deal, 766)
    assert (deal.token.claimable(a), deal.token.claimable(b)) == (500, 1_500)
    assert deal.token.carried_dust_down() == 0
    _assert_books(deal)


def test_transfers_do_not_change_claimable(deal: TokenSetup) -> None:
    a, b, c, d = deal.holders
    deal.token.mint_batch([a, b, c], [300, 200, 100], sender=deal.admin)
    _fund(deal, 601)
    before = [deal.token.claimable(h) for h in deal.holders]
    deal.token.transfer(d, 123, sender=a)
    deal.token.forced_transfer(b, c, 50, sender=deal.admin)
    deal.token.set_wallet_frozen(c, True, sender=deal.admin)
    assert [deal.token.claimable(h) for h in deal.holders] == before
    _fund(deal, 600)
    assert deal.token.claimable(d) == 123
    _assert_books(deal)


def test_claim_pays_and_emits(deal: TokenSetup) -> None:
    a, b, _, _ = deal.holders
    deal.token.mint_batch([a, b], [1, 2], sender=deal.admin)
    _fund(deal, 3_000)
    receipt_amount = deal.token.claim(sender=b)
    assert receipt_amount == 2_000
    assert _stablecoin_of(deal, b) == 2_000
    assert (deal.token.claimable(b), deal.token.withdrawn_of(b)) == (0, 2_000)
    assert deal.token.total_claimed() == 2_000
    _assert_books(deal)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.claim(sender=b)
    assert (exc.value.error_name, exc.value.error_args) == ("NothingToClaim", {"holder": b})


def test_claim_restrictions(deal: TokenSetup) -> None:
    a, b, c, d = deal.holders
    deal.token.mint_batch([a, b, c, d], [1, 1, 1, 1], sender=deal.admin)
    _fund(deal, 40)
    cases = [
        (lambda: deal.token.pause(sender=deal.admin), Restriction.PAUSED, a,
         lambda: deal.token.unpause(sender=deal.admin)),
        (lambda: deal.token.set_wallet_frozen(d, True, sender=deal.admin), Restriction.SENDER_FROZEN, d,
         lambda: deal.token.set_wallet_frozen(d, False, sender=deal.admin)),
        (lambda: deal.registry.set_frozen(b, True, sender=deal.admin), Restriction.SENDER_FROZEN, b,
         lambda: deal.registry.set_frozen(b, False, sender=deal.admin)),
        (lambda: deal.registry.revoke_investor(c, sender=deal.admin), Restriction.SENDER_NOT_ALLOWED, c, None),
    ]
    for restrict, code, holder, undo in cases:
        restrict()
        assert deal.token.detect_claim_restriction(holder) == code
        with pytest.raises(ContractRevertError) as exc:
            deal.token.claim(sender=holder)
        assert (exc.value.error_name, exc.value.error_args) == ("ClaimRestricted", {"code": code, "holder": holder})
        assert deal.token.claimable(holder) == 10  # a restriction never reduces the entitlement
        if undo is not None:
            undo()
            assert deal.token.claim(sender=holder) == 10


def test_claim_with_expired_kyc(deal: TokenSetup) -> None:
    a = deal.holders[0]
    deal.token.mint(a, 5, sender=deal.admin)
    _fund(deal, 50)
    deal.chain.time_travel(deal.registry.investor_of(a).kyc_expiry)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.claim(sender=a)
    assert exc.value.error_args == {"code": Restriction.SENDER_KYC_EXPIRED, "holder": a}


def test_recovery_moves_entitlement_exactly(deal: TokenSetup) -> None:
    a, b, c, d = deal.holders
    deal.token.mint_batch([a, b, c], [7, 11, 13], sender=deal.admin)
    _fund(deal, 1_000)
    deal.token.claim(sender=a)
    _fund(deal, 333)
    lost_claimable, new_claimable = deal.token.claimable(a), deal.token.claimable(d)
    lost_balance = deal.token.balance_of(a)
    deal.token.set_wallet_frozen(a, True, sender=deal.admin)
    receipt = deal.token.recover_wallet(a, d, sender=deal.admin)
    (event,) = deal.token.contract.events.WalletRecovered().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["balance"], event["args"]["entitlement"]) == (lost_balance, lost_claimable)
    assert deal.token.claimable(a) == 0
    assert deal.token.claimable(d) == new_claimable + lost_claimable
    assert (deal.token.balance_of(a), deal.token.balance_of(d)) == (0, lost_balance)
    _assert_books(deal)
    _fund(deal, 31)
    assert deal.token.claimable(a) == 0
    _assert_books(deal)


def test_recovery_of_entitlement_only(deal: TokenSetup) -> None:
    a, b, _, d = deal.holders
    deal.token.mint_batch([a, b], [1, 1], sender=deal.admin)
    _fund(deal, 10)
    deal.token.transfer(b, 1, sender=a)
    assert deal.token.claimable(a) == 5
    deal.token.set_wallet_frozen(a, True, sender=deal.admin)
    deal.token.recover_wallet(a, d, sender=deal.admin)
    assert (deal.token.claimable(a), deal.token.claimable(d)) == (0, 5)
    _assert_books(deal)


def test_distribution_reverts(deal: TokenSetup) -> None:
    a = deal.holders[0]
    deal.token.mint(a, 10, sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.distribute_funds(0, sender=deal.pool)
    assert exc.value.error_name == "ZeroDistribution"
    tx.send(deal.usd.functions.mint(deal.token.address, 99), deal.admin, GAS)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.distribute_funds(100, sender=deal.pool)
    assert (exc.value.error_name, exc.value.error_args) == ("UnbackedDistribution", {"balance": 99, "required": 100})
    deal.token.distribute_funds(99, sender=deal.pool)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.distribute_funds(1, sender=deal.pool)  # the 99 already distributed do not back a new unit
    assert exc.value.error_args == {"balance": 99, "required": 100}
    cap = 2**96 - 1
    with pytest.raises(ContractRevertError) as exc:
        deal.token.distribute_funds(cap, sender=deal.pool)
    assert (exc.value.error_name, exc.value.error_args) == (
        "DistributionTooLarge",
        {"amount": cap, "totalDistributed": 99, "cap": cap},
    )


def test_points_per_share_bound(deal: TokenSetup) -> None:
    a = deal.holders[0]
    deal.token.mint(a, 1, sender=deal.admin)
    amount = 2**23 + 1  # over a supply of 1 unit: 2**87 + 2**64 points per share
    tx.send(deal.usd.functions.mint(deal.token.address, amount), deal.admin, GAS)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.distribute_funds(amount, sender=deal.pool)
    assert exc.value.error_name == "PointsPerShareOverflow"
    assert exc.value.error_args == {"pointsPerShare": 2**87 + 2**64, "cap": 2**87}


def test_corrections_fit_at_the_bounds(deal: TokenSetup) -> None:
    """At the largest points per share and the largest supply every correction still fits its int184 slot."""
    a, b, _, _ = deal.holders
    deal.token.mint(a, 1, sender=deal.admin)
    _fund(deal, 2**23)  # exactly the cap: 2**87 points per share
    assert deal.token.points_per_share() == 2**87
    deal.token.mint(b, 2**96 - 2, sender=deal.admin)  # supply reaches MAX_SUPPLY
    deal.token.transfer(a, 2**96 - 3, sender=b)
    assert deal.token.points_correction_of(a) == -(2**87) * (2**96 - 3)
    assert deal.token.points_correction_of(b) == -(2**87) * 1
    assert (deal.token.claimable(a), deal.token.claimable(b)) == (2**23, 0)
    _assert_books(deal)


def test_reentrant_claim_is_refused(chain: Chain) -> None:
    deal = _deploy(chain, "ReentrantStablecoin")
    a, b, _, _ = deal.holders
    deal.token.mint_batch([a, b], [1, 1], sender=deal.admin)
    _fund(deal, 20)
    tx.send(deal.usd.functions.arm(deal.token.address), deal.admin, GAS)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.claim(sender=a)
    assert exc.value.error_name == "ReentrancyGuardReentrantCall"
    assert deal.token.claimable(a) == 10
    tx.send(deal.usd.functions.arm("0x" + "00" * 20), deal.admin, GAS)
    assert deal.token.claim(sender=a) == 10
    _assert_books(deal)
