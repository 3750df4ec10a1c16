"""Fixtures of the unit tests: the example deal and its sizing (loaded once), and a default pool system per module
whose snapshot each test starts from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rwa.chain.interface import Chain
from rwa.leverage.sizing import Sizing, size_deal
from rwa.model.deal import Deal
from rwa.model.deal_file import load_deal
from tests.support.deals import EXAMPLE_DEAL
from tests.support.pool_system import PoolSystem, deploy_pool_system


@pytest.fixture(scope="module")
def deployed(session_chain: Chain) -> Iterator[PoolSystem]:
    """One default deal per module; each test starts from it through the ``chain`` fixture's snapshot."""
    with session_chain.snapshot():
        yield deploy_pool_system(session_chain)


@pytest.fixture
def system(deployed: PoolSystem, chain: Chain) -> PoolSystem:
    return deployed


@pytest.fixture(scope="session")
def deal() -> Deal:
    """The example deal (modules about a token set-up override this name with their own fixture)."""
    return load_deal(EXAMPLE_DEAL)


@pytest.fixture(scope="session")
def sizing(deal: Deal) -> Sizing:
    """The calculator's sizing of the example deal."""
    return size_deal(deal)
