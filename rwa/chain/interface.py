"""One way to reach a chain: a :class:`Chain` front over one :class:`Backend`, got from
:func:`rwa.chain.connect.connect`.

The rest of the project holds a :class:`Chain` and never asks which backend is underneath (eth-tester's
``backends/base.py`` and titanoboa's ``NetworkEnv`` are the model): it asks the chain for views, sends and their
receipts, logs, blocks, senders, the development clock and snapshots, and each backend answers in its own way.

- the embedded backend (:mod:`rwa.chain.embedded`): eth-tester's in-process chain kept in a state file
  (:mod:`rwa.chain.state_log`), reached directly through py-evm by its fast path unless ``RWA_FAST_PATH=0`` (or
  ``connect(fast=False)``) asks it to answer through plain eth-tester and web3.py;
- the JSON-RPC backend (:mod:`rwa.chain.rpc`): any node at an http(s) URL or an IPC path.

Both sign locally with the accounts the chain holds. What differs between them is a capability, never a name:
:attr:`Chain.is_dev` (a development clock and test tokens), :attr:`Chain.logs_complete` (the chain's own blocks are
read, so no log can be left out), :attr:`Chain.local_views` (a view costs no round trip, so batching saves nothing),
:meth:`Chain.preset_gas` (the chain sends with preset limits rather than estimating).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import BlockIdentifier, FilterParams, LogReceipt

from rwa.chain.backend import Backend, checksummed
from rwa.errors import ChainError, InputError

__all__ = ["DEFAULT_RECEIPT_TIMEOUT", "Chain", "chain_of", "checksummed", "front"]

DEFAULT_RECEIPT_TIMEOUT = 120.0
"""Seconds a send waits for its receipt on a node (web3.py's own default)."""


class Chain:
    """A connected chain: its backend plus the local accounts that sign for it."""

    def __init__(self, backend: Backend, accounts: list[LocalAccount]) -> None:
        self.backend = backend
        self.accounts = accounts

    @property
    def w3(self) -> Web3:
        """A web3.py connection to the chain, signing with :attr:`accounts`."""
        return self.backend.w3

    @property
    def kind(self) -> str:
        """A label for people ('embedded' or 'rpc'); decisions ask a capability instead."""
        return self.backend.kind

    @property
    def location(self) -> str:
        """The state file's path or the node's URL."""
        return self.backend.location

    @property
    def network(self) -> str:
        """What a manifest records as the network: 'embedded' or the node's URL."""
        return self.backend.network

    @property
    def chain_id(self) -> int:
        """The chain's id, asked once: a connection stays on one chain."""
        return self.backend.chain_id

    @property
    def is_dev(self) -> bool:
        """True on a local development chain, where test tokens and clock moves are allowed."""
        return self.backend.is_dev

    @property
    def logs_complete(self) -> bool:
        """True when the logs are read from the chain's own blocks in this process, so none can be left out."""
        return self.backend.logs_complete

    @property
    def mines_at_once(self) -> bool:
        """True when each transaction is mined as it is sent (the embedded chain): a batch goes one by one."""
        return self.backend.mines_at_once

    def preset_gas(self, limit: int | None) -> int | None:
        """The gas to send a method with whose own limit is ``limit``: that limit on a chain that sends with preset
        limits (the embedded chain), None elsewhere (the node estimates)."""
        return limit if self.backend.default_gas_limit is not None else None

    # -- accounts -------------------------------------------------------------------------------------------------

    def account(self, address: str) -> LocalAccount:
        for acct in self.accounts:
            if acct.address.lower() == address.lower():
                return acct
        raise InputError(f"no signing key for {address}: add it to RWA_PRIVATE_KEYS or RWA_KEYSTORE")

    def add_accounts(self, accounts: Sequence[LocalAccount]) -> None:
        """Let more local keys sign (e.g. the demo's investors)."""
        known = {a.address for a in self.accounts}
        new = [a for a in accounts if a.address not in known]
        if not new:
            return
        self.accounts.extend(new)
        self.backend.add_keys(new)

    # -- blocks and the clock -------------------------------------------------------------------------------------

    def now(self) -> int:
        """The time the next transaction will see: the pending block's timestamp (on eth-tester it is stamped with
        the wall clock when the previous block is mined, which can be far past the latest block's)."""
        return self.backend.pending_timestamp()

    def head(self) -> tuple[int, int]:
        """The latest block's number and timestamp."""
        return self.backend.head()

    def block(self, number: int) -> tuple[bytes, int]:
        """Canonical block ``number``'s hash and timestamp."""
        return self.backend.block(number)

    def block_hash(self, number: int) -> str | None:
        """The 0x-hex hash of canonical block ``number``; None past the head."""
        if number < 0 or number > self.head()[0]:
            return None
        return "0x" + self.backend.block(number)[0].hex()

    def sender_of(self, tx_hash: str | bytes, number: int) -> str:
        """Who signed the transaction ``tx_hash`` (0x-hex or bytes) mined in block ``number`` (checksummed)."""
        raw = tx_hash if isinstance(tx_hash, bytes) else bytes.fromhex(tx_hash.removeprefix("0x"))
        return self.backend.sender_of(raw, number)

    def code_hash(self, address: str) -> bytes:
        """The keccak of the code at ``address`` at the head: it fixes a contract's immutables."""
        return self.backend.code_hash(address)

    # -- views and logs -------------------------------------------------------------------------------------------

    def call(self, to: str | None, data: bytes, sender: str, block: BlockIdentifier = "latest") -> tuple[bool, bytes]:
        """A view call of ``data`` at ``block``: ``(True, output)`` or ``(False, revert data)``
        (:func:`rwa.chain.tx.call` decodes both)."""
        return self.backend.call(to, data, sender, block)

    @property
    def local_views(self) -> bool:
        """A view call costs no round trip here (several views run one by one cost less than one batch)."""
        return self.backend.local_views

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] = (),
                 topics: Sequence[Any] = ()) -> list[LogReceipt]:
        """The logs of blocks ``from_block``..``to_block`` of ``addresses`` (all when empty) matching ``topics``
        (per position None, one topic or a list of topics), in chain order, as web3.py returns them."""
        return self.backend.get_logs(from_block, to_block, addresses, topics)

    def get_logs_of(self, queries: Sequence[FilterParams]) -> list[list[LogReceipt]]:
        """Each of several ``eth_getLogs`` queries' logs (numbered block bounds), in the queries' order: a node is
        asked query by query, the embedded chain scans their blocks once."""
        return self.backend.get_logs_of(queries)

    # -- sends ----------------------------------------------------------------------------------------------------

    def nonce(self, address: str) -> int:
        """The nonce ``address``'s next transaction takes (its pending transactions counted)."""
        return self.backend.nonce(address)

    def gas_price(self) -> int:
        """A legacy fee per gas the next blocks take."""
        return self.backend.gas_price()

    def transact(self, sender: str, to: str | None, data: bytes, gas: int | None, value: int = 0) -> str:
        """Sign a transaction from ``sender``'s local key and send it; its hash (0x-hex). Without ``gas`` the node
        estimates it, and a revert in the estimate raises before anything is sent."""
        return "0x" + self.backend.transact(sender, to, data, gas, value).hex()

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction; its hash (0x-hex). On the embedded chain it is mined when this returns."""
        return "0x" + self.backend.send_raw(raw).hex()

    def send_raw_unless_reverted(self, raw: bytes) -> str | None:
        """Broadcast a signed transaction unless it reverts; its hash, or None when it reverts and nothing of it was
        kept. The embedded chain runs it and takes it back when it reverts (no block, no nonce used); a node runs it
        as a call first (one ``eth_call``) and broadcasts it only if that passes."""
        tx_hash = self.backend.send_raw_unless_reverted(raw)
        return None if tx_hash is None else "0x" + tx_hash.hex()

    def wait_for_receipt(self, tx_hash: str, timeout: float = DEFAULT_RECEIPT_TIMEOUT) -> Any:
        """The receipt of ``tx_hash``, waiting up to ``timeout`` seconds for it to be mined (web3.py's
        ``TimeExhausted`` when it is not); on the embedded chain a sent transaction is mined already."""
        return self.backend.receipt(bytes.fromhex(tx_hash.removeprefix("0x")), timeout)

    # -- the development clock and snapshots ----------------------------------------------------------------------

    def time_travel(self, timestamp: int) -> None:
        """Move a development chain's clock forward to ``timestamp`` (mines one block)."""
        if not self.is_dev:
            raise ChainError("the clock can only be moved on a local development chain")
        if timestamp <= self.now():
            return  # the next block is stamped at or past the target already
        self.backend.time_travel(timestamp)

    def mine(self) -> None:
        """Mine a block on a development chain now: its timestamp is at least the pending one."""
        if not self.is_dev:
            raise ChainError("blocks can only be mined on demand on a local development chain")
        self.backend.mine()

    def take_snapshot(self) -> object:
        """Remember the chain's state (``evm_snapshot``: eth-tester and development nodes such as anvil); the id is
        opaque (an integer on eth-tester, a hex string on anvil)."""
        return self.backend.take_snapshot()

    def revert_to(self, snapshot: object) -> None:
        """Go back to a state from :meth:`take_snapshot`; later blocks are forgotten."""
        self.backend.revert_to(snapshot)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Chain]:
        """Run the body, then put the chain back as it was (the tests' isolation; development chains only)."""
        if not self.is_dev:
            raise ChainError("snapshots are for local development chains")
        taken = self.take_snapshot()
        try:
            yield self
        finally:
            self.revert_to(taken)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Chain({self.kind} at {self.location}, {len(self.accounts)} keys)"


_CHAIN_ATTRIBUTE = "_rwa_chain"


def chain_of(w3: Web3) -> Chain:
    """The :class:`Chain` :func:`rwa.chain.connect.connect` made around ``w3`` (a contract binding knows only its
    ``w3``)."""
    chain = getattr(w3, _CHAIN_ATTRIBUTE, None)
    if not isinstance(chain, Chain):
        raise ChainError("this web3 connection was not made by rwa.chain.connect()")
    return chain


def front(backend: Backend, signers: list[LocalAccount]) -> Chain:
    """The :class:`Chain` over ``backend``, signing with ``signers`` (the first is the default sender):
    :func:`rwa.chain.connect.connect` builds one around the backend it opened."""
    chain = Chain(backend, signers)
    setattr(backend.w3, _CHAIN_ATTRIBUTE, chain)
    if signers:
        backend.add_keys(signers)
        backend.w3.eth.default_account = signers[0].address
    return chain
