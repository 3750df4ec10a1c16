"""The conformance suite's chain: the same tests run on every backend of :mod:`rwa.chain` (eth-tester's
``backends/base.py`` and titanoboa's ``NetworkEnv`` are held to one suite the same way).

- ``embedded-fast``: the embedded chain with its fast path (the default);
- ``embedded-plain``: the embedded chain answering through plain eth-tester and web3.py (``RWA_FAST_PATH=0``);
- ``anvil``: a JSON-RPC node (marked ``anvil``).

Each chain is made once per session and put back by a snapshot after every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from rwa.build.compile import Build
from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from tests.support.anvil import AnvilNode

BACKENDS = ["embedded-fast", "embedded-plain", pytest.param("anvil", marks=pytest.mark.anvil)]


@pytest.fixture(scope="session")
def _embedded_fast(tmp_path_factory: pytest.TempPathFactory, build: Build) -> Iterator[Chain]:
    with connect(state=tmp_path_factory.mktemp("fast") / "chain.sqlite", fast=True) as chain:
        yield chain


@pytest.fixture(scope="session")
def _embedded_plain(tmp_path_factory: pytest.TempPathFactory, build: Build) -> Iterator[Chain]:
    with connect(state=tmp_path_factory.mktemp("plain") / "chain.sqlite", fast=False) as chain:
        yield chain


@pytest.fixture(scope="session")
def _anvil(anvil: AnvilNode, build: Build) -> Iterator[Chain]:
    with connect(rpc_url=anvil.url, accounts=[Account.from_key(k) for k in anvil.private_keys]) as chain:
        yield chain


@pytest.fixture(params=BACKENDS)
def backend_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """One backend's chain, reverted to this point after the test."""
    chain: Chain = request.getfixturevalue("_" + str(request.param).replace("-", "_"))
    with chain.snapshot():
        yield chain
