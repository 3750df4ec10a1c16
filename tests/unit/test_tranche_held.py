"""TrancheToken's held units: an issuer mints to itself and delivers to investors, the points going with the units."""

from __future__ import annotations

from web3.logs import DISCARD

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.model.units import POINTS_MAGNITUDE
from rwa.onchain.tranche import Restriction
from tests.support.reverts import reverts
from tests.unit.test_tranche_distribution import GAS, TokenSetup, _assert_books, _deploy, _fund


def _held(deal: TokenSetup, amount: int) -> None:
    tx.send(deal.token.contract.functions.mintHeld(amount), deal.admin, GAS)


def _deliver(deal: TokenSetup, to: str, amount: int, sender: str | None = None) -> int:
    receipt = tx.send(deal.token.contract.functions.deliverHeld(to, amount), sender or deal.admin, GAS)
    (ev,) = deal.token.contract.events.HeldDelivered().process_receipt(receipt, errors=DISCARD)
    return int(ev["args"]["points"])


def test_held_units_leave_the_issuer_only_by_delivery_and_carry_what_they_earned(chain: Chain) -> None:
    deal = _deploy(chain)
    token, admin = deal.token, deal.admin
    a, b, c, _ = deal.holders
    reverts(lambda: token.mint(admin, 1_000, sender=admin), "TransferRestricted", code=Restriction.RECEIVER_NOT_ALLOWED)
    _held(deal, 1_000)  # the issuer is no investor: only its own held mint is not checked as one
    token.close_issuance(sender=admin)
    reverts(lambda: token.transfer(a, 1, sender=admin), "TransferRestricted", code=Restriction.SENDER_NOT_ALLOWED)
    reverts(lambda: _deliver(deal, admin, 1, sender=a), "AccessControlUnauthorizedAccount")
    _fund(deal, 777)  # every unit is still held: the issuer's points, 777 units of them
    token.set_wallet_frozen(c, True, sender=admin)
    reverts(lambda: _deliver(deal, c, 100), "TransferRestricted", code=Restriction.RECEIVER_FROZEN)

    pps = token.points_per_share()
    assert _deliver(deal, a, 300) == pps * 300  # after issuance closed, with the points of its 300 units
    assert token.claimable(a) == pps * 300 // POINTS_MAGNITUDE
    _fund(deal, 123)
    token.set_wallet_frozen(c, False, sender=admin)
    _deliver(deal, b, 450)
    _deliver(deal, c, 250)  # the last units take every point left
    assert token.balance_of(admin) == 0 and token.points_correction_of(admin) == 0
    assert token.claimable(admin) == 0
    _assert_books(deal)
