"""TrancheToken transfer compliance: ERC-1404 codes, issuance, pause, agent powers and roles, by custom error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.tranche import Restriction, TrancheToken

GAS = 3_000_000
YEAR = 365 * 86_400
CHINA = 156
ZERO = "0x" + "00" * 20


@dataclass
class TokenSetup:
    chain: Chain
    usd: Contract
    registry: ComplianceRegistry
    token: TrancheToken
    admin: str
    alice: str
    bob: str
    carol: str
    outsider: str
    kyc_expiry: int


@pytest.fixture
def deal(chain: Chain) -> TokenSetup:
    admin, alice, bob, carol, outsider = (a.address for a in chain.accounts[:5])
    usd = tx.deploy(chain, "TestStablecoin", "Test USD", "tUSD", admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Senior", "SNR", usd.address, registry, admin, gas=GAS)
    expiry = chain.now() + YEAR
    registry.allow_investors([alice, bob, carol], [expiry] * 3, [CHINA] * 3, sender=admin)
    token.mint(alice, 1_000_000, sender=admin)
    token.mint(bob, 500_000, sender=admin)
    return TokenSetup(chain, usd, registry, token, admin, alice, bob, carol, outsider, expiry)


def _expect(exc: pytest.ExceptionInfo[ContractRevertError], name: str, **args: object) -> None:
    assert exc.value.error_name == name, str(exc.value)
    for key, value in args.items():
        assert exc.value.error_args[key] == value, (key, exc.value.error_args)


def _assert_transfer_restricted(deal: TokenSetup, sender: str, to: str, amount: int, code: Restriction) -> None:
    """The prediction is `code`, and the transfer reverts with exactly that code."""
    assert deal.token.detect_transfer_restriction(sender, to, amount) == code
    with pytest.raises(ContractRevertError) as exc:
        deal.token.transfer(to, amount, sender=sender)
    _expect(exc, "TransferRestricted", code=int(code), to=to)
    assert exc.value.error_args["from"] == sender


def test_metadata_and_roles(deal: TokenSetup) -> None:
    token = deal.token
    assert (token.name(), token.symbol(), token.decimals()) == ("Senior", "SNR", 6)
    assert token.stablecoin() == deal.usd.address
    assert token.registry() == deal.registry.address
    for role in ("DEFAULT_ADMIN_ROLE", "ISSUER_ROLE", "AGENT_ROLE"):
        assert token.has_role(role, deal.admin)
    assert not token.has_role("DISTRIBUTOR_ROLE", deal.admin)


def test_compliant_transfer_succeeds_when_predicted(deal: TokenSetup) -> None:
    assert deal.token.detect_transfer_restriction(deal.alice, deal.carol, 250_000) == Restriction.SUCCESS
    deal.token.transfer(deal.carol, 250_000, sender=deal.alice)
    assert deal.token.balance_of(deal.carol) == 250_000
    assert deal.token.balance_of(deal.alice) == 750_000


def test_non_compliant_receiver(deal: TokenSetup) -> None:
    _assert_transfer_restricted(deal, deal.alice, deal.outsider, 1, Restriction.RECEIVER_NOT_ALLOWED)


def test_non_compliant_sender(deal: TokenSetup) -> None:
    deal.registry.revoke_investor(deal.alice, sender=deal.admin)
    _assert_transfer_restricted(deal, deal.alice, deal.bob, 1, Restriction.SENDER_NOT_ALLOWED)


def test_registry_frozen_wallets(deal: TokenSetup) -> None:
    deal.registry.set_frozen(deal.bob, True, sender=deal.admin)
    _assert_transfer_restricted(deal, deal.alice, deal.bob, 1, Restriction.RECEIVER_FROZEN)
    _assert_transfer_restricted(deal, deal.bob, deal.alice, 1, Restriction.SENDER_FROZEN)


def test_token_frozen_wallets(deal: TokenSetup) -> None:
    receipt = deal.token.set_wallet_frozen(deal.bob, True, sender=deal.admin)
    (event,) = deal.token.contract.events.WalletFrozen().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["wallet"], event["args"]["frozen"], event["args"]["agent"]) == (deal.bob, True, deal.admin)
    assert deal.token.is_wallet_frozen(deal.bob)
    assert deal.registry.is_compliant(deal.bob)  # the token-level flag is the token's alone
    _assert_transfer_restricted(deal, deal.alice, deal.bob, 1, Restriction.RECEIVER_FROZEN)
    _assert_transfer_restricted(deal, deal.bob, deal.alice, 1, Restriction.SENDER_FROZEN)
    deal.token.set_wallet_frozen(deal.bob, False, sender=deal.admin)
    deal.token.transfer(deal.alice, 1, sender=deal.bob)


def test_expired_kyc(deal: TokenSetup) -> None:
    deal.registry.update_kyc(deal.bob, deal.kyc_expiry + YEAR, sender=deal.admin)
    deal.chain.time_travel(deal.kyc_expiry)
    _assert_transfer_restricted(deal, deal.alice, deal.bob, 1, Restriction.SENDER_KYC_EXPIRED)
    _assert_transfer_restricted(deal, deal.bob, deal.alice, 1, Restriction.RECEIVER_KYC_EXPIRED)


def test_paused_token(deal: TokenSetup) -> None:
    deal.token.pause(sender=deal.admin)
    assert deal.token.paused()
    _assert_transfer_restricted(deal, deal.alice, deal.bob, 1, Restriction.PAUSED)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.pause(sender=deal.admin)
    _expect(exc, "PauseCoolingDown")  # no second pause: not while one runs, nor until MAX_PAUSE after it ends
    deal.token.unpause(sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.unpause(sender=deal.admin)
    _expect(exc, "ExpectedPause")
    deal.token.transfer(deal.bob, 1, sender=deal.alice)


def test_insufficient_balance_is_a_restriction(deal: TokenSetup) -> None:
    _assert_transfer_restricted(deal, deal.bob, deal.alice, 500_001, Restriction.INSUFFICIENT_BALANCE)


def test_zero_address_is_predicted_and_rejected(deal: TokenSetup) -> None:
    assert deal.token.detect_transfer_restriction(deal.alice, ZERO, 1) == Restriction.ZERO_ADDRESS
    assert deal.token.detect_transfer_restriction(ZERO, deal.alice, 1) == Restriction.ZERO_ADDRESS
    with pytest.raises(ContractRevertError) as exc:
        deal.token.transfer(ZERO, 1, sender=deal.alice)
    _expect(exc, "ERC20InvalidReceiver")


def test_transfer_from_goes_through_the_same_checks(deal: TokenSetup) -> None:
    deal.token.approve(deal.carol, 10, sender=deal.alice)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.transfer_from(deal.alice, deal.outsider, 10, sender=deal.carol)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_NOT_ALLOWED))
    deal.token.transfer_from(deal.alice, deal.carol, 10, sender=deal.carol)
    assert deal.token.allowance(deal.alice, deal.carol) == 0


def test_messages_for_every_code(deal: TokenSetup) -> None:
    messages = {code: deal.token.message_for(code) for code in Restriction}
    assert messages[Restriction.SUCCESS] == "No restriction"
    assert len(set(messages.values())) == len(Restriction)
    assert deal.token.message_for(200) == "Unknown restriction code"


def test_mint_checks_receiver_only(deal: TokenSetup) -> None:
    with pytest.raises(ContractRevertError) as exc:
        deal.token.mint(deal.outsider, 1, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_NOT_ALLOWED), to=deal.outsider)
    deal.token.set_wallet_frozen(deal.carol, True, sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.mint(deal.carol, 1, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_FROZEN))
    deal.token.pause(sender=deal.admin)
    deal.token.mint(deal.bob, 1, sender=deal.admin)  # issuance is not stopped by the pause
    assert deal.token.total_supply() == 1_500_001


def test_mint_after_issuance_closed(deal: TokenSetup) -> None:
    receipt = deal.token.close_issuance(sender=deal.admin)
    (event,) = deal.token.contract.events.IssuanceClosed().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["totalSupply"] == 1_500_000
    assert deal.token.issuance_closed()
    with pytest.raises(ContractRevertError) as exc:
        deal.token.mint(deal.alice, 1, sender=deal.admin)
    _expect(exc, "IssuanceIsClosed")
    with pytest.raises(ContractRevertError) as exc:
        deal.token.mint_batch([deal.alice], [1], sender=deal.admin)
    _expect(exc, "IssuanceIsClosed")
    with pytest.raises(ContractRevertError) as exc:
        deal.token.close_issuance(sender=deal.admin)
    _expect(exc, "IssuanceIsClosed")


def test_mint_batch_and_supply_cap(deal: TokenSetup) -> None:
    deal.token.mint_batch([deal.alice, deal.carol], [5, 7], sender=deal.admin)
    assert deal.token.balance_of(deal.carol) == 7
    with pytest.raises(ContractRevertError) as exc:
        tx.send(deal.token.contract.functions.mintBatch([deal.alice], [1, 2]), deal.admin, GAS)
    _expect(exc, "LengthMismatch", recipients=1, amounts=2)
    cap = 2**96 - 1
    with pytest.raises(ContractRevertError) as exc:
        deal.token.mint(deal.alice, cap, sender=deal.admin)
    _expect(exc, "SupplyCapExceeded", totalSupply=1_500_012, amount=cap, cap=cap)


def test_unauthorised_roles(deal: TokenSetup) -> None:
    token, alice = deal.token, deal.alice
    calls = [
        lambda: token.mint(alice, 1, sender=alice),
        lambda: token.close_issuance(sender=alice),
        lambda: token.set_wallet_frozen(deal.bob, True, sender=alice),
        lambda: token.forced_transfer(deal.bob, alice, 1, sender=alice),
        lambda: token.recover_wallet(deal.bob, alice, sender=alice),
        lambda: token.pause(sender=alice),
        lambda: token.distribute_funds(1, sender=alice),
        lambda: token.grant_role("AGENT_ROLE", alice, sender=alice),
    ]
    for call in calls:
        with pytest.raises(ContractRevertError) as exc:
            call()
        _expect(exc, "AccessControlUnauthorizedAccount", account=alice)


def test_constructor_rejects_zero_addresses(chain: Chain, deal: TokenSetup) -> None:
    with pytest.raises(ContractRevertError) as exc:
        tx.deploy(chain, "TrancheToken", "J", "J", ZERO, deal.registry.address, deal.admin)
    _expect(exc, "ZeroAddress")
    with pytest.raises(ContractRevertError) as exc:
        tx.deploy(chain, "ComplianceRegistry", ZERO)
    _expect(exc, "ZeroAddress")


def test_forced_transfer_skips_sender_checks_not_receiver_checks(deal: TokenSetup) -> None:
    token = deal.token
    token.set_wallet_frozen(deal.alice, True, sender=deal.admin)
    deal.registry.revoke_investor(deal.alice, sender=deal.admin)
    token.pause(sender=deal.admin)
    receipt = token.forced_transfer(deal.alice, deal.carol, 400_000, sender=deal.admin)
    (event,) = token.contract.events.ForcedTransfer().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["from"], event["args"]["to"], event["args"]["amount"]) == (deal.alice, deal.carol, 400_000)
    assert token.balance_of(deal.carol) == 400_000
    with pytest.raises(ContractRevertError) as exc:
        token.forced_transfer(deal.alice, deal.outsider, 1, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_NOT_ALLOWED))
    token.set_wallet_frozen(deal.bob, True, sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        token.forced_transfer(deal.alice, deal.bob, 1, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_FROZEN))
    with pytest.raises(ContractRevertError) as exc:
        token.forced_transfer(deal.alice, deal.carol, 600_001, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.INSUFFICIENT_BALANCE))
    with pytest.raises(ContractRevertError) as exc:
        token.forced_transfer(ZERO, deal.carol, 0, sender=deal.admin)
    _expect(exc, "ERC20InvalidSender")


def test_recover_wallet_moves_balance(deal: TokenSetup) -> None:
    token = deal.token
    with pytest.raises(ContractRevertError) as exc:
        token.recover_wallet(deal.alice, deal.carol, sender=deal.admin)
    _expect(exc, "LostWalletNotFrozen", lost=deal.alice)  # the lost wallet is frozen first, in the open
    token.set_wallet_frozen(deal.alice, True, sender=deal.admin)
    receipt = token.recover_wallet(deal.alice, deal.carol, sender=deal.admin)
    (event,) = token.contract.events.WalletRecovered().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["balance"] == 1_000_000
    assert event["args"]["entitlement"] == 0
    assert (token.balance_of(deal.alice), token.balance_of(deal.carol)) == (0, 1_000_000)
    with pytest.raises(ContractRevertError) as exc:
        token.recover_wallet(deal.alice, deal.carol, sender=deal.admin)
    _expect(exc, "NothingToRecover", lost=deal.alice)
    with pytest.raises(ContractRevertError) as exc:
        token.recover_wallet(deal.bob, deal.bob, sender=deal.admin)
    _expect(exc, "SameWallet", wallet=deal.bob)
    token.set_wallet_frozen(deal.bob, True, sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        token.recover_wallet(deal.bob, deal.outsider, sender=deal.admin)
    _expect(exc, "TransferRestricted", code=int(Restriction.RECEIVER_NOT_ALLOWED))
    with pytest.raises(ContractRevertError) as exc:
        token.set_wallet_frozen(ZERO, True, sender=deal.admin)
    _expect(exc, "ZeroAddress")


def test_unpause_before_expiry_needs_the_compliance_role(deal: TokenSetup) -> None:
    deal.token.pause(sender=deal.admin)
    with pytest.raises(ContractRevertError) as exc:
        deal.token.unpause(sender=deal.alice)
    _expect(exc, "PauseNotExpired")


def test_a_spender_that_is_not_an_allowed_investor_cannot_move_a_holders_tokens(chain: Chain, deal: TokenSetup) -> None:
    token = deal.token
    stranger = chain.accounts[9].address  # never passed KYC
    token.approve(stranger, 10, sender=deal.alice)
    assert token.detect_transfer_from_restriction(stranger, deal.alice, deal.bob, 10) == Restriction.SPENDER_RESTRICTED
    with pytest.raises(ContractRevertError) as exc:
        token.transfer_from(deal.alice, deal.bob, 10, sender=stranger)
    _expect(exc, "TransferRestricted", code=Restriction.SPENDER_RESTRICTED)
    token.approve(deal.bob, 10, sender=deal.alice)  # an allowed investor may spend its allowance
    assert token.detect_transfer_from_restriction(deal.bob, deal.alice, deal.bob, 10) == Restriction.SUCCESS
    token.set_wallet_frozen(deal.bob, True, sender=deal.admin)
    restriction = token.detect_transfer_from_restriction(deal.bob, deal.alice, deal.carol, 10)
    assert restriction == Restriction.SPENDER_RESTRICTED
    with pytest.raises(ContractRevertError) as exc:
        token.transfer_from(deal.alice, deal.carol, 10, sender=deal.bob)
    _expect(exc, "TransferRestricted", code=Restriction.SPENDER_RESTRICTED)
    token.set_wallet_frozen(deal.bob, False, sender=deal.admin)
    token.transfer_from(deal.alice, deal.carol, 10, sender=deal.bob)
