"""A stablecoin that blacklists the fee recipient (as USDC and USDT can) does not stop the holders' distribution:
the refused fee is owed and paid once the recipient can receive again."""

from __future__ import annotations

import pytest

from rwa.chain.interface import Chain
from rwa.chain.tx import contract_at, send
from rwa.errors import ContractRevertError
from tests.support.pool_system import deploy_pool_system
from tests.support.reverts import reverts


def test_a_blacklisted_fee_recipient_cannot_stop_distributions(chain: Chain) -> None:
    s = deploy_pool_system(chain, stablecoin="BlacklistStablecoin")
    coin = contract_at(chain, "BlacklistStablecoin", s.usd.address)
    send(coin.functions.setBlacklisted(s.fee_recipient, True), s.admin, 100_000)
    s.deposit(1, 1_000_000)
    s.report(1, 1_000_000)
    legs = s.legs(s.distribute(1))
    assert legs.fee > 0 and legs.senior_paid > 0
    assert s.pool.fees_owed() == legs.fee and s.usd.balance_of(s.fee_recipient) == 0
    assert s.usd.balance_of(s.senior.address) == legs.senior_paid  # the holders were paid all the same
    deferred = s.pool.contract.events.FeeDeferred().get_logs(from_block=0)
    assert [(e["args"]["recipient"], e["args"]["amount"]) for e in deferred] == [(s.fee_recipient, legs.fee)]
    with pytest.raises(ContractRevertError, match="Blacklisted"):
        s.pool.pay_fees(sender=s.servicer)
    send(coin.functions.setBlacklisted(s.fee_recipient, False), s.admin, 100_000)
    s.pool.pay_fees(sender=s.servicer)
    assert s.usd.balance_of(s.fee_recipient) == legs.fee and s.pool.fees_owed() == 0
    reverts(lambda: s.pool.pay_fees(sender=s.servicer), "NoFeesOwed")
