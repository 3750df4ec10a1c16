"""ComplianceRegistry: the investor list, its roles, its events and every revert path by custom error."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.onchain.registry import ComplianceRegistry, InvestorRecord
from rwa.onchain.tranche import Restriction
from tests.support.reverts import reverts

GAS = 3_000_000
YEAR = 365 * 86_400
CHINA, SINGAPORE = 156, 702


@pytest.fixture
def registry(chain: Chain) -> ComplianceRegistry:
    return ComplianceRegistry.deploy(chain, chain.accounts[0].address, gas=GAS)


def test_admin_holds_every_role(chain: Chain, registry: ComplianceRegistry) -> None:
    admin = chain.accounts[0].address
    assert all(registry.has_role(role, admin) for role in ComplianceRegistry.ROLES)
    assert not registry.has_role("COMPLIANCE_ROLE", chain.accounts[1].address)


def test_allow_records_investor_and_emits(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, investor = chain.accounts[0].address, chain.accounts[1].address
    expiry = chain.now() + YEAR
    receipt = registry.allow_investor(investor, expiry, CHINA, sender=admin)
    assert registry.investor_of(investor) == InvestorRecord(True, False, expiry, CHINA)
    assert registry.is_compliant(investor)
    (event,) = registry.contract.events.InvestorAllowed().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["investor"] == investor
    assert (event["args"]["kycExpiry"], event["args"]["jurisdiction"]) == (expiry, CHINA)
    assert event["args"]["by"] == admin


def test_unknown_wallet_is_all_zero_and_restricted(chain: Chain, registry: ComplianceRegistry) -> None:
    stranger = chain.accounts[9].address
    assert registry.investor_of(stranger) == InvestorRecord(False, False, 0, 0)
    assert not registry.is_compliant(stranger)
    assert registry.restriction_of(stranger, None) == Restriction.SENDER_NOT_ALLOWED
    assert registry.restriction_of(None, stranger) == Restriction.RECEIVER_NOT_ALLOWED
    assert registry.restriction_of(None, None) == Restriction.SUCCESS


def test_restriction_checks_sender_before_receiver(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, a, b = (acct.address for acct in chain.accounts[:3])
    expiry = chain.now() + YEAR
    registry.allow_investors([a, b], [expiry, expiry], [CHINA, SINGAPORE], sender=admin)
    assert registry.restriction_of(a, b) == Restriction.SUCCESS
    registry.set_frozen(b, True, sender=admin)
    assert registry.restriction_of(a, b) == Restriction.RECEIVER_FROZEN
    registry.set_frozen(a, True, sender=admin)
    assert registry.restriction_of(a, b) == Restriction.SENDER_FROZEN
    registry.revoke_investor(a, sender=admin)
    assert registry.restriction_of(a, b) == Restriction.SENDER_NOT_ALLOWED


def test_kyc_expires_at_its_timestamp(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, a, b = (acct.address for acct in chain.accounts[:3])
    expiry = chain.now() + 1_000
    registry.allow_investors([a, b], [expiry, expiry + 10], [CHINA, CHINA], sender=admin)
    chain.time_travel(expiry)
    assert chain.now() >= expiry
    assert registry.restriction_of(a, None) == Restriction.SENDER_KYC_EXPIRED
    assert registry.restriction_of(b, a) == Restriction.RECEIVER_KYC_EXPIRED
    registry.update_kyc(a, chain.now() + YEAR, sender=admin)
    assert registry.restriction_of(a, None) == Restriction.SUCCESS


def test_revoke_keeps_frozen_flag_and_jurisdiction(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, a = chain.accounts[0].address, chain.accounts[1].address
    registry.allow_investor(a, chain.now() + YEAR, SINGAPORE, sender=admin)
    registry.set_frozen(a, True, sender=admin)
    receipt = registry.revoke_investor(a, sender=admin)
    assert registry.investor_of(a) == InvestorRecord(False, True, 0, SINGAPORE)
    assert len(registry.contract.events.InvestorRevoked().process_receipt(receipt, errors=DISCARD)) == 1


def test_every_change_emits_its_event(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, a = chain.accounts[0].address, chain.accounts[1].address
    registry.allow_investor(a, chain.now() + YEAR, CHINA, sender=admin)
    receipt = registry.update_kyc(a, chain.now() + 2 * YEAR, sender=admin)
    assert len(registry.contract.events.KycUpdated().process_receipt(receipt, errors=DISCARD)) == 1
    receipt = registry.set_frozen(a, True, sender=admin)
    (frozen,) = registry.contract.events.InvestorFrozen().process_receipt(receipt, errors=DISCARD)
    assert frozen["args"]["frozen"] is True
    assert frozen["args"]["by"] == admin


def test_batch_allow_of_many_investors(chain: Chain, registry: ComplianceRegistry) -> None:
    admin = chain.accounts[0].address
    investors = [f"0x{i:040x}" for i in range(1, 121)]
    expiry = chain.now() + YEAR
    receipts = registry.allow_investors(
        investors, [expiry] * len(investors), [CHINA] * len(investors), sender=admin, batch_size=50
    )
    assert len(receipts) == 3
    assert all(registry.is_compliant(i) for i in investors[::17])
    per_investor = receipts[0]["gasUsed"] / 50
    assert per_investor < 30_000  # one fresh slot (22.1k) plus the event and the loop


def test_reverts_by_custom_error(chain: Chain, registry: ComplianceRegistry) -> None:
    admin, a, outsider = chain.accounts[0].address, chain.accounts[1].address, chain.accounts[5].address
    zero = "0x" + "00" * 20
    now = chain.now()
    reverts(lambda: registry.allow_investor(a, now + YEAR, CHINA, sender=outsider),
            "AccessControlUnauthorizedAccount", account=outsider)
    reverts(lambda: registry.set_frozen(a, True, sender=outsider), "AccessControlUnauthorizedAccount")
    reverts(lambda: registry.allow_investor(zero, now + YEAR, CHINA, sender=admin), "ZeroAddress")
    reverts(lambda: registry.set_frozen(zero, True, sender=admin), "ZeroAddress")
    reverts(lambda: registry.allow_investor(a, now - 1, CHINA, sender=admin), "KycExpiryNotInFuture",
            kycExpiry=now - 1)
    for bad in (0, 1000):
        err = reverts(lambda b=bad: registry.allow_investor(a, now + YEAR, b, sender=admin), "InvalidJurisdiction")
        assert err.error_args == {"investor": a, "jurisdiction": bad}
    assert reverts(lambda: registry.update_kyc(a, now + YEAR, sender=admin), "NotAnInvestor").error_args == {
        "investor": a
    }
    reverts(lambda: registry.revoke_investor(a, sender=admin), "NotAnInvestor")
    registry.allow_investor(a, now + YEAR, CHINA, sender=admin)
    reverts(lambda: registry.update_kyc(a, 5, sender=admin), "KycExpiryNotInFuture")
    fn = registry.contract.functions.allowInvestors([a], [now + YEAR, now + YEAR], [CHINA])
    err = reverts(lambda: tx.send(fn, admin, GAS), "LengthMismatch")
    assert err.error_args == {"investors": 1, "kycExpiries": 2, "jurisdictions": 1}


def test_wrapper_rejects_bad_input(chain: Chain, registry: ComplianceRegistry) -> None:
    admin = chain.accounts[0].address
    with pytest.raises(InputError):
        registry.allow_investors([admin], [1, 2], [CHINA], sender=admin)
    with pytest.raises(InputError):
        registry.allow_investor("not-an-address", 1, CHINA, sender=admin)
    with pytest.raises(InputError):
        registry.has_role("ISSUER", admin)
