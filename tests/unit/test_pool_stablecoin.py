"""The stablecoin wrapper: TestStablecoin only on development chains unless forced; ERC-20 calls by integer units."""

from __future__ import annotations

import pytest

from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError, InputError
from rwa.onchain.stablecoin import Stablecoin


class PublicNetwork(Chain):
    """The embedded chain presented as a public network, to exercise the deploy guard."""

    @property
    def is_dev(self) -> bool:
        return False


def test_deploy_test_refuses_a_public_chain_unless_forced(chain: Chain) -> None:
    public = PublicNetwork(chain.backend, chain.accounts)
    owner = chain.accounts[0].address
    with pytest.raises(InputError, match="not a local development chain"):
        Stablecoin.deploy_test(public, owner)
    forced = Stablecoin.deploy_test(public, owner, force=True)
    assert forced.decimals() == 6


def test_mint_approve_transfer_and_balances(chain: Chain) -> None:
    owner, alice, bob = (a.address for a in chain.accounts[:3])
    usd = Stablecoin.deploy_test(chain, owner)
    usd.mint(alice, 1_000_000, sender=owner)
    usd.transfer(bob, 250_000, sender=alice)
    usd.approve(bob, 10, sender=alice)
    assert (usd.balance_of(alice), usd.balance_of(bob), usd.total_supply()) == (750_000, 250_000, 1_000_000)
    assert usd.allowance(alice, bob) == 10
    assert Stablecoin.at(chain, usd.address).balance_of(bob) == 250_000
    with pytest.raises(ContractRevertError) as info:
        usd.mint(alice, 1, sender=alice)
    assert info.value.error_name == "OwnableUnauthorizedAccount"
