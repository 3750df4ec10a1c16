"""Fixtures of the pool's unit tests: one default deal per module, each test starting from its snapshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rwa.chain import Chain
from tests.support.pool_system import PoolSystem, deploy_pool_system


@pytest.fixture(scope="module")
def deployed(session_chain: Chain) -> Iterator[PoolSystem]:
    """One default deal per module; each test starts from it through the ``chain`` fixture's snapshot."""
    with session_chain.snapshot():
        yield deploy_pool_system(session_chain)


@pytest.fixture
def system(deployed: PoolSystem, chain: Chain) -> PoolSystem:
    return deployed
