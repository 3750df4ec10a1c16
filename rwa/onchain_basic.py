"""Deployment of the test stablecoin, refused on any chain that is not a local development chain."""

from __future__ import annotations

from web3.contract import Contract

from rwa.chain import Chain
from rwa.errors import InputError
from rwa.tx import deploy


def deploy_test_stablecoin(chain: Chain, owner: str, *, force: bool = False) -> Contract:
    if not chain.is_dev and not force:
        raise InputError(
            f"chain {chain.chain_id} is not a local development chain: name the deal's stablecoin address instead "
            "of deploying the test stablecoin (or force it explicitly)"
        )
    return deploy(chain, "TestStablecoin", "Test USD", "tUSD", owner, sender=owner)
