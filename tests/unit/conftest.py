"""Fixtures of the pool's unit tests: one default deal per module, each test starting from its snapshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.types import RPCEndpoint

from rwa.chain import Chain
from tests.support.pool_system import PoolSystem, deploy_pool_system


@pytest.fixture(scope="module")
def deployed(session_chain: Chain) -> Iterator[PoolSystem]:
    """One default deal per module; each test starts from it through the ``chain`` fixture's snapshot."""
    provider = session_chain.w3.provider
    snapshot = provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    yield deploy_pool_system(session_chain)
    provider.make_request(RPCEndpoint("evm_revert"), [snapshot])


@pytest.fixture
def system(deployed: PoolSystem, chain: Chain) -> PoolSystem:
    return deployed
