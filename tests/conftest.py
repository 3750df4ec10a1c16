"""Shared fixtures: one embedded chain per session, rolled back around every test; an anvil node when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from rwa.build.compile import Build, load_build
from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from tests.support.anvil import AnvilNode, start_anvil
from tests.support.hardhat_node import HardhatNode, start_hardhat
from tests.support.nodes import LocalNode


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test keeps its local records (default chain, manifests, ledgers) in a folder of its own, never in the
    checkout's ``.rwa``: tests may then run in parallel, and a developer's own chain is never touched."""
    monkeypatch.setenv("RWA_HOME", str(tmp_path_factory.mktemp("rwa-home")))


@pytest.fixture(scope="session")
def build() -> Build:
    return load_build()


@pytest.fixture(scope="session")
def session_chain(tmp_path_factory: pytest.TempPathFactory, build: Build) -> Iterator[Chain]:
    chain = connect(state=tmp_path_factory.mktemp("chain") / "chain.sqlite")
    yield chain
    chain.close()


@pytest.fixture
def chain(session_chain: Chain) -> Iterator[Chain]:
    """The session's embedded chain, reverted to this point after the test."""
    with session_chain.snapshot():
        yield session_chain


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    node = start_anvil()
    yield node
    node.stop()


def _node_chain(node: LocalNode) -> Iterator[Chain]:
    """A connection to ``node`` signing with its keys, the node reverted to this point after the test."""
    chain = connect(rpc_url=node.url, accounts=[Account.from_key(k) for k in node.private_keys])
    with chain, chain.snapshot():
        yield chain


@pytest.fixture
def anvil_chain(anvil: AnvilNode, build: Build) -> Iterator[Chain]:
    yield from _node_chain(anvil)


@pytest.fixture(scope="session")
def anvil_interval() -> Iterator[AnvilNode]:
    """anvil mining a block every second whether or not a transaction waits, as a real network does."""
    node = start_anvil(block_time=1)
    yield node
    node.stop()


@pytest.fixture
def anvil_interval_chain(anvil_interval: AnvilNode, build: Build) -> Iterator[Chain]:
    yield from _node_chain(anvil_interval)


@pytest.fixture(scope="session")
def hardhat() -> Iterator[HardhatNode]:
    """Hardhat's node (from node_modules), a second JSON-RPC node implementation."""
    node = start_hardhat()
    yield node
    node.stop()


@pytest.fixture
def hardhat_chain(hardhat: HardhatNode, build: Build) -> Iterator[Chain]:
    yield from _node_chain(hardhat)


@pytest.fixture(params=["embedded", "anvil"])
def any_chain(request: pytest.FixtureRequest) -> Chain:
    """Runs a test once on each backend."""
    name = "chain" if request.param == "embedded" else "anvil_chain"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
