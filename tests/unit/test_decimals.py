"""A tranche token's decimals are its stablecoin's; issuance's idea of the test stablecoin's is the contract's."""

from __future__ import annotations

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.model.units import MAX_POINTS_PER_SHARE, MAX_TOTAL_DISTRIBUTED
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.stablecoin import TEST_DECIMALS as TEST_STABLECOIN_DECIMALS
from rwa.onchain.stablecoin import Stablecoin
from rwa.onchain.tranche import TrancheToken

GAS = 3_000_000


def test_a_token_over_an_18_decimal_erc20_reports_18(chain: Chain) -> None:
    admin = chain.accounts[0].address
    coin = tx.deploy(chain, "Decimals18Token", 10**24, sender=admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Senior", "SNR", coin.address, registry, admin, gas=GAS)
    assert token.decimals() == 18


def test_a_token_over_the_test_stablecoin_reports_its_decimals(chain: Chain) -> None:
    admin = chain.accounts[0].address
    usd = Stablecoin.deploy_test(chain, admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Junior", "JNR", usd.address, registry, admin, gas=GAS)
    assert usd.decimals() == TEST_STABLECOIN_DECIMALS == token.decimals()


def test_operate_distribution_bounds_are_the_token_constants(chain: Chain) -> None:
    admin = chain.accounts[0].address
    usd = Stablecoin.deploy_test(chain, admin)
    registry = ComplianceRegistry.deploy(chain, admin, gas=GAS)
    token = TrancheToken.deploy(chain, "Senior", "SNR", usd.address, registry, admin, gas=GAS)
    functions = token.contract.functions
    assert tx.call(functions.MAX_TOTAL_DISTRIBUTED()) == MAX_TOTAL_DISTRIBUTED
    assert tx.call(functions.MAX_POINTS_PER_SHARE()) == MAX_POINTS_PER_SHARE
