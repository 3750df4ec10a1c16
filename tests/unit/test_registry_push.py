"""The registry pushes investor records to its bound tranche tokens; transfers check the tokens' copies.

Binding, syncing, who may push, and that after every kind of registry change each bound token's copy equals the
registry's record and the token's restriction code equals the registry's for the same pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
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
MAX_KYC_EXPIRY = 2**48 - 1


@dataclass
class TokenSetup:
    chain: Chain
    usd: str
    registry: ComplianceRegistry
    tokens: list[TrancheToken]
    admin: str
    wallets: list[str]


@pytest.fixture
def deal(chain: Chain) -> TokenSetup:
    admin = chain.accounts[0].address
    wallets: list[str] = [a.address for a in chain.accounts[1:5]]
    usd = tx.deploy(chain, "TestStablecoin", "Test USD", "tUSD", admin).address
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    senior = TrancheToken.deploy(chain, "Senior", "SNR", usd, registry, admin, gas=GAS)
    junior = TrancheToken.deploy(chain, "Junior", "JNR", usd, registry, admin, gas=GAS)
    return TokenSetup(chain, usd, registry, [senior, junior], admin, wallets)


def _assert_mirrors(deal: TokenSetup) -> None:
    """Each token's copy equals the registry's record, and both answer every pair with the same code."""
    records = {w: deal.registry.investor_of(w) for w in deal.wallets}
    pairs = [(a, b) for a in deal.wallets for b in deal.wallets if a != b]
    codes = {pair: deal.registry.restriction_of(*pair) for pair in pairs}
    for token in deal.tokens:
        for w, r in records.items():
            assert token.investor_record_of(w) == (r.allowed, r.kyc_expiry, r.frozen)
        for pair in pairs:
            assert token.detect_transfer_restriction(*pair, 0) == codes[pair]


def test_points_magnitude_matches_the_contract(deal: TokenSetup) -> None:
    onchain = int(tx.call(deal.tokens[0].contract.functions.POINTS_MAGNITUDE()))
    assert onchain == POINTS_MAGNITUDE


def test_deploy_binds_both_tokens(deal: TokenSetup) -> None:
    assert deal.registry.bound_tokens() == [t.address for t in deal.tokens]
    assert all(t.registry() == deal.registry.address for t in deal.tokens)


def test_every_registry_change_reaches_every_bound_token(deal: TokenSetup) -> None:
    reg, admin = deal.registry, deal.admin
    a, b, c, d = deal.wallets
    expiry = deal.chain.now() + YEAR
    _assert_mirrors(deal)  # nobody known: all zero, all "not allowed"
    receipt = reg.allow_investor(a, expiry, CHINA, sender=admin)
    for token in deal.tokens:
        events = token.contract.events.InvestorSynced().process_receipt(receipt, errors=DISCARD)
        (event,) = [e for e in events if e["address"] == token.address]
        assert dict(event["args"]) == {"investor": a, "allowed": True, "kycExpiry": expiry, "frozen": False}
    _assert_mirrors(deal)
    reg.allow_investors([b, c], [expiry + 1, expiry + 2], [CHINA, CHINA], sender=admin)
    _assert_mirrors(deal)
    reg.update_kyc(b, expiry + YEAR, sender=admin)
    _assert_mirrors(deal)
    reg.set_frozen(c, True, sender=admin)
    reg.set_frozen(d, True, sender=admin)  # frozen before ever being allowed
    _assert_mirrors(deal)
    reg.revoke_investor(a, sender=admin)
    _assert_mirrors(deal)
    reg.allow_investor(d, expiry, CHINA, sender=admin)  # keeps its frozen flag
    reg.set_frozen(c, False, sender=admin)
    _assert_mirrors(deal)
    deal.chain.time_travel(expiry + 1)  # a, c and d expire; b does not
    _assert_mirrors(deal)


def test_token_bound_later_is_synced_from_history(chain: Chain, deal: TokenSetup) -> None:
    reg, admin = deal.registry, deal.admin
    a, b, c, _ = deal.wallets
    expiry = chain.now() + YEAR
    reg.allow_investors([a, b, c], [expiry] * 3, [CHINA] * 3, sender=admin)
    reg.set_frozen(b, True, sender=admin)
    reg.revoke_investor(c, sender=admin)
    late = TrancheToken.deploy(chain, "Mezz", "MZZ", deal.usd, reg, admin, gas=GAS, bind=False)
    # unbound: it knows nobody and refuses to mint, whatever the registry says (fails closed)
    assert late.investor_record_of(a) == (False, 0, False)
    with pytest.raises(ContractRevertError) as exc:
        late.mint(a, 1, sender=admin)
    assert exc.value.error_name == "TransferRestricted"
    assert exc.value.error_args["code"] == Restriction.RECEIVER_NOT_ALLOWED
    with pytest.raises(ContractRevertError) as exc:
        reg.sync_investors(late, [a], sender=admin)
    assert (exc.value.error_name, exc.value.error_args) == ("TokenNotBound", {"token": late.address})
    reg.bind_token(late, sender=admin)
    assert reg.known_investors() == [a, b, c]
    receipts = reg.sync_investors(late, reg.known_investors(), sender=deal.wallets[3])  # anyone may sync
    (event,) = reg.contract.events.InvestorsSynced().process_receipt(receipts[0], errors=DISCARD)
    assert (event["args"]["token"], event["args"]["count"]) == (late.address, 3)
    deal.tokens.append(late)
    _assert_mirrors(deal)
    late.mint(a, 1, sender=admin)


def test_only_the_registry_pushes(deal: TokenSetup) -> None:
    a = deal.wallets[0]
    fn = deal.tokens[0].contract.functions.syncInvestor(a, True, deal.chain.now() + YEAR, False)
    with pytest.raises(ContractRevertError) as exc:
        tx.send(fn, deal.admin, GAS)
    assert (exc.value.error_name, exc.value.error_args) == ("NotRegistry", {"caller": deal.admin})
    assert deal.tokens[0].investor_record_of(a) == (False, 0, False)


def test_bind_reverts_by_custom_error(chain: Chain, deal: TokenSetup) -> None:
    reg, admin = deal.registry, deal.admin
    with pytest.raises(ContractRevertError) as exc:
        reg.bind_token(deal.tokens[0], sender=admin)
    assert (exc.value.error_name, exc.value.error_args) == ("TokenAlreadyBound", {"token": deal.tokens[0].address})
    other = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    foreign = TrancheToken.deploy(chain, "F", "F", deal.usd, other, admin, gas=GAS, bind=False)
    with pytest.raises(ContractRevertError) as exc:
        reg.bind_token(foreign, sender=admin)
    assert (exc.value.error_name, exc.value.error_args) == (
        "TokenRegistryMismatch",
        {"token": foreign.address, "tokenRegistry": other.address},
    )
    with pytest.raises(ContractRevertError) as exc:
        reg.bind_token("0x" + "00" * 20, sender=admin)
    assert exc.value.error_name == "ZeroAddress"
    with pytest.raises(ContractRevertError) as exc:
        reg.bind_token(foreign, sender=deal.wallets[0])
    assert exc.value.error_name == "AccessControlUnauthorizedAccount"
    cap = int(tx.call(reg.contract.functions.MAX_BOUND_TOKENS()))
    for i in range(cap - len(deal.tokens)):
        TrancheToken.deploy(chain, f"T{i}", f"T{i}", deal.usd, reg, admin, gas=GAS)
    assert len(reg.bound_tokens()) == cap
    extra = TrancheToken.deploy(chain, "X", "X", deal.usd, reg, admin, gas=GAS, bind=False)
    with pytest.raises(ContractRevertError) as exc:
        reg.bind_token(extra, sender=admin)
    assert (exc.value.error_name, exc.value.error_args) == ("TooManyTokens", {"cap": cap})


def test_kyc_expiry_must_fit_the_tokens_48_bits(deal: TokenSetup) -> None:
    reg, admin, a = deal.registry, deal.admin, deal.wallets[0]
    for call in (
        lambda: reg.allow_investor(a, MAX_KYC_EXPIRY + 1, CHINA, sender=admin),
        lambda: reg.allow_investors([a], [MAX_KYC_EXPIRY + 1], [CHINA], sender=admin),
    ):
        with pytest.raises(ContractRevertError) as exc:
            call()
        assert (exc.value.error_name, exc.value.error_args) == (
            "KycExpiryTooLate",
            {"investor": a, "kycExpiry": MAX_KYC_EXPIRY + 1, "maxKycExpiry": MAX_KYC_EXPIRY},
        )
    reg.allow_investor(a, MAX_KYC_EXPIRY, CHINA, sender=admin)
    with pytest.raises(ContractRevertError) as exc:
        reg.update_kyc(a, MAX_KYC_EXPIRY + 1, sender=admin)
    assert exc.value.error_name == "KycExpiryTooLate"
    _assert_mirrors(deal)


def test_batch_allow_cost_per_investor_with_two_tokens(deal: TokenSetup) -> None:
    investors = [f"0x{i:040x}" for i in range(1, 21)]
    expiry = deal.chain.now() + YEAR
    (receipt,) = deal.registry.allow_investors(investors, [expiry] * 20, [CHINA] * 20, sender=deal.admin)
    # one fresh slot in the registry and one in each token (22.1k each); three events (about 2k each), two calls
    # with their encoding (about 2.5k each), calldata and loop (about 3k), the 21k of the transaction spread
    assert receipt["gasUsed"] / 20 < 3 * 22_100 + 15_000
    assert all(t.investor_record_of(investors[-1]) == (True, expiry, False) for t in deal.tokens)
