"""Fixtures of the replay tests: one short issued-and-running deal per module, restored before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rwa.chain.interface import Chain
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import load_manifest
from tests.support.lifecycle import run_lifecycle


@pytest.fixture(scope="module")
def history(session_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path]]:
    """A three-period lifecycle (issue, publish, distribute, a transfer, two claims) and a snapshot after it."""
    with session_chain.snapshot():
        folder = tmp_path_factory.mktemp("lifecycle")
        _, manifest = run_lifecycle(session_chain, folder, periods=3)
        yield session_chain.take_snapshot(), manifest


@pytest.fixture
def deal(chain: Chain, history: tuple[object, Path]) -> DeployedDeal:
    snapshot, manifest = history
    chain.revert_to(snapshot)
    return open_deployment(chain, load_manifest(manifest))
